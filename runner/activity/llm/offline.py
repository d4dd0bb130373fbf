"""The ``offline`` provider: deterministic answers with no network and no key.

Job kinds teach it their prompts through *offline responders* (see :class:`runner.contract.jobkind.JobKind`):
a responder recognises a prompt by the ``FORMAT:`` line of its system prompt and writes a real,
topic-specific answer. Anything no responder recognises gets a plain deterministic echo.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.contract.jobkind import OfflineResponder
from runner.contract.llm import LLMRequest, Usage


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def offline_answer(request: LLMRequest, responders: Sequence[OfflineResponder]) -> tuple[str, Usage]:
    """Answer ``request`` without a model.

    Returns:
        The answer text and an estimated token usage (4 characters a token).
    """
    user = "\n".join(m.content for m in request.messages if m.role == "user")
    text = None
    for responder in responders:
        text = responder(request.system, user)
        if text is not None:
            break
    if text is None:
        last = request.messages[-1].content if request.messages else ""
        text = f"[offline] {last.strip()[:500]}"
    prompt = request.system + "\n" + "\n".join(m.content for m in request.messages)
    return text, Usage(input_tokens=_tokens(prompt), output_tokens=_tokens(text))
