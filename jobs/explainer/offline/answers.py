"""The answers to the explainer's LLM requests: the plan, the scene scripts, and ``respond``, which
recognises a request by its ``FORMAT:`` line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from jobs.explainer.offline.content import topic_content
from jobs.explainer.offline.generic import extra_scene
from jobs.explainer.prompts import DECOMPOSE_FORMAT, REPAIR_FORMAT, SCRIPT_FORMAT


def decompose(topic: str) -> dict[str, Any]:
    """Plan an explainer video for a topic.

    Args:
        topic: Free text from the manifest (user input; any string).

    Returns:
        ``{"title": str, "scenes": [{"id": "s1", "title": str, "goal": str}, ...]}`` with 2 to 4
        scenes (see ``contract.md``).
    """
    content = topic_content(topic if isinstance(topic, str) else str(topic))
    return {
        "title": content.title,
        "scenes": [
            {"id": f"s{i}", "title": scene.title, "goal": scene.goal}
            for i, scene in enumerate(content.scenes, start=1)
        ],
    }


def _planned(plan: Any) -> list[tuple[str, str, str]]:
    """``(id, title, goal)`` of each planned scene, or an empty list when the plan is unusable."""
    if not isinstance(plan, dict) or not isinstance(plan.get("scenes"), list):
        return []
    entries = []
    for i, scene in enumerate(plan["scenes"][:8], start=1):
        if not isinstance(scene, dict):
            return []
        sid = scene.get("id")
        sid = sid if isinstance(sid, str) and re.fullmatch(r"s[0-9]+", sid) else f"s{i}"
        title = scene.get("title") if isinstance(scene.get("title"), str) else ""
        goal = scene.get("goal") if isinstance(scene.get("goal"), str) else ""
        entries.append((sid, str(title), str(goal)))
    return entries


def script(topic: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Write the scene modules for a planned explainer.

    Args:
        topic: The topic text.
        plan: The decomposition (normally :func:`decompose`'s answer; any plan with 1 to 8
            scenes is accepted, an unusable one is replaced by :func:`decompose`'s).

    Returns:
        ``{"scenes": [{"id", "class_name", "code", "claims"}, ...]}``: one entry per planned scene,
        same ids and order (see ``contract.md``).
    """
    topic = topic if isinstance(topic, str) else str(topic)
    content = topic_content(topic)
    entries = _planned(plan) or [
        (s["id"], s["title"], s["goal"]) for s in decompose(topic)["scenes"]
    ]
    ours = list(content.scenes)
    count = len(entries)
    if count >= len(ours):
        chosen = ours + [extra_scene(title, goal) for _, title, goal in entries[len(ours):]]
    elif count == 1:
        chosen = [ours[-1]]
    else:
        chosen = [*ours[: count - 1], ours[-1]]
    scenes = []
    for i, ((sid, _, _), scene) in enumerate(zip(entries, chosen, strict=True), start=1):
        class_name = f"S{i}{scene.key}"
        scenes.append({
            "id": sid,
            "class_name": class_name,
            "code": scene.code.module(class_name),
            "claims": list(scene.claims),
            "narration": narration(scene.title, scene.goal),
        })
    return {"scenes": scenes}


_FUNCTIONS = {"sin": "sine", "cos": "cosine", "tan": "tangent", "ln": "the natural log", "log": "log",
              "sqrt": "the square root", "exp": "e to the"}
_SPOKEN: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(\w)'\(x\)"), r"\1 prime of x"),
    (re.compile(r"\b(sin|cos|tan|ln|log|sqrt|exp)\(([^()]*)\)"),
     lambda m: f"{_FUNCTIONS[m.group(1)]} of {m.group(2)}"),
    (re.compile(r"\b([a-z])\(([a-z])\)"), r"\1 of \2"),
    (re.compile(r"\^2\b"), " squared"), (re.compile(r"\^3\b"), " cubed"),
    (re.compile(r"\^\(?([\w.]+)\)?"), r" to the power \1"),
    (re.compile(r"\s*=\s*"), " equals "), (re.compile(r"\s*\*\s*"), " times "),
    (re.compile(r"\s+/\s+|(?<=\w)/(?=\w)"), " over "), (re.compile(r"\s+-\s+"), " minus "),
    (re.compile(r"\s*\+\s*"), " plus "), (re.compile(r"[()]"), ""),
    (re.compile(r"([?!.])\.+"), r"\1"), (re.compile(r"\s{2,}"), " "),
]


def narration(title: str, goal: str) -> str:
    """What the offline narrator says over a scene: its goal (else its title) as plain sentences,
    formulas in words (``f(x) = x^2`` -> ``f of x equals x squared``)."""
    text = re.sub(r"\|([^|]+)\|", r"the absolute value of \1", (goal or title).strip())
    for pattern, words in _SPOKEN:
        text = pattern.sub(words, text)
    text = re.sub(r"\s{2,}", " ", re.sub(r"[<>*#`$\\{}\[\]|_~\x00-\x1f]", " ", text)).strip()[:300]
    text = text or "This scene"
    return text if text.endswith((".", "?", "!")) else f"{text}."


_FORMAT_LINE = re.compile(r"^\s*FORMAT:\s*(\S+)\s*$", re.MULTILINE)


def respond(system: str, user: str) -> str | None:
    """Answer an explainer LLM request offline.

    Args:
        system: The system prompt; it must hold a line ``FORMAT: explainer.decompose.v1``,
            ``FORMAT: explainer.script.v1`` or ``FORMAT: explainer.repair.v1``.
        user: The user message: a ``Topic: <topic>`` line; for the script step also a ``Plan:``
            line followed by the decomposition JSON.

    Returns:
        The JSON text answer, or None when the request is not one of the explainer's.
    """
    tags = _FORMAT_LINE.findall(system or "")
    if DECOMPOSE_FORMAT in tags:
        return json.dumps(decompose(_topic_of(user)))
    if SCRIPT_FORMAT in tags:
        return json.dumps(script(_topic_of(user), _plan_of(user)))
    if REPAIR_FORMAT in tags:  # its own scenes do not fail; answer the scene asked for afresh
        found = re.search(r"^Scene to fix: (\S+)", user or "", re.MULTILINE)
        scenes = script(_topic_of(user), _plan_of(user))["scenes"]
        wanted = found.group(1) if found else ""
        return json.dumps(next((s for s in scenes if s["id"] == wanted), scenes[0]))
    return None


def _topic_of(user: str) -> str:
    """The topic from a ``Topic: ...`` line (the whole message when there is none)."""
    for line in (user or "").splitlines():
        if line.startswith("Topic:"):
            return line[len("Topic:"):].strip()
    return (user or "").strip()


def _plan_of(user: str) -> dict[str, Any]:
    """The plan JSON after the ``Plan:`` line (empty dict when missing or invalid)."""
    lines = (user or "").splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("Plan:"):
            text = line.strip()[len("Plan:"):] + "\n" + "\n".join(lines[i + 1:])
            try:
                plan = json.loads(text)
            except ValueError:
                return {}
            return plan if isinstance(plan, dict) else {}
    return {}
