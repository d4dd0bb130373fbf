"""Activity side of a batch's budget: a model call of a budgeted batch asks the batch's workflow
for room before it is made, and says what it cost afterwards (see :mod:`runner.workflow.budget`).

The offline model costs nothing and never asks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from runner.contract.budget import BUDGET_EXHAUSTED, BUDGET_WAIT, BudgetAnswer, BudgetAsk, BudgetSpent
from runner.contract.llm import BudgetRef
from runner.contract.names import BUDGET_SPENT_SIGNAL, BUDGET_UPDATE

log = logging.getLogger(__name__)
FIRST_WAIT_S, MOST_WAIT_S = 0.2, 2.0
GONE_TRIES = 5  # the batch's workflow not found this many times in a row: it is gone


@dataclass
class Cost:
    """What a granted call cost, filled in by the caller once it answered."""

    usd: float | None = 0.0
    tokens: int = 0
    answered: bool = False


async def _ask(ref: BudgetRef, ask: BudgetAsk) -> None:
    """Ask until granted.

    Raises:
        ApplicationError: (non-retryable, type BudgetExhausted) denied, or the batch is gone.
    """
    handle = activity.client().get_workflow_handle(ref.batch)
    wait, gone = FIRST_WAIT_S, 0
    while True:
        try:
            answer = await handle.execute_update(BUDGET_UPDATE, ask, result_type=BudgetAnswer)
            gone = 0
        except WorkflowUpdateFailedError as exc:  # the validator said wait (no history written)
            cause = exc.cause
            if not (isinstance(cause, ApplicationError) and cause.type == BUDGET_WAIT):
                raise
            answer = BudgetAnswer(decision="wait", reason=cause.message)
        except RPCError as exc:  # between two runs of the batch (it continues as new), or gone
            gone += 1
            if gone >= GONE_TRIES and not await _running(ref):
                raise ApplicationError(f"the batch {ref.batch} is not running: its budget cannot be "
                                       "kept, so no call is made", type=BUDGET_EXHAUSTED,
                                       non_retryable=True) from exc
            answer = BudgetAnswer(decision="wait", reason=str(exc))
        if answer.decision == "granted":
            return
        if answer.decision == "denied":
            raise ApplicationError(answer.reason or "the batch's budget is spent", type=BUDGET_EXHAUSTED,
                                   non_retryable=True)
        await asyncio.sleep(wait)
        wait = min(wait * 1.5, MOST_WAIT_S)


async def _running(ref: BudgetRef) -> bool:
    try:
        desc = await activity.client().get_workflow_handle(ref.batch).describe()
    except RPCError:
        return False
    return desc.status == WorkflowExecutionStatus.RUNNING


@asynccontextmanager
async def room(ref: BudgetRef | None, model: str, *, usd: float, tokens: int) -> AsyncIterator[Cost]:
    """Hold room in the batch's budget for one call (nothing when ``ref`` is None); the caller
    fills in the :class:`Cost` it yields, which the batch is told when the block ends (a failed
    call costs nothing).

    Raises:
        ApplicationError: (non-retryable, type BudgetExhausted) the budget has no room for it.
    """
    cost = Cost()
    if ref is None:
        yield cost
        return
    grant = await hold(ref, model, usd=usd, tokens=tokens)
    try:
        yield cost
    finally:
        await settle(ref, grant, cost)


async def hold(ref: BudgetRef, model: str, *, usd: float, tokens: int, upper: bool = False) -> str:
    """Hold room for one call of this activity attempt (see :func:`room`); returns its grant, for
    :func:`settle` (a batch-delivered call settles when its provider batch answers).

    Raises:
        ApplicationError: (non-retryable, type BudgetExhausted) the budget has no room for it.
    """
    info = activity.info()
    grant = f"{info.workflow_id}/{info.activity_id}/{info.attempt}"
    await _ask(ref, BudgetAsk(grant=grant, index=ref.index, step=ref.step, model=model,
                              usd=round(usd, 9), tokens=tokens, upper=upper))
    return grant


async def settle(ref: BudgetRef, grant: str, cost: Cost) -> None:
    """Tell the batch what the call of ``grant`` cost."""
    spent = BudgetSpent(grant=grant, index=ref.index, usd=cost.usd or 0.0, tokens=cost.tokens,
                        priced=cost.usd is not None, answered=cost.answered)
    try:
        await activity.client().get_workflow_handle(ref.batch).signal(BUDGET_SPENT_SIGNAL, spent)
    except RPCError as exc:  # the batch is gone: nobody keeps its budget any more
        log.warning("could not tell batch %s what a call cost: %s", ref.batch, exc)
