"""``runner plan``: what a submit of a manifest would run and what it would take from the step cache.

Nothing is started and nothing is written. A topic's last succeeded run recorded in the cache's
index the keys of all its steps (:func:`runner.activity.engine.publish_kept`); a topic is up to date
when its spec is the one recorded, and every step key recorded is still stored and still made by the
code, tools and models this machine has (each key starts with that identity's digest). Otherwise the
first step that would miss runs, and every step after it is counted as running too (what it gets as
input is not known before its upstream step has run).

Steps the cache does not keep (a job kind's cheap steps, e.g. the prompt kind's ``write``) run on
every submit and are not listed. Estimates of what would run: LLM calls (one per LLM step: repairs
and fallbacks come on top), tokens (what the same step took when this topic, or else the batch's
other topics, last ran) and their cost at the catalog's prices.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from runner.config.catalog import Catalog, has_batch_api
from runner.config.jobkinds import all_responders, job_kinds
from runner.config.manifest import BatchPlan
from runner.contract.budget import Budget
from runner.contract.jobkind import JobKind, Step, base_step
from runner.contract.types import TopicSpec
from runner.store.cache import StepCache, identity_digest, topic_key
from runner.store.identity import llm_identity, speech_identity, step_identity

# `runner plan`'s exit code when a submit would run something (0: everything is in the cache)
WORK_TO_DO = 3


@dataclass
class StepPlan:
    name: str
    reused: bool
    why: str = ""  # why it runs
    model: str | None = None
    tokens: tuple[int, int] | None = None  # recorded usage (input, output)


@dataclass
class TopicPlan:
    id: str
    topic: str
    steps: list[StepPlan]
    why: str = ""  # why the topic has work, in one phrase

    @property
    def up_to_date(self) -> bool:
        return all(s.reused for s in self.steps)


@dataclass
class Plan:
    batch: str
    job: str
    cache: str | None
    topics: list[TopicPlan] = field(default_factory=list)
    llm_calls: int = 0
    tokens: tuple[int, int] = (0, 0)
    unknown_tokens: int = 0  # LLM calls to make whose tokens nothing recorded
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    runs: Counter[str] = field(default_factory=Counter)  # step -> topics that run it
    reuses: Counter[str] = field(default_factory=Counter)
    budget: Budget | None = None
    delivered_cost_usd: float = 0.0  # the same, with the steps the manifest delivers in provider batches
    delivery: list[str] | None = None  # those steps (None: every call realtime)

    @property
    def work(self) -> list[TopicPlan]:
        return [t for t in self.topics if not t.up_to_date]

    def as_json(self) -> dict[str, Any]:
        return {"batch": self.batch, "job": self.job, "cache": self.cache,
                "up_to_date": not self.work,
                "totals": {"topics": len(self.topics), "work": len(self.work),
                           "cached": len(self.topics) - len(self.work),
                           "llm_calls": self.llm_calls, "input_tokens": self.tokens[0],
                           "output_tokens": self.tokens[1], "calls_without_estimate": self.unknown_tokens,
                           "cost_usd": round(self.cost_usd, 6), "unpriced_calls": self.unpriced_calls,
                           "delivered_cost_usd": round(self.delivered_cost_usd, 6),
                           "steps_run": dict(self.runs), "steps_reused": dict(self.reuses)},
                "budget": self.budget.model_dump(mode="json") if self.budget else None,
                "topics": [{"id": t.id, "topic": t.topic, "up_to_date": t.up_to_date, "why": t.why,
                            "run": [s.name for s in t.steps if not s.reused],
                            "reuse": [s.name for s in t.steps if s.reused]} for t in self.topics]}


def _identities(kind: JobKind, catalog: Catalog) -> dict[str, str]:
    """Identity digests of the kind's cached steps and of the catalog's models (``llm:NAME``)."""
    found = {s.name: identity_digest(step_identity(kind.name, s)) for s in kind.steps if s.cached}
    responders = all_responders()
    for name, spec in catalog.models.items():
        found[f"llm:{name}"] = identity_digest(llm_identity(spec.provider, spec.model, responders))
        if any(s.speech for s in kind.steps):
            found[f"speech:{name}"] = identity_digest(speech_identity(spec.provider, spec.model or ""))
    return found


def _topic(kind: JobKind, spec: TopicSpec, cache: StepCache | None,
           identities: dict[str, str]) -> TopicPlan:
    record = cache.index_get(topic_key(kind.name, spec)) if cache else None
    if record is None:
        why = "no step cache" if cache is None else "new or changed: not in the cache"
        return TopicPlan(spec.id, spec.topic, [StepPlan(s.name, False, why) for s in kind.steps
                                               if _planned(s, kind, spec)], why)
    steps: list[StepPlan] = []
    missed = rejected = ""
    for entry in record.get("steps", []):
        name, key, model = str(entry.get("name")), str(entry.get("key")), entry.get("model")
        usage = entry.get("usage") or {}
        tokens = (int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))) \
            if usage else None
        step = kind.step(name)
        ident = identities.get(f"speech:{model}" if step and step.speech else f"llm:{model}"
                               if step and step.llm else step.name if step else "")
        chain = spec.models.get(step.name, []) if step and step.llm else []
        if entry.get("status", "succeeded") != "succeeded" and not (step and step.llm):
            # a job step the workflow rejected last time (never kept) runs again, and gives the
            # same again: what the topic did next is in the cache. (A model asked again may answer
            # otherwise: a rejected LLM step is a miss like any other.)
            rejected = rejected or f"{name}: rejected last time, runs again"
            steps.append(StepPlan(name, False, "rejected last time", model, tokens))
            continue
        if entry.get("status", "succeeded") != "succeeded" and not missed:
            missed = f"{name}: its answer was rejected last time, the model is asked again"
        if not missed:
            if chain and model != chain[0]:
                missed = (f"{name}: {chain[0]} comes first in its chain and the cache has no answer "
                          f"of it (last time {model} answered)")
            elif ident is None:
                missed = f"{name}: its model {model!r} is not in the catalog" if step and step.llm \
                    else f"{name}: not a cached step of {kind.name}"
            elif not key.startswith(ident):
                missed = f"{name}: " + ("its model changed" if step and step.llm
                                        else "its code or tools changed")
            elif cache is not None and cache.lookup(key) is None:
                missed = f"{name}: its output is no longer in the cache"
        steps.append(StepPlan(name, not missed, missed, model, tokens))
    recorded = {base_step(s.name) for s in steps}
    for s in kind.steps:  # (steps the cache does not keep run every time: not listed)
        if _planned(s, kind, spec) and s.name not in recorded:
            steps.append(StepPlan(s.name, False, "not recorded"))
            missed = missed or f"{s.name}: not recorded"
    return TopicPlan(spec.id, spec.topic, steps, missed or rejected)


def _planned(step: Step, kind: JobKind, spec: TopicSpec) -> bool:
    """Whether the topic runs ``step`` (a step an option turns on, the explainer's narrate, runs
    only with it on) and the step cache keeps its outputs (LLM answers and speech; job steps that
    name their code)."""
    return (step.llm or step.cached) and step.runs_for(spec.params, kind.options)


def plan_batch(plan: BatchPlan, catalog: Catalog) -> Plan:
    """What submitting ``plan`` would run, topic by topic."""
    kind = job_kinds()[plan.job]
    cache = StepCache(plan.cache) if plan.cache else None
    identities = _identities(kind, catalog)
    out = Plan(batch=plan.name, job=plan.job, cache=plan.cache, budget=plan.budget,
               delivery=plan.delivery.steps if plan.delivery else None)
    out.topics = [_topic(kind, spec, cache, identities) for spec in plan.topics]
    llm = set(kind.llm_steps)
    seen: dict[str, list[tuple[int, int]]] = {}
    for t in out.topics:
        for s in t.steps:
            if s.tokens is not None:
                seen.setdefault(base_step(s.name), []).append(s.tokens)
    tokens_in = tokens_out = 0
    specs = {s.id: s for s in plan.topics}
    for t in out.topics:
        for s in t.steps:
            base = base_step(s.name)
            if s.reused:
                out.reuses[base] += 1
                continue
            out.runs[base] += 1
            if base not in llm:
                continue
            out.llm_calls += 1
            guess = s.tokens or _mean(seen.get(base, []))
            if guess is None:
                out.unknown_tokens += 1
                continue
            tokens_in, tokens_out = tokens_in + guess[0], tokens_out + guess[1]
            chain = specs[t.id].models.get(base) or [""]
            model = catalog.models.get(s.model or chain[0])
            if model is not None and model.price is not None:
                cost = (guess[0] * model.price.input_per_mtok + guess[1] * model.price.output_per_mtok) / 1e6
                out.cost_usd += cost
                batched = plan.delivery is not None and base in plan.delivery.steps and has_batch_api(model)
                out.delivered_cost_usd += cost * (1 - model.price.batch_discount) if batched else cost
            elif model is None or model.provider != "offline":  # the offline model is free
                out.unpriced_calls += 1
    out.tokens = (tokens_in, tokens_out)
    return out


def _mean(usages: list[tuple[int, int]]) -> tuple[int, int] | None:
    if not usages:
        return None
    return round(mean(u[0] for u in usages)), round(mean(u[1] for u in usages))


def render(plan: Plan, *, limit: int = 200) -> list[str]:
    """``plan`` for people: the topics with work (and, for small batches, the others), totals."""
    lines = [f"batch {plan.batch} ({plan.job}): {len(plan.topics)} topics, "
             f"step cache {plan.cache or 'off'}"]
    shown = 0
    for t in plan.topics:
        if t.up_to_date and len(plan.topics) > limit:
            continue
        if shown == limit:
            lines.append(f"  ... {len(plan.work) - limit} more with work (--json lists all)")
            break
        shown += 1
        if t.up_to_date:
            lines.append(f"  cached  {t.id}: every step from the cache")
        else:
            run = [s.name for s in t.steps if not s.reused]
            reuse = [s.name for s in t.steps if s.reused]
            lines.append(f"  work    {t.id}: runs {', '.join(run)}"
                         + (f"; reuses {', '.join(reuse)}" if reuse else "") + f" ({t.why})")
    steps = ", ".join(f"{name} {n}" for name, n in plan.runs.items())
    if plan.unknown_tokens == plan.llm_calls:
        estimate = "tokens and cost unknown (no earlier run of these steps to estimate from)"
    else:
        estimate = (f"~{plan.tokens[0]}/{plan.tokens[1]} tokens in/out, ~${plan.cost_usd:.4f}"
                    + (f" (+{plan.unpriced_calls} unpriced calls)" if plan.unpriced_calls else "")
                    + (f"; {plan.unknown_tokens} calls with no earlier run to estimate from"
                       if plan.unknown_tokens else ""))
    lines.append(f"{len(plan.work)} of {len(plan.topics)} topics have work"
                 + (f"; steps to run: {steps}" if steps else "")
                 + (f"; LLM calls >= {plan.llm_calls}, {estimate}" if plan.llm_calls else ""))
    if plan.delivery and plan.llm_calls and plan.unknown_tokens < plan.llm_calls:
        lines.append(f"delivery: {', '.join(plan.delivery)} through provider batches: "
                     f"~${plan.delivered_cost_usd:.4f} (realtime: ~${plan.cost_usd:.4f})")
    if plan.budget is not None:
        lines.append(f"budget: {plan.budget.describe()}" + _against(plan))
    return lines


def _against(plan: Plan) -> str:
    """How the estimate compares with the budget's dollar cap."""
    cap = plan.budget.usd if plan.budget else None
    if cap is None or not plan.llm_calls:
        return ""
    if plan.unknown_tokens:
        return "; the estimate is incomplete (steps with no earlier run to estimate from)"
    cost = plan.delivered_cost_usd if plan.delivery else plan.cost_usd
    if cost <= cap:
        return f"; the estimate (~${cost:.4f}) fits it"
    return (f"; the estimate (~${cost:.4f}) is over it: about {cap / cost:.0%} of "
            "the work would be done, the rest would end budget_exhausted")
