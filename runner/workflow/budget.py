"""A batch's budget, kept by its parent workflow: who may make a model call, and what was spent.

Before a call of a budgeted batch is made, its activity asks the parent for room (an update, see
:class:`Ledger.decide`), and once the call has answered or failed it says what it cost (a signal,
:meth:`Ledger.settle`). A call is expected to cost what the most expensive call of the same step and
model has cost in this run (at least its input, priced); it is granted only if what was spent, what
the running calls are expected to cost and what it is expected to cost fit under every cap. So the
batch stops within about one call's cost of its cap: a call that costs more than any before it of
its step and model can take the spend past the cap by the difference. Until a step and model has
cost something, one call of it runs at a time.

Pure bookkeeping, no Temporal calls: sandbox-safe, and tested without a server.
"""

from __future__ import annotations

from typing import Literal

from runner.contract.budget import (
    Budget,
    BudgetAnswer,
    BudgetAsk,
    BudgetReport,
    BudgetSpent,
    BudgetState,
    Reservation,
    Spend,
)

Verdict = Literal["granted", "wait", "denied"]


def _key(step: str, model: str) -> str:
    return f"{step} {model}"


def _over(cap: float | None, spent: float, held: float, est: float) -> Verdict | None:
    """``denied`` if ``est`` cannot fit under ``cap`` even once the held room is freed, ``wait``
    if it fits only then, None if it fits now (or there is no cap)."""
    if cap is None:
        return None
    if spent >= cap or spent + est > cap:
        return "denied"
    if spent + held + est > cap:
        return "wait"
    return None


class Ledger:
    """The budget ``cap`` over a run's :class:`BudgetState` (which the parent hands on when it
    continues as new)."""

    def __init__(self, cap: Budget, state: BudgetState) -> None:
        self.cap = cap
        self.st = state

    def estimate(self, ask: BudgetAsk) -> tuple[float, int, bool]:
        """What ``ask``'s call is expected to cost: dollars, tokens, and whether a call of its step
        and model has cost something known before."""
        if ask.upper:
            return ask.usd, ask.tokens, True
        most = self.st.most.get(_key(ask.step, ask.model))
        if most is None:
            return ask.usd, ask.tokens, False
        return max(ask.usd, most.usd), max(ask.tokens, most.tokens), True

    def _stale(self, ask: BudgetAsk) -> list[str]:
        """Room held for earlier attempts of ``ask``'s activity: they are over (Temporal runs one
        attempt at a time), though one that died with its worker never said so. Grants are
        ``workflow/activity/attempt``."""
        activity = ask.grant.rpartition("/")[0]
        if not activity:
            return []
        return [g for g in self.st.reserved if g != ask.grant and g.rpartition("/")[0] == activity]

    def decide(self, ask: BudgetAsk) -> BudgetAnswer:
        """Whether ``ask``'s call may start now (no change to the state: see :meth:`ask`)."""
        st, cap = self.st, self.cap
        if ask.grant in st.reserved:  # asked again (a retried request): the same answer
            return BudgetAnswer(decision="granted")
        if st.out:
            return BudgetAnswer(decision="denied", reason=st.out_reason)
        usd, tokens, seen = self.estimate(ask)
        stale = set(self._stale(ask))
        held = [r for g, r in st.reserved.items() if g not in stale]
        held_usd = sum(r.usd for r in held)
        held_tokens = sum(r.tokens for r in held)
        for verdict, what in ((_over(cap.usd, st.spent.usd, held_usd, usd), "usd"),
                              (_over(cap.tokens, st.spent.tokens, held_tokens, tokens), "tokens")):
            if verdict == "denied":
                return BudgetAnswer(decision="denied", reason=self._reason(what, ask))
            if verdict == "wait":
                return BudgetAnswer(decision="wait", reason=f"room under the batch's {what} cap is "
                                    "held by running calls")
        mine = [r for r in held if r.index == ask.index]
        topic = st.topics.get(ask.index, Spend())
        for verdict, what in ((_over(cap.topic_usd, topic.usd, sum(r.usd for r in mine), usd), "usd"),
                              (_over(cap.topic_tokens, topic.tokens, sum(r.tokens for r in mine),
                                     tokens), "tokens")):
            if verdict == "denied":
                return BudgetAnswer(decision="denied", reason=self._reason(what, ask, topic=topic))
            if verdict == "wait":
                return BudgetAnswer(decision="wait", reason=f"room under the topic's {what} cap is "
                                    "held by its running calls")
        if not seen and any(r.key == _key(ask.step, ask.model) and not r.seen for r in held):
            return BudgetAnswer(decision="wait", reason="the first call of this step and model has "
                                "not said what it costs yet")
        return BudgetAnswer(decision="granted")

    def _reason(self, what: str, ask: BudgetAsk, topic: Spend | None = None) -> str:
        cap, spent = self.cap, topic or self.st.spent
        if what == "usd":
            limit = cap.usd if topic is None else cap.topic_usd
            figures = f"${spent.usd:.4f} spent of ${limit:g}"
        else:
            limit = cap.tokens if topic is None else cap.topic_tokens
            figures = f"{spent.tokens} tokens used of {limit}"
        whose = "the batch's" if topic is None else "the topic's"
        return f"{whose} budget is spent ({figures}; {ask.step} with {ask.model} does not fit)"

    def ask(self, ask: BudgetAsk) -> BudgetAnswer:
        """:meth:`decide`, then hold room for a granted call; a call denied by the batch's cap
        ends the batch's spending (``out``)."""
        answer = self.decide(ask)
        if answer.decision != "wait":
            for grant in self._stale(ask):
                del self.st.reserved[grant]
        if answer.decision == "granted" and ask.grant not in self.st.reserved:
            usd, tokens, seen = self.estimate(ask)
            self.st.reserved[ask.grant] = Reservation(index=ask.index, key=_key(ask.step, ask.model),
                                                      usd=usd, tokens=tokens, seen=seen)
        elif answer.decision == "denied" and not self.st.out and answer.reason.startswith("the batch's"):
            self.st.out, self.st.out_reason = True, answer.reason
        return answer

    def settle(self, spent: BudgetSpent) -> None:
        """A granted call says what it cost: count it, free its room."""
        st = self.st
        held = st.reserved.pop(spent.grant, None)
        st.spent.usd = round(st.spent.usd + spent.usd, 9)
        st.spent.tokens += spent.tokens
        st.calls += spent.answered
        st.unpriced_calls += spent.answered and not spent.priced
        if spent.index in st.topics or held is not None:
            topic = st.topics.setdefault(spent.index, Spend())
            topic.usd = round(topic.usd + spent.usd, 9)
            topic.tokens += spent.tokens
        if held is not None and spent.answered:
            most = st.most.setdefault(held.key, Spend())
            most.usd, most.tokens = max(most.usd, spent.usd), max(most.tokens, spent.tokens)

    def release(self, index: int) -> None:
        """Topic ``index`` ended: free what it held (a call that never said what it cost) and
        forget its spend."""
        for grant in [g for g, r in self.st.reserved.items() if r.index == index]:
            del self.st.reserved[grant]
        self.st.topics.pop(index, None)

    def report(self) -> BudgetReport:
        st = self.st
        return BudgetReport(cap=self.cap, spent_usd=round(st.spent.usd, 6), spent_tokens=st.spent.tokens,
                            calls=st.calls, unpriced_calls=st.unpriced_calls, out=st.out,
                            out_reason=st.out_reason)
