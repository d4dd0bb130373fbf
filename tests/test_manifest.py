"""Manifest validation: every problem at once, with file, line and key path; defaults resolved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.config.catalog import BUILTIN, Catalog, ModelSpec, load_catalog
from runner.config.manifest import load_manifest, slugify
from runner.contract.errors import ManifestError

REPO = Path(__file__).resolve().parent.parent


# the explainer's option defaults
REPAIR_DEFAULTS = {"code_repairs": 3, "claim_regenerations": 2, "reencode": False, "crf": 23,
                   "narration": True, "voice": "", "subtitles": "sidecar"}

def write(tmp_path: Path, text: str, name: str = "batch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, catalog: Catalog = BUILTIN) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as info:
        load_manifest(path, catalog, cwd=tmp_path)
    return [str(p).replace(f"{tmp_path}/", "") for p in info.value.problems]


def test_every_mistake_is_reported_with_its_line(tmp_path: Path) -> None:
    text = """\
name: Calculus Basics
job: explainer
concurency: 4
quality: low
models:
  default: [offline, gpt-9]
  render: [offline]
topics:
  - Derivative of x^2
  - topic: Derivative of x^2
  - topic: Limits
    quality: ultra
    colour: red
  - id: no-topic
"""
    assert problems(tmp_path, text) == [
        "batch.yaml:1: name: must be lowercase letters, digits and '-' (e.g. calculus-basics), "
        "got 'Calculus Basics'",
        "batch.yaml:3: concurency: unknown key (allowed: budget, cache, claim_regenerations, code_repairs, "
        "concurrency, crf, delivery, job, models, name, narration, output_dir, quality, reencode, schedule, "
        "steps, subtitles, topics, voice)",
        "batch.yaml:6: models.default[1]: unknown model 'gpt-9' (catalog built-in has: offline)",
        "batch.yaml:7: models.render: unknown step 'render' for job 'explainer' "
        "(LLM steps: decompose, default, narrate, script)",
        "batch.yaml:10: topics[1]: duplicate topic id 'derivative-of-x-2' (same as topics[0] on "
        "line 9); give one of them an explicit `id:`",
        "batch.yaml:12: topics[2].quality: must be one of low, medium, high",
        "batch.yaml:13: topics[2].colour: unknown key (allowed: claim_regenerations, code_repairs, "
        "crf, id, models, narration, quality, reencode, steps, subtitles, topic, voice)",
        "batch.yaml:14: topics[3].topic: required key is missing",
    ]


def test_unknown_job_and_empty_topics(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: x\njob: nope\ntopics: []\n") == [
        "batch.yaml:2: job: unknown job kind 'nope' (known: explainer, prompt)",
        "batch.yaml:3: topics: must not be empty",
    ]


def test_yaml_syntax_error_and_duplicate_keys(tmp_path: Path) -> None:
    assert problems(tmp_path, "name: x\n  job: [\n") == [
        "batch.yaml:2: invalid YAML: mapping values are not allowed here"]
    assert problems(tmp_path, "name: a\njob: explainer\nname: b\ntopics: [t]\n") == [
        "batch.yaml:3: name: duplicate key (first defined on line 1)"]


def test_not_a_mapping_and_unreadable(tmp_path: Path) -> None:
    assert problems(tmp_path, "- just\n- a list\n") == [
        "batch.yaml:1: a manifest must be a mapping, got a list"]
    with pytest.raises(ManifestError) as info:
        load_manifest(tmp_path / "missing.yaml", BUILTIN)
    assert str(info.value) == f"{tmp_path}/missing.yaml: cannot read file: No such file or directory"


def test_models_must_cover_every_llm_step(tmp_path: Path) -> None:
    text = "name: x\njob: explainer\nmodels:\n  script: [offline]\n  decompose: []\ntopics: [t]\n"
    assert problems(tmp_path, text) == [
        "batch.yaml:5: models.decompose: must name at least one model"]
    text = "name: x\njob: explainer\nmodels:\n  script: [offline]\ntopics: [t]\n"
    assert problems(tmp_path, text) == [
        "batch.yaml:3: models: no chain for step(s) decompose: name them or add `default:`"]


def test_defaults_and_per_topic_overrides_are_resolved(tmp_path: Path) -> None:
    catalog = Catalog(models={"offline": ModelSpec(provider="offline"),
                              "other": ModelSpec(provider="offline")})
    path = write(tmp_path, """\
name: calculus-basics
job: explainer
quality: medium
models:
  default: [offline]
  script: [other, offline]
topics:
  - Derivative of x^2
  - topic: The Pythagorean theorem
    id: pythagoras
    quality: high
    models: {decompose: [other]}
""")
    plan = load_manifest(path, catalog, cwd=tmp_path)
    assert plan.output_dir == str(tmp_path / "out" / "calculus-basics")
    assert plan.concurrency == 4
    first, second = plan.topics
    assert (first.id, first.params, first.models) == (
        "derivative-of-x-2", {"quality": "medium", **REPAIR_DEFAULTS},
        {"decompose": ["offline"], "script": ["other", "offline"], "narrate": ["offline"]})
    assert (second.id, second.params, second.models) == (
        "pythagoras", {"quality": "high", **REPAIR_DEFAULTS},
        {"decompose": ["other"], "script": ["other", "offline"], "narrate": ["offline"]})


def test_slugify() -> None:
    assert slugify("Derivative of x^2") == "derivative-of-x-2"
    assert slugify("  Ünïcode — topic!! ") == "unicode-topic"
    assert slugify("∫∑") == "topic"
    assert len(slugify("a" * 200)) == 64


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("models*.yaml")), ids=lambda p: p.name)
def test_every_catalog_loads(path: Path) -> None:
    assert load_catalog(path).models


@pytest.mark.parametrize("manifest", sorted((REPO / "configs" / "examples").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_example_manifest_validates(manifest: Path) -> None:
    """Against configs/models.yaml, or the catalog its instructions name with --catalog."""
    named = re.search(r"--catalog (\S+)", manifest.read_text())
    plan = load_manifest(manifest, load_catalog(REPO / (named.group(1) if named else "configs/models.yaml")))
    assert plan.topics


def test_the_default_model_chain_is_checked_against_the_catalog(tmp_path: Path) -> None:
    catalog = Catalog(models={"claude": ModelSpec(provider="anthropic", model="m")}, source="cat.yaml")
    assert problems(tmp_path, "name: x\njob: explainer\ntopics: [t]\n", catalog) == [
        "batch.yaml: models: no `models:` given, and the default chain's model(s) offline are not in "
        "catalog cat.yaml (it has: claude); add `models:`"]


def test_step_policies_layer_job_defaults_batch_and_topic(tmp_path: Path) -> None:
    path = write(tmp_path, """\
name: steps
job: explainer
steps:
  render: {timeout: 45m, retry: {maximum_attempts: 3, initial_interval: 500ms}}
  decompose: {timeout: 90}
topics:
  - a
  - topic: b
    steps:
      render: {heartbeat: 1m30s, retry: {maximum_interval: 2h}}
""")
    plan = load_manifest(path, BUILTIN, cwd=tmp_path)
    a, b = (t.steps for t in plan.topics)
    assert set(a) == {"decompose", "script", "validate", "render", "narrate", "merge"}
    assert a["render"].timeout_s == 2700 and a["render"].heartbeat_s == 60  # the job's heartbeat
    assert a["render"].retry.maximum_attempts == 3 and a["render"].retry.initial_interval_s == 0.5
    assert a["render"].retry.maximum_interval_s == 60 and a["render"].retry.backoff_coefficient == 2
    assert a["decompose"].timeout_s == 90 and a["decompose"].heartbeat_s is None
    assert a["merge"] == b["merge"] and a["merge"].timeout_s == 600  # untouched: the job's default
    assert b["render"].timeout_s == 2700 and b["render"].heartbeat_s == 90
    assert b["render"].retry.maximum_attempts == 3 and b["render"].retry.maximum_interval_s == 7200


def test_step_policy_mistakes_are_located(tmp_path: Path) -> None:
    text = """\
name: steps
job: explainer
steps:
  render: {timeout: 10 parsecs, heartbeat: 5s}
  paint: {timeout: 1m}
  script: {heartbeat: 10s}
  merge: {timeout: 30s, heartbeat: 30s}
  validate: {retry: {maximum_attempts: 0, tries: 2}}
topics:
  - a
  - topic: b
    steps:
      render: {timeout: 1m}
      merge: {retry: {initial_interval: 2m}}
"""
    assert problems(tmp_path, text) == [
        "batch.yaml:4: steps.render.timeout: must be a duration such as 90s, 30m or 1h, got "
        "'10 parsecs'",
        "batch.yaml:5: steps.paint: unknown step 'paint' for job 'explainer' "
        "(steps: decompose, script, validate, render, narrate, merge)",
        "batch.yaml:6: steps.script.heartbeat: step 'script' does not heartbeat (steps that do: "
        "validate, render, merge)",
        "batch.yaml:7: steps.merge: heartbeat (30 s) must be shorter than timeout (30 s)",
        "batch.yaml:8: steps.validate.retry.maximum_attempts: must be greater than or equal to 1",
        "batch.yaml:8: steps.validate.retry.tries: unknown key (allowed: backoff_coefficient, "
        "initial_interval, maximum_attempts, maximum_interval)",
    ]
    # each layer alone is fine; together they contradict: said where the last layer set it
    text = text.split("steps:\n", 1)[0] + "topics:\n" + text.split("topics:\n", 1)[1]
    assert problems(tmp_path, text) == [
        "batch.yaml:7: topics[1].steps.render: heartbeat (60 s) must be shorter than timeout (60 s)",
        "batch.yaml:8: topics[1].steps.merge: retry.maximum_interval (60 s) must not be shorter than "
        "retry.initial_interval (120 s)",
    ]
