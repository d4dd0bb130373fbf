"""`runner plan` against a step cache's index, without a server: what a submit would look up, step
by step (a model that answered only as a fallback, a step the workflow rejected)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.client.plan import _identities, plan_batch
from runner.config.catalog import Catalog, ModelSpec
from runner.config.jobkinds import job_kinds
from runner.config.manifest import BatchPlan
from runner.contract.types import TopicSpec
from runner.store.cache import StepCache, topic_key

CATALOG = Catalog(models={"a": ModelSpec(provider="offline", model="a"),
                          "b": ModelSpec(provider="offline", model="b")})
SPEC = TopicSpec(id="t", topic="entropy", models={"answer": ["a", "b"]},
                 params={"prompt": "Define {topic}"})


EXPLAINER = TopicSpec(id="t", topic="Derivative of x^2",  # silent: its record has no narrate steps
                      models={"decompose": ["a"], "script": ["a"]}, params={"quality": "low",
                                                                           "narration": False})


def indexed(tmp_path: Path, steps: list[dict[str, Any]], job: str = "prompt",
            spec: TopicSpec = SPEC) -> BatchPlan:
    """A cache whose index says the topic ran ``steps`` (name, model or None, status); each
    succeeded one is stored under a key of its identity (its model's, or its step's)."""
    cache = StepCache(tmp_path / "cache")
    ids = _identities(job_kinds()[job], CATALOG)
    record = []
    for n, step in enumerate(steps):
        key = ids[f"llm:{step['model']}" if step["model"] else step["name"].split(" (")[0]] + f"{n:048d}"
        if step["status"] == "succeeded":
            cache.publish(key, {"text": "x"}, {}, {"batch": "earlier"})
        record.append({**step, "key": key})
    cache.index_put(topic_key(job, spec), {"steps": record})
    return BatchPlan(name="p", job=job, manifest="m", output_dir=str(tmp_path / "o"),
                     concurrency=1, topics=[spec], cache=str(tmp_path / "cache"))


def test_an_answer_of_the_first_model_is_reused(tmp_path: Path) -> None:
    plan = plan_batch(indexed(tmp_path, [{"name": "answer", "model": "a", "status": "succeeded"}]),
                      CATALOG)
    assert not plan.work and plan.llm_calls == 0


def test_an_answer_of_a_fallback_is_not_what_the_chain_asks_first(tmp_path: Path) -> None:
    plan = plan_batch(indexed(tmp_path, [{"name": "answer", "model": "b", "status": "succeeded"}]),
                      CATALOG)
    [topic] = plan.work
    assert "a comes first in its chain" in topic.why and plan.llm_calls == 1


def test_a_rejected_job_step_runs_again_and_what_followed_is_reused(tmp_path: Path) -> None:
    ok = "succeeded"
    plan = plan_batch(indexed(tmp_path, [
        {"name": "decompose", "model": "a", "status": ok}, {"name": "script", "model": "a", "status": ok},
        {"name": "validate", "model": None, "status": "failed"},  # claims refuted: regenerated
        {"name": "script (regenerate 1)", "model": "a", "status": ok},
        {"name": "validate (regenerate 1)", "model": None, "status": ok},
        {"name": "render", "model": None, "status": ok}, {"name": "merge", "model": None, "status": ok},
    ], job="explainer", spec=EXPLAINER), CATALOG)
    [topic] = plan.work
    assert [s.name for s in topic.steps if not s.reused] == ["validate"]
    assert topic.why == "validate: rejected last time, runs again" and plan.llm_calls == 0


def test_a_narrated_topic_plans_its_narration_and_a_silent_one_does_not(tmp_path: Path) -> None:
    """narrate runs only with narration on (Step(..., when="narration")): a new narrated topic lists
    it, a recorded narrated topic without its narration in the record has work, a silent one not."""
    ok = "succeeded"
    steps = [{"name": n, "model": "a" if n in ("decompose", "script") else None, "status": ok}
             for n in ("decompose", "script", "validate", "render", "merge")]
    narrated = EXPLAINER.model_copy(update={"params": {"quality": "low"}})  # on by default
    assert plan_batch(indexed(tmp_path / "silent", steps, job="explainer", spec=EXPLAINER),
                      CATALOG).work == []
    [topic] = plan_batch(indexed(tmp_path / "narrated", steps, job="explainer", spec=narrated), CATALOG).work
    assert topic.why == "narrate: not recorded"
    for spec, names in ((narrated, ["decompose", "script", "validate", "render", "narrate", "merge"]),
                        (EXPLAINER, ["decompose", "script", "validate", "render", "merge"])):
        fresh = BatchPlan(name="p", job="explainer", manifest="m", output_dir=str(tmp_path / "o"),
                          concurrency=1, topics=[spec], cache=str(tmp_path / "empty"))
        [new] = plan_batch(fresh, CATALOG).work  # not in the cache: every step it would run
        assert [s.name for s in new.steps] == names


def test_a_rejected_answer_is_asked_again_and_what_followed_may_differ(tmp_path: Path) -> None:
    plan = plan_batch(indexed(tmp_path, [
        {"name": "answer", "model": "a", "status": "failed"},
        {"name": "answer (re-ask 1)", "model": "a", "status": "succeeded"}]), CATALOG)
    [topic] = plan.work
    assert [(s.name, s.reused) for s in topic.steps] == [("answer", False), ("answer (re-ask 1)", False)]
    assert "rejected last time, the model is asked again" in topic.why and plan.llm_calls == 2


def test_a_changed_catalog_model_or_a_lost_entry_is_work(tmp_path: Path) -> None:
    base = indexed(tmp_path, [{"name": "answer", "model": "a", "status": "succeeded"}])
    moved = Catalog(models={**CATALOG.models, "a": ModelSpec(provider="offline", model="a2")})
    assert "its model changed" in plan_batch(base, moved).work[0].why
    for meta in (tmp_path / "cache" / "entries").rglob("meta.json"):
        meta.unlink()
    assert "no longer in the cache" in plan_batch(base, CATALOG).work[0].why
