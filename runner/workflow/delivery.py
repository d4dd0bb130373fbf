"""Parent side of batch delivery (see :mod:`runner.contract.delivery`): gather the topics' calls per
model into windows, submit each window once, poll it with durable timers, and have its answers sent.

Runs as a task of the batch workflow beside its window of topics. Its state is ids only (the
requests are files), handed on when the batch continues as new; the batch does not continue as new
while an activity of this task runs, so a submit is never left behind by one run and done again
by the next. Sandbox-safe.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from runner.contract.delivery import (
    CANCEL_ACTIVITY,
    COLLECT_ACTIVITY,
    POLL_ACTIVITY,
    SUBMIT_ACTIVITY,
    Collected,
    Delivery,
    DeliveryState,
    Gathered,
    Polled,
    Window,
    WindowInput,
)
from runner.contract.names import batch_task_queue
from runner.contract.policy import DEFAULT_RETRY

# A dead worker's attempt is noticed within the heartbeat timeout (the activities heartbeat every
# 5 s, also through one long call); a poll is one short request.
SUBMIT_TIMEOUT = timedelta(minutes=30)
POLL_TIMEOUT = timedelta(seconds=30)
COLLECT_TIMEOUT = timedelta(minutes=60)
HEARTBEAT = timedelta(seconds=30)
CANCEL_RETRY = RetryPolicy(maximum_attempts=3)


class Gatherer:
    """A batch's provider batches: calls in (:meth:`add`), windows out (:meth:`run`)."""

    def __init__(self, cfg: Delivery, state: DeliveryState, *, folder: str, task_queue: str,
                 run_key: str) -> None:
        self.cfg = cfg
        self.st = state
        self.folder = folder
        self.task_queue = task_queue
        self.run_key = run_key  # names this run's windows (a retry of the batch writes the same folder)
        self.busy = False
        self.holding = False  # start no new activity (see pause)
        self.done = 0  # rounds of submits and polls in this run (progress: it may continue as new)
        self.news = 0  # calls come
        self.firsts = 0  # a model's first waiting call came: a new time to cut a window at
        self.polled: dict[str, datetime] = {}

    def add(self, call: Gathered) -> None:
        ids = self.st.pending.setdefault(call.model, [])
        if call.custom_id in ids:  # (a retried enqueue)
            return
        if not ids:
            self.st.since[call.model] = workflow.now().isoformat()
            self.firsts += 1
        ids.append(call.custom_id)
        self.news += 1

    def _cut_at(self, model: str) -> datetime:
        return datetime.fromisoformat(self.st.since[model]) + timedelta(seconds=self.cfg.gather_s)

    def _due(self) -> list[str]:
        now = workflow.now()
        return [m for m, ids in self.st.pending.items()
                if ids and (len(ids) >= self.cfg.max_requests or self._cut_at(m) <= now)]

    def _poll_at(self, window: Window) -> datetime:
        last = self.polled.get(window.provider_batch) or datetime.fromisoformat(window.submitted_at)
        return last + timedelta(seconds=self.cfg.poll_s)

    def _sleep_s(self) -> float | None:
        times = [self._cut_at(m) for m, ids in self.st.pending.items() if ids]
        times += [self._poll_at(w) for w in self.st.windows]
        if not times:
            return None
        return max(0.0, (min(times) - workflow.now()).total_seconds())

    async def run(self) -> None:
        while True:
            await self._wait()
            await workflow.wait_condition(lambda: not self.holding)
            self.busy = True
            try:
                for model in self._due():
                    ids = self.st.pending.pop(model)
                    self.st.since.pop(model, None)  # (before the await: calls may come meanwhile)
                    try:
                        await self._submit(model, ids, resubmit=0)
                    except ActivityError as err:  # submitted again after a gathering time
                        workflow.logger.warning("could not submit %d calls of %s (tried again in "
                                                "%g s): %s", len(ids), model, self.cfg.gather_s,
                                                err.cause or err)
                        for cid in ids:
                            self.add(Gathered(custom_id=cid, model=model))
                now = workflow.now()
                for window in [w for w in self.st.windows if self._poll_at(w) <= now]:
                    try:
                        await self._poll(window)
                    except ActivityError as err:  # looked at again at the next poll
                        self.polled[window.provider_batch] = workflow.now()
                        workflow.logger.warning("provider batch %s: %s (polled again in %g s)",
                                                window.provider_batch, err.cause or err, self.cfg.poll_s)
                self.done += 1
            finally:
                self.busy = False

    async def pause(self) -> None:
        """Let the activity under way end, and start no other (the batch continues as new, or
        ends)."""
        self.holding = True
        await workflow.wait_condition(lambda: not self.busy)

    async def _wait(self) -> None:
        """Until a window is due (full, or its time came), a poll is, or a new time to cut at."""
        news, firsts = self.news, self.firsts
        try:
            await workflow.wait_condition(
                lambda: self.firsts != firsts or (self.news != news and bool(self._due())),
                timeout=self._sleep_s())
        except TimeoutError:
            pass

    async def _submit(self, model: str, ids: list[str], *, resubmit: int) -> None:
        name = f"{self.run_key}-w{self.st.next_window}"
        self.st.next_window += 1
        window = await workflow.execute_activity(
            SUBMIT_ACTIVITY, WindowInput(window=name, model=model, folder=self.folder, custom_ids=ids,
                                         resubmit=resubmit),
            result_type=Window, task_queue=batch_task_queue(self.task_queue),
            start_to_close_timeout=SUBMIT_TIMEOUT, heartbeat_timeout=HEARTBEAT, retry_policy=DEFAULT_RETRY)
        workflow.logger.info("provider batch %s: %d calls of %s", window.provider_batch, len(ids), model)
        self.st.windows.append(window)

    async def _poll(self, window: Window) -> None:
        queue = batch_task_queue(self.task_queue)
        polled = await workflow.execute_activity(
            POLL_ACTIVITY, window, result_type=Polled, task_queue=queue,
            start_to_close_timeout=POLL_TIMEOUT, retry_policy=DEFAULT_RETRY)
        self.polled[window.provider_batch] = workflow.now()
        window.state = polled.state
        if polled.state != "ended":
            return
        collected = await workflow.execute_activity(
            COLLECT_ACTIVITY, window, result_type=Collected, task_queue=queue,
            start_to_close_timeout=COLLECT_TIMEOUT, heartbeat_timeout=HEARTBEAT,
            retry_policy=DEFAULT_RETRY)
        self.st.windows.remove(window)
        self.polled.pop(window.provider_batch, None)
        if collected.expired:  # once: a window that expires again is answered with errors
            workflow.logger.warning("provider batch %s expired with %d calls: submitting them again",
                                    window.provider_batch, len(collected.expired))
            await self._submit(window.model, collected.expired, resubmit=window.resubmitted + 1)

    async def cancel_all(self) -> None:
        """The batch is cancelled, or ended with provider batches no topic waits for: ask the
        providers to stop them (what they have not processed yet is not paid for)."""
        for window in list(self.st.windows):
            try:
                await workflow.execute_activity(
                    CANCEL_ACTIVITY, window, task_queue=batch_task_queue(self.task_queue),
                    start_to_close_timeout=POLL_TIMEOUT, retry_policy=CANCEL_RETRY)
            except ActivityError as err:
                workflow.logger.warning("could not cancel provider batch %s: %s", window.provider_batch,
                                        err.cause or err)
