"""The model catalog: which models exist, how to reach them, and their limits.

A catalog is deployment configuration, read by workers (which hold the API keys and enforce the limits)
and by ``runner submit`` (to reject a manifest that names an unknown model). It is looked up in this
order: ``--catalog FILE``, ``$RUNNER_CATALOG``, ``./configs/models.yaml``, then the built-in catalog,
which knows only the ``offline`` model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.config.validation import problems_from
from runner.config.yamlsource import YamlSource, load_yaml
from runner.contract.errors import ManifestError

CATALOG_ENV = "RUNNER_CATALOG"
DEFAULT_CATALOG_PATH = Path("configs/models.yaml")


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_per_mtok: float = Field(ge=0, description="dollars per million input tokens")
    output_per_mtok: float = Field(ge=0, description="dollars per million output tokens")
    cache_read_per_mtok: float | None = Field(default=None, ge=0, description="dollars per million "
                                              "input tokens read from the prompt cache (default: "
                                              "anthropic 0.1x the input price, others the input price)")
    cache_write_per_mtok: float | None = Field(default=None, ge=0, description="... written to it "
                                               "(default: anthropic 1.25x, others the input price)")
    batch_discount: float = Field(default=0.5, ge=0, le=1, description="share of the price taken off "
                                  "calls sent through the provider's batch API (`delivery: batch`)")


class ModelSpec(BaseModel):
    """One model, named once; manifests refer to it by its catalog name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    provider: Literal["offline", "anthropic", "litellm"] = Field(
        description="who serves it: offline (no network), anthropic (SDK) or litellm")
    model: str = Field(default="", description="the provider's model id")
    api_key_env: str | None = Field(default=None, description="environment variable holding the key "
                                    "(read by the worker; never sent through Temporal)")
    base_url: str | None = Field(default=None, description="API base URL override")
    rpm: int | None = Field(default=None, ge=1, description="requests per minute allowed")
    tpm: int | None = Field(default=None, ge=1, description="tokens per minute allowed")
    max_concurrency: int = Field(default=8, ge=1, description="calls in flight per worker")
    context_window: int | None = Field(default=None, ge=1, description="tokens")
    price: Price | None = Field(default=None, description="US dollars per million tokens")


def has_batch_api(spec: ModelSpec) -> bool:
    """Whether batch delivery can send ``spec``'s calls in provider batches: Anthropic's Message
    Batches, or OpenAI's Batch API for a litellm model of the ``openai/`` provider."""
    return spec.provider == "anthropic" or (spec.provider == "litellm" and spec.model.startswith("openai/"))


class Catalog(BaseModel):
    """All models a deployment can call."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    models: dict[str, ModelSpec]
    source: str = Field(default="built-in", exclude=True)


BUILTIN = Catalog(models={"offline": ModelSpec(provider="offline", model="offline")})


def missing_keys(catalog: Catalog, models: Iterable[str]) -> list[str]:
    """For each of ``models`` whose key variable is not set here (or blank): what is missing."""
    found = []
    for name in sorted(set(models)):
        spec = catalog.models.get(name)
        if spec is not None and spec.api_key_env and not os.environ.get(spec.api_key_env, "").strip():
            found.append(f"model {name} needs ${spec.api_key_env}, which is not set")
    return found


def catalog_path(explicit: str | Path | None = None) -> Path | None:
    """The catalog file to use, or None for the built-in catalog."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CATALOG_ENV)
    if env:
        return Path(env)
    return DEFAULT_CATALOG_PATH if DEFAULT_CATALOG_PATH.is_file() else None


def load_catalog(explicit: str | Path | None = None) -> Catalog:
    """Load the catalog (see the module docstring for the lookup order).

    Raises:
        ManifestError: the catalog file is unreadable or invalid (every problem at once).
    """
    path = catalog_path(explicit)
    if path is None:
        return BUILTIN
    source: YamlSource = load_yaml(path)
    try:
        catalog = Catalog.model_validate(source.data if source.data is not None else {})
    except ValidationError as exc:
        raise ManifestError(problems_from(exc, source)) from exc
    return catalog.model_copy(update={"source": str(path)})
