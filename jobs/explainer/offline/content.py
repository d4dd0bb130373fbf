"""Everything the offline model says about a topic: an expression topic, a named topic, or
the generic explainer.

Deterministic: no randomness, no clock; the same topic gives the same answer (a topic whose sympy work
exceeds the time limit falls back to the generic explainer).
"""

from __future__ import annotations

from functools import lru_cache

from jobs.explainer.offline.expressions import expression_content
from jobs.explainer.offline.generic import generic_content
from jobs.explainer.offline.named import named_content
from jobs.explainer.offline.parse import SYMPY_SECONDS, bounded
from jobs.explainer.offline.scenes import Content
from jobs.explainer.offline.text import clean_text, truncate

_MAX_TOPIC_CHARS = 300


@lru_cache(maxsize=256)
def topic_content(topic: str) -> Content:
    """Everything the offline LLM says about ``topic`` (cached; never raises)."""
    text = truncate(clean_text(topic if isinstance(topic, str) else str(topic)),
                    _MAX_TOPIC_CHARS)
    try:
        content = bounded(lambda: expression_content(text), SYMPY_SECONDS)
        if content is not None and 2 <= len(content.scenes) <= 4:
            return content
        named = named_content(text)
        if named is not None:
            return named
    except Exception:
        pass
    return generic_content(text)
