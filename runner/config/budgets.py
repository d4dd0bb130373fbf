"""A manifest's ``budget:``: its keys, and what to warn of before a budgeted batch starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.config.catalog import Catalog
from runner.contract.budget import Budget


class TopicBudgetEntry(BaseModel):
    """Caps on what one topic may spend (``budget.per_topic``)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    usd: float | None = Field(default=None, gt=0, description="most US dollars one topic's calls "
                              "may cost")
    tokens: int | None = Field(default=None, ge=1, description="most tokens (in and out) one "
                               "topic's LLM calls may use")

    @model_validator(mode="after")
    def _some(self) -> TopicBudgetEntry:
        if self.usd is None and self.tokens is None:
            raise ValueError("give `usd:`, `tokens:` or both")
        return self


class BudgetEntry(BaseModel):
    """What a run of the batch may spend on model calls (``budget:``)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    usd: float | None = Field(default=None, gt=0, description="most US dollars the batch's LLM and "
                              "speech calls may cost, at the catalog's prices")
    tokens: int | None = Field(default=None, ge=1, description="most tokens (in and out) its LLM "
                               "calls may use")
    per_topic: TopicBudgetEntry | None = Field(default=None, description="the same caps for each "
                                               "topic (`usd`, `tokens`)")

    @model_validator(mode="after")
    def _some(self) -> BudgetEntry:
        if self.usd is None and self.tokens is None and self.per_topic is None:
            raise ValueError("give `usd:`, `tokens:` or `per_topic:`")
        return self

    def caps(self) -> Budget:
        topic = self.per_topic or TopicBudgetEntry.model_construct(usd=None, tokens=None)
        return Budget(usd=self.usd, tokens=self.tokens, topic_usd=topic.usd, topic_tokens=topic.tokens)


def budget_warnings(budget: Budget | None, models: set[str], catalog: Catalog) -> list[str]:
    """What to say before a batch with ``budget`` that calls ``models`` starts: those that have no
    price in the catalog (their calls count as unknown cost, so the cap does not hold them back)."""
    if budget is None:
        return []
    unpriced = [m for m in sorted(models) if (spec := catalog.models.get(m)) is not None
                and spec.price is None and spec.provider != "offline"]
    if not unpriced:
        return []
    return [f"warning: the batch has a budget, but {', '.join(unpriced)} "
            f"{'has' if len(unpriced) == 1 else 'have'} no price in {catalog.source}: "
            "their calls count as unknown cost (0) against it (give `price:` in the catalog)"]
