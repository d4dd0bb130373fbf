"""Everything the offline model says about a topic: an expression topic, a named topic, or
the generic explainer.

Deterministic: no randomness, no clock; the same topic gives the same answer (a topic whose sympy work
exceeds the time limit falls back to the generic explainer).
"""

from __future__ import annotations

from functools import lru_cache

from jobs.explainer.offline.expressions import _expression_content
from jobs.explainer.offline.generic import _generic
from jobs.explainer.offline.named import _NAMED
from jobs.explainer.offline.parse import _SYMPY_SECONDS, _bounded
from jobs.explainer.offline.scenes import _Content
from jobs.explainer.offline.text import _clean_text, _truncate

_MAX_TOPIC_CHARS = 300


@lru_cache(maxsize=256)
def _content(topic: str) -> _Content:
    """Everything the offline LLM says about ``topic`` (cached; never raises)."""
    text = _truncate(_clean_text(topic if isinstance(topic, str) else str(topic)),
                     _MAX_TOPIC_CHARS)
    try:
        content = _bounded(lambda: _expression_content(text), _SYMPY_SECONDS)
        if content is not None and 2 <= len(content.scenes) <= 4:
            return content
        lowered = text.lower()
        for pattern, build in _NAMED:
            if pattern.search(lowered):
                return build()
    except Exception:
        pass
    return _generic(text)
