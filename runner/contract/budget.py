"""A batch's budget: its caps, what its calls ask and say, what its parent workflow keeps
(see :mod:`runner.workflow.budget`). Sandbox-safe."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# A topic ends ``budget_exhausted`` when an LLM call it needed was refused by the batch's budget
# (or its own per-topic cap), or when the batch's budget ran out before it started.
BUDGET_EXHAUSTED = "BudgetExhausted"  # the error type of a call the budget refused
BUDGET_WAIT = "BudgetWait"  # the error type of an ask refused for now (no room until calls end)


class Budget(BaseModel):
    """A batch's spending caps (``budget:`` in the manifest). Each run of the batch (a submit, a
    ``runner retry``) counts its own calls against them."""

    usd: float | None = Field(default=None, description="most US dollars the batch's LLM and "
                              "speech calls may cost")
    tokens: int | None = Field(default=None, description="most tokens (in and out) its LLM calls "
                               "may use")
    topic_usd: float | None = Field(default=None, description="the same, per topic")
    topic_tokens: int | None = Field(default=None, description="the same, per topic")

    def describe(self) -> str:
        """``$5, 200000 tokens; per topic $0.5``."""
        def caps(usd: float | None, tokens: int | None) -> str:
            return ", ".join(([f"${usd:g}"] if usd is not None else [])
                             + ([f"{tokens} tokens"] if tokens is not None else []))
        batch, topic = caps(self.usd, self.tokens), caps(self.topic_usd, self.topic_tokens)
        return "; ".join([batch] * bool(batch) + [f"per topic {topic}"] * bool(topic))


class BudgetAsk(BaseModel):
    """A model call's request for room in the batch's budget, sent by the activity that is about to
    make it (an update of the parent workflow)."""

    grant: str = Field(description="unique per call attempt: asking again gets the same answer")
    index: int = Field(description="the topic's line in the batch's topic file")
    step: str = Field(description="the step (its base name): calls are expected to cost what the "
                      "same step and model cost before")
    model: str
    usd: float = Field(default=0.0, description="what the call costs at least (its input, priced)")
    tokens: int = Field(default=0, description="tokens it uses at least (its input)")
    upper: bool = Field(default=False, description="usd and tokens are the most it can cost (a call "
                        "in a provider batch, whose cost comes hours later): expected at that, it "
                        "does not wait for a first call to show what calls cost")


class BudgetAnswer(BaseModel):
    decision: Literal["granted", "wait", "denied"]
    reason: str = ""


class BudgetSpent(BaseModel):
    """What a granted call cost (a signal to the parent workflow once it has answered or failed)."""

    grant: str
    index: int
    usd: float = 0.0
    tokens: int = 0
    priced: bool = Field(default=True, description="False: the model has no price; its cost is "
                         "unknown and counts as 0")
    answered: bool = Field(default=True, description="False: the call failed (what it cost, if "
                           "anything, says nothing of what the next one will)")


class Reservation(BaseModel):
    """Room held for a granted call until it says what it cost."""

    index: int
    key: str = Field(description="step and model")
    usd: float
    tokens: int
    seen: bool = Field(description="the same step and model had cost something known before")


class Spend(BaseModel):
    usd: float = 0.0
    tokens: int = 0


class BudgetState(BaseModel):
    """What a run of the batch has spent, durably (in the parent workflow), and what it holds for
    running calls. Bounded by the concurrency, not by the topics."""

    spent: Spend = Field(default_factory=Spend)
    unpriced_calls: int = 0
    calls: int = 0
    reserved: dict[str, Reservation] = Field(default_factory=dict, description="grant -> room held")
    topics: dict[int, Spend] = Field(default_factory=dict, description="running topics' spend")
    most: dict[str, Spend] = Field(default_factory=dict, description="step and model -> the most "
                                   "one call cost")
    out: bool = Field(default=False, description="a call did not fit the batch's cap: no call and "
                      "no topic starts any more")
    out_reason: str = ""


class BudgetReport(BaseModel):
    """A run's budget and what it spent (the parent's figures: calls made by this run only)."""

    cap: Budget
    spent_usd: float
    spent_tokens: int
    calls: int = Field(default=0, description="calls that were granted room and answered")
    unpriced_calls: int = Field(default=0, description="of them, calls of models with no price "
                                "(their cost is unknown and counted as 0)")
    out: bool = Field(default=False, description="the batch's cap was reached")
    out_reason: str = ""

    def describe(self) -> str:
        """In words: spent against the caps, and why it stopped if it did."""
        cap = self.cap
        spent = f"${self.spent_usd:.4f}" + (f" of ${cap.usd:g}" if cap.usd is not None else "")
        tokens = f"{self.spent_tokens} tokens" + (f" of {cap.tokens}" if cap.tokens is not None else "")
        topic = Budget(topic_usd=cap.topic_usd, topic_tokens=cap.topic_tokens).describe()
        return (f"spent {spent}, {tokens}" + (f" ({topic})" if topic else "")
                + (f"; {self.unpriced_calls} calls of unpriced models counted as $0"
                   if self.unpriced_calls else "")
                + (f"; cap reached: {self.out_reason} (runner retry --budget USD finishes the rest)"
                   if self.out else ""))


def budget_text(report: dict[str, Any]) -> str:
    """:meth:`BudgetReport.describe` of report.json's ``budget``."""
    return BudgetReport.model_validate(report).describe()
