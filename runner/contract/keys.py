"""Hashes of inputs: what a step's checkpoint, or a topic's earlier result, is valid for."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel

from runner.contract.types import TopicSpec


def input_key(*parts: Any) -> str:
    """A stable hash of a step's input (pydantic models as JSON, without how the step uses the step
    cache): what a checkpoint is valid for."""
    digest = hashlib.sha256()
    for part in parts:
        text = part.model_dump_json(exclude={"cache"}) if isinstance(part, BaseModel) else repr(part)
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def spec_key(spec: TopicSpec) -> str:
    """Hash of a topic's spec: an earlier result counts for a retry only if it is for the same spec."""
    return input_key(spec)
