"""The job-agnostic parent workflow: a sliding window of child workflows, one per topic, then the
report. It stays small at any batch size:

* the topics are read in pages from the batch's topic file (an activity), never passed in;
* at most ``concurrency`` children run at once; each tells the parent by signal when it ends
  (``topic_done``), since a parent that continued as new cannot await the children an earlier run
  started (children are started with ``ParentClosePolicy.ABANDON`` for the same reason);
* a run continues as new after ``events_per_run`` history events or MAX_STARTS_PER_RUN children
  (Temporal allows 2,000 pending children per execution), handing over only counts, the read
  position and the running topics' line numbers;
* outcomes stay out of history: children write result files, the report activity reads them.

Sandbox-safe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from runner.contract.budget import BUDGET_WAIT, BudgetAnswer, BudgetAsk, BudgetSpent, BudgetState
    from runner.contract.delivery import CALL_SIGNAL, DeliveryState, Gathered
    from runner.contract.names import (
        BATCH_WORKFLOW,
        BUDGET_SPENT_SIGNAL,
        BUDGET_UPDATE,
        CHECK_TOPICS_ACTIVITY,
        MODEL_OUT_SIGNAL,
        PROGRESS_QUERY,
        READ_TOPICS_ACTIVITY,
        TELL_TOPICS_ACTIVITY,
        TOPIC_DONE_SIGNAL,
        TOPIC_IDS_ACTIVITY,
        TOPICS_QUERY,
        WRITE_REPORT_ACTIVITY,
        child_id,
        run_output_dir,
        topic_dir,
    )
    from runner.contract.policy import DEFAULT_RETRY
    from runner.contract.types import (
        BatchInput,
        BatchProgress,
        BatchResult,
        BatchState,
        ClosedTopics,
        PageItem,
        ReportInput,
        ReportOutput,
        TellTopics,
        TopicDone,
        TopicIdsRequest,
        TopicInput,
        TopicPage,
        TopicPageRequest,
    )
    from runner.workflow.budget import Ledger
    from runner.workflow.delivery import Gatherer

# Children one run starts before it continues as new (Temporal: at most 2,000 pending children
# per execution, and each child costs the parent's history about five events).
MAX_STARTS_PER_RUN = 1000
# Children started in one go (one workflow task), and the most whose start the server has not yet
# confirmed: the history between two checks of its length grows by a bounded amount.
START_BATCH = 200
# Since this patch, a run starts the next topics as soon as a slot frees instead of waiting until
# the server confirmed every start of the last batch (which kept the window mostly empty: a
# one-step topic ends in about a second, 170 starts took the server 20 s to confirm under load).
FLOWING_STARTS = "runner.batch-starts-flow"
# A continued run learns its running topics' names inside the part that handles a cancellation:
# before, a cancel that came while it did ended the run at once, with no report and its topics
# running on (seen under load: the new run's first activity waits longer).
NAMES_UNDER_CANCEL = "runner.batch-names-under-cancel"
# Running topics per activity that signals, cancels, checks or names them.
PAGE = 1000
CANCEL_SWEEP_S = 3.0  # while cancelling, how often to look for topics that ended unheard
SHOWN_RUNNING = 10
ENGINE_TIMEOUT = timedelta(minutes=1)
REPORT_TIMEOUT = timedelta(minutes=30)
REPORT_HEARTBEAT = timedelta(minutes=2)

# Set by Temporal on a workflow a schedule started: the time it was due (before jitter).
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

T = TypeVar("T")


def _pages(items: Sequence[T]) -> Iterator[list[T]]:
    for i in range(0, len(items), PAGE):
        yield list(items[i:i + PAGE])


@workflow.defn(name=BATCH_WORKFLOW)
class BatchWorkflow:
    """Runs a batch: children in a sliding window, continuing as new as it goes, then the report.

    Cancelling it (``runner cancel``) cancels the running topics (their steps stop, their result
    files say cancelled), starts no more, writes the report, and ends cancelled.
    """

    @workflow.init
    def __init__(self, inp: BatchInput) -> None:
        self.inp = inp
        self.st = inp.state or BatchState(started_at=workflow.now().isoformat())
        self.names: dict[int, str] = {}  # running topics' ids, by line
        self.telling: list[str] = []  # models out of quota, to tell the running topics about
        self.heard = 0  # topics heard of (their ends), to wake the loop and the sweep
        self.starts = 0  # children started by this run
        self.starting: list[asyncio.Task[None]] = []  # starts sent, maybe not yet confirmed
        self.flowing = True
        self.refresh = set(inp.refresh)  # topics that take nothing from the step cache
        self.finished = False
        self.cancelling = False
        self.ledger: Ledger | None = None
        if inp.budget is not None:
            self.st.budget = self.st.budget or BudgetState()
            self.ledger = Ledger(inp.budget, self.st.budget)
        self.gatherer: Gatherer | None = None
        if inp.delivery is not None and inp.delivery.steps:
            self.st.delivery = self.st.delivery or DeliveryState()
            self.gatherer = Gatherer(inp.delivery, self.st.delivery, folder=inp.output_dir,
                                     task_queue=inp.task_queue, run_key=self._run_key())

    @workflow.run
    async def run(self, inp: BatchInput) -> BatchResult:
        if inp.schedule_id is not None and inp.scheduled_at is None:
            self._take_run_folder()
        st = self.st
        self.flowing = workflow.patched(FLOWING_STARTS)
        guarded = bool(st.in_flight) and workflow.patched(NAMES_UNDER_CANCEL)
        if st.in_flight and not guarded:  # (runs started by an earlier version)
            await self._learn_names()
        sweeper = asyncio.create_task(self._sweep())
        gathering = asyncio.create_task(self.gatherer.run()) if self.gatherer else None
        buffer: deque[PageItem] = deque()
        cancel: asyncio.CancelledError | None = None
        try:
            if guarded:  # running topics from an earlier run: learn their ids
                await self._learn_names()
            while st.in_flight or ((buffer or not st.eof) and not self._out_of_budget()):
                if gathering is not None and gathering.done():  # a bug: fail the task, visibly
                    gathering.result()
                if self.telling:
                    await self._tell_models()
                    continue
                if self._time_to_continue():
                    await self._starts_settled()  # a start under way belongs to this run
                    if self.gatherer is not None:  # a submit under way too (never done twice)
                        await self.gatherer.pause()
                    sweeper.cancel()
                    if buffer:  # read again from the first topic not started
                        st.offset, st.index, st.eof = buffer[0].offset, buffer[0].index, False
                    st.runs += 1
                    workflow.continue_as_new(inp.model_copy(update={"state": st}))
                free = min(inp.concurrency - len(st.in_flight), MAX_STARTS_PER_RUN - self.starts,
                           START_BATCH)
                if self._out_of_budget():  # start nothing more: wait for the running topics
                    await self._news()
                    continue
                if free > 0 and not buffer and not st.eof:
                    page = await self._activity(READ_TOPICS_ACTIVITY, TopicPageRequest(
                        path=inp.topics_file, offset=st.offset, index=st.index), TopicPage)
                    buffer.extend(page.items)
                    st.offset, st.index, st.eof = page.offset, page.index, page.eof
                    continue
                if free > 0 and buffer:
                    await self._start([buffer.popleft() for _ in range(min(free, len(buffer)))])
                    continue
                await self._news()
            await self._starts_settled()  # an end can be heard before its start is confirmed
        except asyncio.CancelledError as err:
            cancel = err
            workflow.logger.info("batch cancelled: cancelling its %d running topics", len(st.in_flight))
            self.cancelling = True
            if self.gatherer is not None:  # (a submit under way ends first: its window is known)
                await self.gatherer.pause()
            await self._cancel_running()
            if self.gatherer is not None:
                await self.gatherer.cancel_all()
        sweeper.cancel()
        if gathering is not None:
            gathering.cancel()
            if cancel is None and self.gatherer and self.gatherer.st.windows:  # no topic waits for them
                await self.gatherer.pause()
                await self.gatherer.cancel_all()
        finished = workflow.now()
        started = buffer[0].index if buffer else st.index
        report = await workflow.execute_activity(
            WRITE_REPORT_ACTIVITY,
            ReportInput(
                batch_id=inp.batch_id, name=inp.name, job=inp.job, manifest=inp.manifest,
                output_dir=inp.output_dir, started_at=st.started_at, finished_at=finished.isoformat(),
                topics_file=inp.topics_file,
                started=started if cancel is not None or self._out_of_budget() else -1,
                run_id=workflow.info().run_id, cancelled=cancel is not None,
                models_out=st.models_out, budget=self.ledger.report() if self.ledger else None,
                out_of_budget=self._out_of_budget(),
                windows=self._run_key() if self.gatherer else "",
            ),
            result_type=ReportOutput, task_queue=inp.task_queue,
            start_to_close_timeout=REPORT_TIMEOUT, heartbeat_timeout=REPORT_HEARTBEAT,
            retry_policy=DEFAULT_RETRY,
        )
        self.finished = True
        if cancel is not None:
            raise cancel
        began = datetime.fromisoformat(st.started_at)
        return BatchResult(
            batch_id=inp.batch_id, report_json=report.report_json, report_md=report.report_md,
            total=report.total, succeeded=report.succeeded, failed=report.failed,
            cancelled=report.cancelled, budget_exhausted=report.budget_exhausted,
            wall_s=round((finished - began).total_seconds(), 3),
        )

    def _take_run_folder(self) -> NoReturn:
        """A run started by a schedule: give it the id its schedule gave its workflow and a folder
        of its own, then go on as a batch like any other (retry, status and the report find it
        there)."""
        info = workflow.info()
        when = info.typed_search_attributes.get(SCHEDULED_START) or info.start_time
        inp = self.inp.model_copy(update={
            "batch_id": info.workflow_id, "output_dir": run_output_dir(self.inp.output_dir, when),
            "scheduled_at": when.astimezone(UTC).isoformat()})
        workflow.continue_as_new(inp, memo=inp.memo(f"schedule {inp.schedule_id}"))

    async def _news(self) -> None:
        """Wait until a topic ends, a model is to be told about, or (while topics wait for their
        provider batches, whose polls grow the history) it is time to continue as new."""
        heard = self.heard
        await workflow.wait_condition(lambda: self.heard != heard or bool(self.telling)
                                      or (self.gatherer is not None and self._time_to_continue()))

    def _time_to_continue(self) -> bool:
        if not (self.starts or self.heard or (self.gatherer and self.gatherer.done)):
            return False  # a run that made no progress yet goes on (no loop)
        info = workflow.info()
        return (self.starts >= MAX_STARTS_PER_RUN or info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= self.inp.events_per_run)

    async def _activity(self, name: str, arg: object, result_type: type[T]) -> T:
        result: T = await workflow.execute_activity(
            name, arg, result_type=result_type, task_queue=self.inp.task_queue,
            start_to_close_timeout=ENGINE_TIMEOUT, retry_policy=DEFAULT_RETRY)
        return result

    async def _start(self, items: list[PageItem]) -> None:
        """Start a child per topic, together (one workflow task issues all the starts). Returns
        once fewer than START_BATCH starts wait for the server's word (before FLOWING_STARTS: once
        all of them had it)."""
        for item in items:  # running from now on: its end may be heard before its start is
            self.st.in_flight[item.index] = item.offset
            self.names[item.index] = item.spec.id
        self.st.started += len(items)
        self.starts += len(items)
        # tasks, not gather: a cancellation of the batch must not cut a start
        self.starting = [t for t in self.starting if not t.done()]
        self.starting += [asyncio.create_task(self._start_one(item)) for item in items]
        if not self.flowing:
            await self._starts_settled()
            return
        await workflow.wait_condition(lambda: self._unconfirmed() < START_BATCH)

    def _unconfirmed(self) -> int:
        return sum(1 for t in self.starting if not t.done())

    async def _starts_settled(self) -> None:
        if self.starting:
            await workflow.wait(self.starting)
            self.starting = []

    async def _start_one(self, item: PageItem) -> None:
        inp = self.inp
        try:
            await workflow.start_child_workflow(
                inp.child_workflow,
                TopicInput(batch_id=inp.batch_id, spec=item.spec,
                           topic_dir=topic_dir(inp.output_dir, item.spec.id),
                           output_dir=inp.output_dir, task_queue=inp.task_queue, index=item.index,
                           models_out=list(self.st.models_out), resume_from=item.resume_from,
                           cache=inp.cache, refresh=item.spec.id in self.refresh, job=inp.job,
                           budget=inp.budget is not None,
                           delivery=inp.delivery.steps if inp.delivery else []),
                id=child_id(inp.batch_id, item.spec.id), task_queue=inp.task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("topic %s: its workflow %s is already running (another batch "
                                    "writing the same directory?): counted as failed", item.spec.id,
                                    child_id(inp.batch_id, item.spec.id))
            self._ended(item.index, "failed")

    @workflow.signal(name=TOPIC_DONE_SIGNAL)
    def topic_done(self, done: TopicDone) -> None:
        """A topic ended (it wrote its result file first)."""
        self._ended(done.index, done.status)

    def _ended(self, index: int, status: str) -> None:
        if self.st.in_flight.pop(index, None) is None:
            return  # heard already (a sweep, or a second word)
        self.names.pop(index, None)
        if self.ledger is not None:
            self.ledger.release(index)
        if status == "succeeded":
            self.st.succeeded += 1
        elif status == "cancelled":
            self.st.cancelled += 1
        elif status == "budget_exhausted":
            self.st.budget_exhausted += 1
        else:
            self.st.failed += 1
        self.heard += 1

    def _running_ids(self) -> list[str]:
        return [child_id(self.inp.batch_id, self.names[i]) for i in self.st.in_flight if i in self.names]

    async def _learn_names(self) -> None:
        lines = list(self.st.in_flight.items())
        for page in _pages(lines):
            ids = await self._activity(TOPIC_IDS_ACTIVITY, TopicIdsRequest(
                path=self.inp.topics_file, offsets=[offset for _, offset in page]), list[str])
            self.names.update((index, topic_id) for (index, _), topic_id in zip(page, ids, strict=True))

    async def _tell_models(self) -> None:
        models, self.telling = self.telling, []
        for model in models:
            workflow.logger.info("model %s is out of quota: telling %d running topics", model,
                                 len(self.st.in_flight))
            for page in _pages(self._running_ids()):
                await self._activity(TELL_TOPICS_ACTIVITY, TellTopics(
                    workflow_ids=page, signal=MODEL_OUT_SIGNAL, arg=model), type(None))

    async def _cancel_running(self) -> None:
        """Cancel the running topics and wait until each has said it ended (a topic that cannot,
        e.g. one terminated meanwhile, is found by the sweep)."""
        await self._starts_settled()  # a topic whose start is under way is cancelled below
        if any(i not in self.names for i in self.st.in_flight):  # cancelled while learning them
            await self._learn_names()
        for page in _pages(self._running_ids()):
            await self._activity(TELL_TOPICS_ACTIVITY, TellTopics(workflow_ids=page, cancel=True),
                                 type(None))
        # a topic cancelled before its workflow ran at all ends without a word: look soon
        sweeper = asyncio.create_task(self._sweep(CANCEL_SWEEP_S))
        await workflow.wait_condition(lambda: not self.st.in_flight)
        sweeper.cancel()

    async def _sweep(self, every_s: float | None = None) -> None:
        """Every ``sweep_every_s`` without word from any running topic, ask which have ended
        without telling (terminated, timed out, cancelled before they ran), so that the batch does
        not wait for them forever."""
        last = self.heard
        while True:
            await workflow.sleep(every_s or self.inp.sweep_every_s)
            if self.st.in_flight and self.heard == last:
                by_id = {child_id(self.inp.batch_id, name): index for index, name in self.names.items()}
                for page in _pages(list(by_id)):
                    found = await self._activity(CHECK_TOPICS_ACTIVITY, TellTopics(workflow_ids=page),
                                                 ClosedTopics)
                    for workflow_id, how in found.closed.items():
                        workflow.logger.warning("topic workflow %s ended (%s) without telling the "
                                                "batch", workflow_id, how)
                        self._ended(by_id[workflow_id], how)
            last = self.heard

    @workflow.signal(name=MODEL_OUT_SIGNAL)
    def model_out(self, model: str) -> None:
        """A topic found ``model``'s quota exhausted: tell the running topics, and the ones to come."""
        if model not in self.st.models_out:
            self.st.models_out.append(model)
            self.telling.append(model)

    def _run_key(self) -> str:
        """This run of the batch (a submit or a retry), the same in each of its continued runs."""
        return "".join(c for c in self.st.started_at[:19] if c.isdigit())

    @workflow.signal(name=CALL_SIGNAL)
    def batch_call(self, call: Gathered) -> None:
        """A topic's call of a batch-delivered step waits for its model's next window."""
        if self.gatherer is not None:
            self.gatherer.add(call)

    def _out_of_budget(self) -> bool:
        return self.ledger is not None and self.ledger.st.out

    @workflow.update(name=BUDGET_UPDATE)
    def budget_ask(self, ask: BudgetAsk) -> BudgetAnswer:
        """A topic's model call asks for room in the batch's budget before it is made: granted
        (room is held for it until it says what it cost) or denied (the cap is reached). A call
        that must wait is refused by the validator, which writes nothing to the history."""
        if self.ledger is None:  # (a batch without a budget: its topics do not ask)
            return BudgetAnswer(decision="granted")
        return self.ledger.ask(ask)

    @budget_ask.validator
    def _budget_room(self, ask: BudgetAsk) -> None:
        if self.ledger is not None and (answer := self.ledger.decide(ask)).decision == "wait":
            raise ApplicationError(answer.reason, type=BUDGET_WAIT)

    @workflow.signal(name=BUDGET_SPENT_SIGNAL)
    def budget_spent(self, spent: BudgetSpent) -> None:
        """A granted call answered (or failed): what it cost."""
        if self.ledger is not None:
            self.ledger.settle(spent)

    def _progress(self, shown: int | None) -> BatchProgress:
        st = self.st
        running = [self.names.get(i, f"line {i + 1}") for i in st.in_flight]
        return BatchProgress(
            batch_id=self.inp.batch_id, total=self.inp.total, succeeded=st.succeeded + self.inp.carried,
            failed=st.failed, cancelled=st.cancelled, carried=self.inp.carried,
            running=running[:shown], running_count=len(running), started=st.started,
            started_at=st.started_at, runs=st.runs, finished=self.finished,
            cancelling=self.cancelling, budget_exhausted=st.budget_exhausted,
            budget=self.ledger.report() if self.ledger else None,
            provider_batches=list(st.delivery.windows) if st.delivery else [],
        )

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> BatchProgress:
        """Counts and the longest-running topics (for ``runner submit --wait``)."""
        return self._progress(SHOWN_RUNNING)

    @workflow.query(name=TOPICS_QUERY)
    def topics(self) -> BatchProgress:
        """:meth:`progress` with every running topic (for ``runner status --topics``)."""
        return self._progress(None)
