"""Batch manifests: YAML in, a validated :class:`BatchPlan` out, or every problem at once.

A manifest's common keys are defined here; a job kind adds its own (``JobKind.options``), which are
allowed at the top level as defaults and on each topic as overrides. Problems are reported as
``FILE:LINE: key.path: message``.
"""

from __future__ import annotations

import os
import re
import typing
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from runner.config.budgets import BudgetEntry, TopicBudgetEntry
from runner.config.catalog import Catalog
from runner.config.cron import ScheduleEntry
from runner.config.delivery import DeliveryEntry, check_delivery
from runner.config.home import runner_home
from runner.config.jobkinds import job_kinds
from runner.config.validation import problems_from
from runner.config.yamlsource import PathKey, YamlSource, load_yaml
from runner.contract.budget import Budget
from runner.contract.delivery import Delivery
from runner.contract.errors import ManifestError, Problem, UsageError
from runner.contract.jobkind import JobKind
from runner.contract.names import OUTPUT_PLACEHOLDERS, fixed_part
from runner.contract.policy import (
    RetryEntry,
    StepEntry,
    apply,
    conflicts,
)
from runner.contract.types import StepPolicy, TopicSpec
from runner.store.artifacts import StoreError, check_url, is_url

NAME_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_ID = 64


def slugify(text: str) -> str:
    """A stable topic id from its text: ``Derivative of x^2`` -> ``derivative-of-x-2``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_ID].rstrip("-") or "topic"


# Characters a topic's text may not hold: C0 controls but tab and newline, DEL, and the bidi
# embeddings, overrides and isolates (text that displays other than it reads).
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
MAX_TOPIC = 10_000


def check_topic_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    if bad := _BAD_TEXT.search(value):
        raise ValueError(f"must not contain control or bidi-override characters (found "
                         f"{bad.group()!r} at character {bad.start() + 1})")
    if len(value) > MAX_TOPIC:
        raise ValueError(f"must be at most {MAX_TOPIC:,} characters, got {len(value):,}")
    return value


def _check_name(value: str) -> str:
    if not NAME_RE.fullmatch(value):  # (match with $ let "abc\n" through)
        raise ValueError(f"must be lowercase letters, digits and '-' (e.g. calculus-basics), "
                         f"got {value!r}")
    if len(value) > MAX_ID:  # it names files and workflow ids
        raise ValueError(f"must be at most {MAX_ID} characters, got {len(value)}")
    return value


class TopicEntry(BaseModel):
    """A topic given as a mapping (a bare string is shorthand for ``{topic: ...}``)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    topic: str = Field(min_length=1, description="what the pipeline is about")
    id: str | None = Field(default=None, description="stable id; default: a slug of the topic")
    models: dict[str, list[str]] | None = Field(
        default=None, description="model chains overriding the batch's, per step")
    steps: dict[str, StepEntry] | None = Field(
        default=None, description="step policies overriding the batch's, per step")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return None if v is None else _check_name(v)

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str) -> str:
        return check_topic_text(v)


def _no_control_characters(value: str) -> None:
    if bad := sorted({c for c in value if ord(c) < 32 or ord(c) == 127}):
        raise ValueError(f"must not contain control characters (found {', '.join(map(repr, bad))})")


def _check_output_dir(value: str | None) -> str | None:
    if value is None:
        return None
    _no_control_characters(value)
    if not value.strip():
        raise ValueError("must not be empty")
    rest = re.sub(r"\$\{\w+\}", "", value)  # ${VARIABLE}: expanded where it is resolved
    for placeholder in OUTPUT_PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        raise ValueError(f"the only placeholders are {' and '.join(OUTPUT_PLACEHOLDERS)}, got {value!r}")
    if is_url(value):
        return check_url(value)
    return value


class Manifest(BaseModel):
    """The keys every manifest has, whatever its job kind."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(description="batch name: lowercase letters, digits and '-'")
    job: str = Field(description="job kind (see `runner jobs`)")
    output_dir: str | None = Field(default=None, description="default: out/<name>, relative to the "
                                   "current directory (~ and $VARIABLES expanded; never a system "
                                   "folder such as / or /etc); or an object store URL, e.g. "
                                   "s3://bucket/prefix; may hold {date} and {time} (filled in per run)")
    concurrency: int = Field(default=4, ge=1, le=10000, description="most topics in flight at once")
    models: dict[str, list[str]] = Field(
        default_factory=lambda: {"default": ["offline"]},
        description="model chain per LLM step, first is primary; `default` covers steps not named")
    steps: dict[str, StepEntry] = Field(
        default_factory=dict, description="per step: timeout, heartbeat, retry (see the job's "
        "defaults with `runner jobs`)")
    topics: list[TopicEntry] = Field(min_length=1, description="the topics, one child workflow each")
    schedule: ScheduleEntry | None = Field(
        default=None, description="run the batch on a schedule (`runner schedule apply`); each run "
        "writes to its own folder under output_dir")
    budget: BudgetEntry | None = Field(
        default=None, description="caps on what a run of the batch (a submit, a `runner retry`) "
        "spends on model calls: `usd`, `tokens`, and `per_topic: {usd, tokens}`. Once a call does "
        "not fit the batch's caps, no call and no topic starts; unfinished topics end "
        "`budget_exhausted` (see below)")
    delivery: DeliveryEntry | None = Field(
        default=None, description="`batch`: LLM calls go through the providers' batch APIs (half "
        "price, answers within hours); `realtime` (default): one request each; or a mapping (see "
        "below)")
    cache: str | None = Field(
        default=None, description="folder of the step cache, relative to the current directory, or "
        "an object store URL (s3://bucket/cache: shared by workers on several machines): a "
        "step (an LLM call, a render, ...) whose output is kept there for the same input, code and "
        "models is reused without running; `off`: no cache (default: $RUNNER_CACHE, else "
        "$RUNNER_HOME/cache)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v)

    @field_validator("cache", mode="before")
    @classmethod
    def _cache(cls, v: Any) -> Any:
        if v is False:  # YAML's `off`
            return "off"
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise ValueError("must be a folder, an object store URL, or off")
        if isinstance(v, str):
            _no_control_characters(v)
        if isinstance(v, str) and is_url(v):
            return check_url(v)
        return v

    @field_validator("output_dir")
    @classmethod
    def _output_dir(cls, v: str | None) -> str | None:
        return _check_output_dir(v)


CACHE_ENV = "RUNNER_CACHE"  # the default step cache folder, or `off`


class BatchPlan(BaseModel):
    """A validated manifest with every default applied: what ``runner submit`` starts."""

    name: str
    job: str
    manifest: str
    output_dir: str
    concurrency: int
    topics: list[TopicSpec]
    schedule: ScheduleEntry | None = None
    cache: str | None = None
    budget: Budget | None = None
    delivery: Delivery | None = None


@cache
def manifest_model(kind: JobKind | None) -> tuple[type[BaseModel], type[BaseModel]]:
    """The manifest and topic models for a job kind (its options merged in)."""
    if kind is None:
        return Manifest, TopicEntry
    optional: dict[str, Any] = {
        name: (f.annotation | None, Field(default=None, description=f.description))  # type: ignore[operator]
        for name, f in kind.options.model_fields.items()
    }
    topic_model = create_model(f"{kind.name.title()}Topic", __base__=TopicEntry, **optional)
    batch_model = create_model(
        f"{kind.name.title()}Manifest", __base__=(Manifest, kind.options),
        topics=(list[topic_model], Field(min_length=1)),  # type: ignore[valid-type]
    )
    return batch_model, topic_model


def load_manifest(path: str | Path, catalog: Catalog, *, cwd: Path | None = None) -> BatchPlan:
    """Load, validate and resolve a manifest.

    Args:
        path: the manifest file.
        catalog: the model catalog that model names are checked against.
        cwd: base of a relative ``output_dir`` (default: the current directory).

    Raises:
        ManifestError: with every problem found.
    """
    source = load_yaml(path)
    return plan_from_source(source, catalog, manifest_path=Path(path), cwd=cwd or Path.cwd())


def plan_from_source(source: YamlSource, catalog: Catalog, *, manifest_path: Path,
                     cwd: Path) -> BatchPlan:
    """Validate parsed YAML (see :func:`load_manifest`). Consumes ``source``: its data and lines are
    dropped once the plan is checked."""
    data = source.data
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ManifestError([Problem(source.file, 1, "", f"a manifest must be a mapping, got {got}")])
    data = dict(data)
    if isinstance(data.get("topics"), list):
        data["topics"] = [{"topic": t} if isinstance(t, str) else t for t in data["topics"]]

    kinds = job_kinds()
    problems: list[Problem] = []
    kind = kinds.get(data["job"]) if isinstance(data.get("job"), str) else None
    if isinstance(data.get("job"), str) and kind is None:
        problems.append(source.problem(("job",), f"unknown job kind {data['job']!r} "
                                       f"(known: {', '.join(sorted(kinds)) or 'none'})"))
    batch_model, topic_model = manifest_model(kind)

    def allowed(loc: PathKey) -> list[str] | None:
        if loc == ():
            return list(batch_model.model_fields)
        if loc == ("schedule",):
            return list(ScheduleEntry.model_fields)
        if loc == ("budget",):
            return list(BudgetEntry.model_fields)
        if loc == ("delivery",):
            return list(DeliveryEntry.model_fields)
        if loc == ("budget", "per_topic"):
            return list(TopicBudgetEntry.model_fields)
        if len(loc) == 2 and loc[0] == "topics":
            return list(topic_model.model_fields)
        tail = loc[2:] if loc[:1] == ("topics",) else loc
        if len(tail) == 2 and tail[0] == "steps":
            return list(StepEntry.model_fields)
        if len(tail) == 3 and tail[0] == "steps" and tail[2] == "retry":
            return list(RetryEntry.model_fields)
        return None

    parsed: Manifest | None = None
    try:
        parsed = typing.cast(Manifest, batch_model.model_validate(data))
    except ValidationError as exc:
        found = problems_from(exc, source, allowed_keys=allowed)
        if kind is None:  # a key some job kind has cannot be judged without a known kind
            any_kind = {name for k in kinds.values() for name in k.options.model_fields}
            found = [p for p in found if not (p.message.startswith("unknown key")
                                              and p.path.rsplit(".", 1)[-1] in any_kind)]
        problems.extend(found)

    problems.extend(_check_models(data, source, catalog, kind))
    problems.extend(_check_speech(data, source, catalog, kind))
    problems.extend(_check_ids(data, source))
    problems.extend(_check_steps(data, source, kind))
    problems.extend(check_delivery(data, source, kind))
    policies: list[dict[str, StepPolicy]] = []
    if parsed is not None and kind is not None and not problems:
        policies = _resolve_steps(parsed, kind, source, problems)
        problems.extend(_check_output_location(parsed, source, cwd))
    if problems or parsed is None or kind is None:
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise ManifestError(problems)
    # checked: the parsed text is no longer needed (its memory counts at 100,000 topics)
    del data
    source.data, source.lines = None, {}
    return _resolve(parsed, kind, manifest_path, cwd, policies, set(catalog.models))


# Folders a batch must never write into (workers often run as root): the file system's root and the
# system's own folders (and, for the first group, anything under them).
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                "/sbin", "/sys", "/usr")
SYSTEM_FOLDERS = ("/", "/home", "/root", "/var", "/opt", "/srv", "/mnt", "/media", "/tmp")


def local_output_dir(value: str | None, name: str, cwd: Path) -> Path:
    """Where a local ``output_dir`` lies: ``~`` and environment variables expanded, relative to
    ``cwd`` (default: out/<name>)."""
    out = Path(os.path.expandvars(os.path.expanduser(value))) if value else Path("out") / name
    return (cwd / out).resolve()


def _check_output_location(parsed: Manifest, source: YamlSource, cwd: Path) -> list[Problem]:
    """A local output_dir is not a system folder, not a file, and names no unset variable."""
    value = parsed.output_dir
    if value is not None and is_url(value):
        return []
    if value is not None and (unset := re.findall(r"\$\{?([A-Za-z_]\w*)", os.path.expandvars(value))):
        return [source.problem(("output_dir",), f"environment variable {unset[0]} is not set")]
    where = local_output_dir(value, parsed.name, cwd)
    fixed = Path(fixed_part(str(where)))
    if str(fixed) in SYSTEM_FOLDERS or any(fixed == Path(t) or fixed.is_relative_to(t)
                                           for t in SYSTEM_TREES):
        return [source.problem(("output_dir",), f"{where} is a system folder (or the file system's "
                               "root): give a folder of its own, e.g. out/<name>")]
    for folder in (fixed, *fixed.parents):
        if folder.exists():
            if not folder.is_dir():
                return [source.problem(("output_dir",), f"{folder} is a file, not a folder")]
            break
    return []


def _check_steps(data: dict[str, Any], source: YamlSource, kind: JobKind | None) -> list[Problem]:
    """``steps:`` names the job's steps, and sets ``heartbeat`` only on steps that heartbeat."""
    if kind is None:
        return []
    places: list[tuple[PathKey, Any]] = [(("steps",), data.get("steps"))]
    topics = data.get("topics")
    if isinstance(topics, list):
        places += [(("topics", i, "steps"), t.get("steps"))
                   for i, t in enumerate(topics) if isinstance(t, dict)]
    beating = [s for s in kind.step_names if kind.policy(s).heartbeat_s]
    problems = []
    for base, steps in places:
        if not isinstance(steps, dict):
            continue
        for step, entry in steps.items():
            if step not in kind.step_names:
                problems.append(source.problem((*base, step), f"unknown step {step!r} for job "
                                               f"{kind.name!r} (steps: {', '.join(kind.step_names)})"))
            elif isinstance(entry, dict) and "heartbeat" in entry and step not in beating:
                problems.append(source.problem(
                    (*base, step, "heartbeat"), f"step {step!r} does not heartbeat (steps that do: "
                    f"{', '.join(beating) or 'none'})"))
    return problems


def _resolve_steps(parsed: Manifest, kind: JobKind, source: YamlSource,
                   problems: list[Problem]) -> list[dict[str, StepPolicy]]:
    """Each topic's policy per step: the job's default, then the batch's ``steps:``, then the
    topic's; a combination that does not hold together is a problem where the last layer set it."""
    out = []
    shared: dict[str, StepPolicy] | None = None  # of the topics that set no steps of their own
    for i, entry in enumerate(parsed.topics):
        if not entry.steps and shared is not None:
            out.append(shared)
            continue
        policies = {}
        for step in kind.step_names:
            policy = kind.policy(step)
            where: PathKey = ()
            for base, layer in ((("steps",), parsed.steps), (("topics", i, "steps"), entry.steps or {})):
                if step in layer:
                    policy = apply(policy, layer[step])
                    where = (*base, step)
            if policy.queue is not None and step in kind.llm_steps:
                problem = source.problem((*where, "queue"), f"{step} is an LLM step: its calls run on "
                                         "their model's task queue; `queue:` is for job steps")
                if problem not in problems:
                    problems.append(problem)
            for message in conflicts(policy):
                problem = source.problem(where or ("steps",), message)
                if problem not in problems:
                    problems.append(problem)
            policies[step] = policy
        out.append(policies)
        if not entry.steps:
            shared = policies
    return out


def _check_models(data: dict[str, Any], source: YamlSource, catalog: Catalog,
                  kind: JobKind | None) -> list[Problem]:
    """Model chains name catalog models and the job's LLM steps (checked wherever they appear,
    including the default chain a manifest gets when it names none)."""
    if "models" not in data:
        default = Manifest.model_fields["models"].get_default(call_default_factory=True)
        unknown = sorted({m for chain in default.values() for m in chain} - set(catalog.models))
        if unknown:
            return [Problem(source.file, None, "models",
                            f"no `models:` given, and the default chain's model(s) "
                            f"{', '.join(unknown)} are not in catalog {catalog.source} "
                            f"(it has: {', '.join(sorted(catalog.models))}); add `models:`")]
    chains: list[tuple[PathKey, Any]] = [(("models",), data.get("models"))]
    topics = data.get("topics")
    if isinstance(topics, list):
        chains += [(("topics", i, "models"), t.get("models"))
                   for i, t in enumerate(topics) if isinstance(t, dict)]
    steps = {"default", *kind.llm_steps} if kind else None
    problems = []
    top = data.get("models")
    if kind and isinstance(top, dict) and "default" not in top:
        uncovered = [s for s in kind.llm_steps if s not in top and s not in kind.speech_steps]
        if uncovered:
            problems.append(source.problem(("models",), f"no chain for step(s) {', '.join(uncovered)}: "
                                           "name them or add `default:`"))
    for base, chain_map in chains:
        if not isinstance(chain_map, dict):
            continue
        for step, chain in chain_map.items():
            if steps is not None and step not in steps:
                problems.append(source.problem(
                    (*base, step), f"unknown step {step!r} for job {kind.name!r} "  # type: ignore[union-attr]
                    f"(LLM steps: {', '.join(sorted(steps))})"))
            if not isinstance(chain, list):
                continue
            if not chain:
                problems.append(source.problem((*base, step), "must name at least one model"))
            for i, name in enumerate(chain):
                if isinstance(name, str) and name not in catalog.models:
                    problems.append(source.problem(
                        (*base, step, i), f"unknown model {name!r} (catalog {catalog.source} has: "
                        f"{', '.join(sorted(catalog.models))})"))
    return problems


SPEECH_DEFAULT = ["offline"]  # a speech step without a chain of its own: espeak-ng
SPEAKING_PROVIDERS = ("offline", "litellm")


def chain_of(chains: dict[str, list[str]], step: str, speech: set[str],
             catalog_models: Iterable[str] = ("offline",)) -> list[str]:
    """The chain a step runs with: its own, else ``default`` (a speech step: ``offline`` if the
    catalog has it, else none: the step is skipped)."""
    if step in speech:
        return chains.get(step) or [m for m in SPEECH_DEFAULT if m in catalog_models]
    return chains.get(step) or chains["default"]


def _check_speech(data: dict[str, Any], source: YamlSource, catalog: Catalog,
                  kind: JobKind | None) -> list[Problem]:
    """A speech step's chain names models that can speak (offline, litellm)."""
    if kind is None or not kind.speech_steps:
        return []
    places: list[tuple[PathKey, Any]] = [(("models",), data.get("models"))]
    topics = data.get("topics")
    if isinstance(topics, list):
        places += [(("topics", i, "models"), t.get("models")) for i, t in enumerate(topics)
                   if isinstance(t, dict)]
    problems = []
    for step in kind.speech_steps:
        for base, chains in places:
            chain = chains.get(step) if isinstance(chains, dict) else None
            if not isinstance(chain, list):
                continue
            for i, name in enumerate(chain):
                spec = catalog.models.get(name) if isinstance(name, str) else None
                if spec is not None and spec.provider not in SPEAKING_PROVIDERS:
                    problems.append(source.problem((*base, step, i), f"{name} cannot speak (provider "
                                                   f"{spec.provider}): {step} needs offline or a "
                                                   "litellm speech model, e.g. openai/tts-1"))
    return problems


def _check_ids(data: dict[str, Any], source: YamlSource) -> list[Problem]:
    topics = data.get("topics")
    if not isinstance(topics, list):
        return []
    seen: dict[str, int] = {}
    problems = []
    for i, t in enumerate(topics):
        if not isinstance(t, dict) or not isinstance(t.get("topic"), str):
            continue
        tid = str(t["id"]) if isinstance(t.get("id"), str) else slugify(t["topic"])
        if tid in seen:
            j = seen[tid]
            problems.append(source.problem(
                ("topics", i), f"duplicate topic id {tid!r} (same as topics[{j}] on line "
                f"{source.line_of(('topics', j))}); give one of them an explicit `id:`"))
        else:
            seen[tid] = i
    return problems


def _resolve(parsed: Manifest, kind: JobKind, manifest_path: Path, cwd: Path,
             policies: list[dict[str, StepPolicy]], models: set[str]) -> BatchPlan:
    option_names = list(kind.options.model_fields)
    defaults = {k: getattr(parsed, k) for k in option_names}
    llm_steps = kind.llm_steps
    default_params: dict[str, Any] | None = None
    topics = []
    speech = set(kind.speech_steps)
    batch_chains = {step: chain_of(parsed.models, step, speech, models) for step in llm_steps}
    entries = parsed.topics
    for i, steps in enumerate(policies):
        entry, entries[i] = entries[i], None  # type: ignore[call-overload]  # freed as it goes
        resolved = batch_chains  # most topics: the batch's chains (shared: memory at 100,000 topics)
        if entry.models:
            chains = {**parsed.models, **entry.models}
            resolved = {step: chain_of(chains, step, speech, models) for step in llm_steps}
        overrides = {k: getattr(entry, k) for k in option_names if getattr(entry, k) is not None}
        if overrides or default_params is None:
            params = kind.options.model_validate({**defaults, **overrides}).model_dump(mode="json")
            if not overrides:
                default_params = params
        else:  # most topics: the batch's options, checked once
            params = default_params
        # every part is checked above: built without validating it again (100,000 topics)
        topics.append(TopicSpec.model_construct(id=entry.id or slugify(entry.topic), topic=entry.topic,
                                                models=resolved, params=params, steps=steps))
    if parsed.output_dir and is_url(parsed.output_dir):
        output_dir = parsed.output_dir  # checked: no trailing /
    else:
        output_dir = str(local_output_dir(parsed.output_dir, parsed.name, cwd))
    return BatchPlan(
        name=parsed.name, job=parsed.job, manifest=str(manifest_path.resolve()),
        output_dir=output_dir, concurrency=parsed.concurrency, topics=topics,
        schedule=parsed.schedule,
        cache=cache_folder(parsed.cache, cwd), budget=parsed.budget.caps() if parsed.budget else None,
        delivery=parsed.delivery.resolve(kind) if parsed.delivery else None,
    )


def models_used(plan: BatchPlan) -> set[str]:
    """The catalog names the plan's model chains name."""
    chains = {id(t.models): t.models for t in plan.topics}  # (most topics share the batch's)
    return {m for models in chains.values() for chain in models.values() for m in chain}


def cache_folder(value: str | None, cwd: Path) -> str | None:
    """The step cache's folder: the manifest's ``cache:`` (``off``: none), else ``$RUNNER_CACHE``
    (``off``: none), else ``$RUNNER_HOME/cache``; relative paths from ``cwd``."""
    if value is None:
        value = os.environ.get(CACHE_ENV) or str(runner_home() / "cache")
    if value.strip().lower() in ("off", "false", "no", "none"):
        return None
    if is_url(value):
        try:
            return check_url(value)
        except StoreError as exc:  # from $RUNNER_CACHE (a manifest's `cache:` is checked where it is)
            raise UsageError(f"${CACHE_ENV} {value}: {exc}") from None
    return str((cwd / Path(value).expanduser()).resolve())
