"""Worker assembly: the batch workflow, every registered job kind, and the LLM gateway.

A ``runner worker`` is a :class:`WorkerSet` serving up to three kinds of task queue (``--queues``):

* ``workflows``: the task queue itself: the batch and topic workflows, and the engine's small
  activities (result files, reports);
* ``steps``: ``<task queue>.steps``: the job kinds' step activities (the explainer's validate,
  render, merge, ...), which heartbeat while their subprocesses run; ``steps:GROUP`` serves
  ``<task queue>.steps.GROUP``, where a manifest sends the steps it gives ``queue: GROUP``;
* ``llm``: one task queue per catalog model, ``<task queue>.llm.<model>``, whose dispatch rate the
  server enforces across every worker (derived from the model's ``rpm``) and whose calls in flight
  are capped per worker (``max_concurrency``).

Step workers and LLM workers can so run on different machines: they share only the Temporal
server and the batch's store (a folder they all mount, or an object store URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from runner.activity.engine import EngineActivities
from runner.activity.llm.activity import LLMActivities
from runner.activity.llm.batches import BatchActivities
from runner.activity.llm.pacing import Pacer, dispatch_rate
from runner.activity.staging import remove_stale_scratch
from runner.activity.step import read_identities
from runner.client.pollers import poller_identities
from runner.config.catalog import Catalog
from runner.config.jobkinds import all_responders, job_kinds
from runner.contract.errors import UsageError
from runner.contract.jobkind import JobKind
from runner.contract.names import QUEUE_PATTERN, batch_task_queue, llm_task_queue, steps_task_queue
from runner.workflow.batch import BatchWorkflow

SHUTDOWN = timedelta(seconds=10)
QUEUE_ROLES = ("workflows", "steps", "llm")
# Heartbeats of step activities reach the server at least this often, and so does a cancellation
# (it travels back on a heartbeat's answer): `runner cancel` stops a running step within seconds.
HEARTBEAT_THROTTLE = timedelta(seconds=1)
# When a worker counts the workers sharing a rate-limited model: at its start, this soon after, and
# this often.
SHARE_FIRST_S = 1.0
SHARE_REFRESH_S = 30.0


class WorkerSet:
    """Temporal workers that run together: ``async with`` it, or :func:`run_until` it."""

    def __init__(self, client: Client, workers: list[Worker],
                 pacers: dict[str, tuple[str, Pacer]] | None = None,
                 prepare: Callable[[], Awaitable[None]] | None = None,
                 identity: str | None = None) -> None:
        self.client = client
        self.workers = workers  # started in this order
        self.prepare = prepare  # awaited before any worker starts
        self.pacers = pacers or {}  # rate-limited model -> (its task queue, this worker's pacer)
        self.identity = identity or client.identity  # how this set's workers show as pollers
        self._stack: contextlib.AsyncExitStack | None = None
        self._sharing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WorkerSet:
        if self.prepare is not None:
            await self.prepare()
        async with contextlib.AsyncExitStack() as stack:
            for worker in self.workers:
                await stack.enter_async_context(worker)
            self._stack = stack.pop_all()
        if self.pacers:
            await self._share_budgets()  # the workers already there, before the first call
            self._sharing = asyncio.create_task(self._keep_sharing())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sharing is not None:
            self._sharing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sharing
        if self._stack is not None:
            await self._stack.aclose()

    async def _keep_sharing(self) -> None:
        """Keep each rate-limited model's budgets split among the workers polling its queue: soon
        after the start (workers that started at the same moment see each other), then every
        SHARE_REFRESH_S."""
        delay = SHARE_FIRST_S
        while True:
            await asyncio.sleep(delay)
            delay = SHARE_REFRESH_S
            await self._share_budgets()

    async def _share_budgets(self) -> None:
        for queue, pacer in self.pacers.values():
            with contextlib.suppress(Exception):  # the next round will tell
                others = await poller_identities(self.client, queue,
                                                 TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
                pacer.share(len(others | {self.identity}))


def model_workers(client: Client, *, task_queue: str, catalog: Catalog, activity: Callable[..., object],
                  identity: str | None = None, grace: timedelta = SHUTDOWN,
                  speech: Callable[..., object] | None = None) -> list[Worker]:
    """One worker per catalog model, on the model's task queue, running ``activity`` (the LLM call)
    and ``speech`` (the speech call, if given) at the model's dispatch rate and concurrency."""
    return [
        Worker(
            client,
            task_queue=llm_task_queue(task_queue, name),
            activities=[activity, *([speech] if speech else [])],
            max_concurrent_activities=spec.max_concurrency,
            max_task_queue_activities_per_second=dispatch_rate(spec),
            disable_eager_activity_execution=True,  # eager activities would bypass the rate limit
            graceful_shutdown_timeout=grace,
            identity=identity,
        )
        for name, spec in catalog.models.items()
    ]


def check_queues(queues: Iterable[str]) -> list[str]:
    """The queue roles asked for, checked.

    Raises:
        UsageError: a role that does not exist, or none at all.
    """
    roles = list(queues)
    bad = [q for q in roles if q not in QUEUE_ROLES and not _step_group(q)]
    if bad or not roles:
        raise UsageError(f"--queues: unknown {', '.join(bad) or 'empty list'} (choose from "
                         f"{', '.join(QUEUE_ROLES)}, or steps:GROUP for the steps a manifest sends "
                         "to `queue: GROUP`; GROUP: lowercase letters, digits, '-')")
    return roles


def _step_group(role: str) -> str | None:
    """GROUP of a ``steps:GROUP`` role, or None."""
    kind, _, group = role.partition(":")
    return group if kind == "steps" and re.match(QUEUE_PATTERN, group) else None


def build_worker(client: Client, *, task_queue: str, catalog: Catalog,
                 kinds: Iterable[JobKind] | None = None, identity: str | None = None,
                 queues: Iterable[str] = QUEUE_ROLES, grace: timedelta = SHUTDOWN) -> WorkerSet:
    """Workers for the given queue roles (see the module docstring; default: all of them), for the
    given job kinds (default: all) and every catalog model; told to stop, they give running
    activities ``grace`` to finish, then hand them back."""
    roles = set(check_queues(queues))
    kinds = list(kinds if kinds is not None else job_kinds().values())
    workers: list[Worker] = []
    if "workflows" in roles:
        workers.append(workflow_worker(client, task_queue, [BatchWorkflow, *(k.workflow for k in kinds)],
                                       EngineActivities().activities(), identity, grace))
    groups = [None] * ("steps" in roles) + sorted(g for r in roles if (g := _step_group(r)))
    if groups:
        read_identities(kinds)  # the code this worker runs is the code its cache keys name
        remove_stale_scratch()  # of steps a killed worker left
    for group in groups:
        workers.append(steps_worker(client, task_queue, [a for kind in kinds for a in kind.activities()],
                                    identity, grace, group=group))
    if "llm" not in roles:
        return WorkerSet(client, workers, identity=identity)
    llm = LLMActivities(catalog, all_responders())
    workers += model_workers(client, task_queue=task_queue, catalog=catalog, activity=llm.complete,
                             speech=llm.speak,
                             identity=identity, grace=grace)
    workers.append(Worker(client, task_queue=batch_task_queue(task_queue),
                          activities=BatchActivities(llm).activities(),  # type: ignore[arg-type]
                          graceful_shutdown_timeout=grace, identity=identity))
    return WorkerSet(
        client, workers,
        {name: (llm_task_queue(task_queue, name), pacer) for name, pacer in llm.pacers.items()},
        prepare=llm.prepare, identity=identity,
    )


def workflow_worker(client: Client, task_queue: str, workflows: Sequence[type],
                    activities: Sequence[object], identity: str | None = None,
                    grace: timedelta = SHUTDOWN) -> Worker:
    """The worker of the batch and topic workflows and the engine's activities, on ``task_queue``."""
    return Worker(
        client, task_queue=task_queue, workflows=list(workflows),
        activities=list(activities),  # type: ignore[arg-type]
        workflow_runner=workflow_runner(workflows),
        disable_eager_activity_execution=True, graceful_shutdown_timeout=grace, identity=identity)


def workflow_runner(workflows: Sequence[type]) -> SandboxedWorkflowRunner:
    """Temporal's workflow sandbox, with the contract and the job kinds' models passed through.

    The sandbox imports a workflow's module afresh for every workflow run, and with it the
    module's package, whose ``__init__`` imports the kind's types, and they the contract, outside
    the workflow module's ``imports_passed_through()``. Building those pydantic models again for
    every topic took most of a worker's time on batches of small topics (workflow tasks of
    seconds, some past their timeout; about 5x the worker CPU per topic). The models hold no state
    and run nothing at import, so the sandbox shares the worker's copies; the workflow modules
    themselves are still imported afresh, with the sandbox's checks.
    """
    shared = {"runner.contract"}
    for wf in workflows:  # a kind's outputs model lives with its types (third-party kinds too)
        outputs = getattr(wf, "outputs_type", None)
        if outputs is not None:
            shared.add(outputs.__module__)
    # Passing a module through passes its submodules: never a workflow's module or a package of one.
    own = {wf.__module__ for wf in workflows}
    shared = {m for m in shared if not any(w == m or w.startswith(m + ".") for w in own)}
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*sorted(shared)))


def steps_worker(client: Client, task_queue: str, activities: Sequence[object],
                 identity: str | None = None, grace: timedelta = SHUTDOWN, *,
                 group: str | None = None) -> Worker:
    """The worker of the job kinds' step activities, on the steps task queue of ``task_queue``
    (of step queue ``group``, if given)."""
    return Worker(
        client, task_queue=steps_task_queue(task_queue, group), activities=list(activities),  # type: ignore[arg-type]
        disable_eager_activity_execution=True, graceful_shutdown_timeout=grace,
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE, identity=identity)


async def run_until(worker: WorkerSet, stop: asyncio.Event) -> None:
    """Run ``worker`` until ``stop`` is set, then shut it down gracefully."""
    async with worker:
        await stop.wait()
