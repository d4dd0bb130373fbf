"""Prompts of the explainer's LLM steps.

Each system prompt carries a ``FORMAT:`` line: it names the answer's shape for a real model, and lets
the offline provider recognise the request.
"""

from __future__ import annotations

import json

from jobs.explainer.types import Plan, SceneScript
from runner.contract.llm import LLMRequest, Message

DECOMPOSE_FORMAT = "explainer.decompose.v1"
SCRIPT_FORMAT = "explainer.script.v1"
REPAIR_FORMAT = "explainer.repair.v1"
MAX_ERROR_CHARS = 4000

DECOMPOSE_SYSTEM = f"""You plan short math explainer videos (20-40 seconds).
Split the topic into 2 to 4 scenes that build on each other: set up the question, show the key idea,
state the result.
Answer with JSON only, no prose, in this shape:
{{"title": "...", "scenes": [{{"id": "s1", "title": "...", "goal": "what the viewer learns"}}]}}
Scene ids are s1, s2, ... in order.
FORMAT: {DECOMPOSE_FORMAT}"""

# What the script step asks of every scene, narrated or not (the two prompts below are built from it
# byte for byte as they were written: topics begun before narration existed keep the first, since
# their checkpoints' keys are of it)
_SCRIPT_RULES = """You write Manim Community Edition 0.22 code for math explainer scenes.
For each planned scene, write one complete Python module: `from manim import *` (numpy as np and math
are also allowed), defining exactly one Scene subclass whose construct() runs 3 to 6 seconds of
animation. Use only current manim names (Text, MathTex, Tex, Write, FadeIn, FadeOut, Create,
Transform, Axes, axes.plot, VGroup, ...); never ShowCreation, TextMobject, TexMobject, GraphScene or
CONFIG dicts. No file, network or process access.
List the mathematical claims each scene shows as sympy expressions with a relation, e.g.
"diff(x**2, x) == 2*x" or "integrate(x**2, (x, 0, 1)) == 1/3".
"""
_SCRIPT_END = f"""
One entry per planned scene, same ids, same order.
FORMAT: {SCRIPT_FORMAT}"""
SCRIPT_SYSTEM = _SCRIPT_RULES + """\
Answer with JSON only, no prose, in this shape:
{"scenes": [{"id": "s1", "class_name": "S1Intro", "code": "...", "claims": ["..."]}]}""" + _SCRIPT_END
# with narration
SCRIPT_SYSTEM_NARRATED = _SCRIPT_RULES + """\
Write each scene's narration: one to three plain sentences a narrator says while it plays (at most
60 words), saying formulas in words ("the derivative of x squared is two x"), with no markup, no
LaTeX and no claim the scene's claims do not state.
Answer with JSON only, no prose, in this shape:
{"scenes": [{"id": "s1", "class_name": "S1Intro", "code": "...", "claims": ["..."],
"narration": "..."}]}""" + _SCRIPT_END


def decompose_request(topic: str) -> LLMRequest:
    """The decompose step's request."""
    return LLMRequest(
        system=DECOMPOSE_SYSTEM,
        messages=[Message(role="user", content=f"Topic: {topic}")],
        max_tokens=1500,
    )


def script_request(topic: str, plan: Plan, narrated: bool = False) -> LLMRequest:
    """The script step's request (``narrated``: asking for each scene's narration too)."""
    return LLMRequest(
        system=SCRIPT_SYSTEM_NARRATED if narrated else SCRIPT_SYSTEM,
        messages=[Message(role="user", content=_plan_block(topic, plan))],
        max_tokens=8000,
    )


REPAIR_SYSTEM = f"""You fix Manim Community Edition 0.22 scenes that failed to render.
You get the topic, the plan, the scene's code and the error it produced. Answer with the whole
corrected module for that one scene, keeping its id, its class name, its purpose and its claims
(correct a claim only if it is wrong). Same rules as before: `from manim import *` (numpy as np and
math are also allowed), exactly one Scene subclass, 3 to 6 seconds of animation, only current manim
names, no file, network or process access, no names or attributes that start with an underscore, do
not touch `config`.
Answer with JSON only, no prose, in this shape:
{{"id": "s1", "class_name": "S1Intro", "code": "...", "claims": ["..."]}}
FORMAT: {REPAIR_FORMAT}"""
REPAIR_SYSTEM_NARRATED = f"""You fix Manim Community Edition 0.22 scenes that failed to render.
You get the topic, the plan, the scene's code and the error it produced. Answer with the whole
corrected module for that one scene, keeping its id, its class name, its purpose and its claims
(correct a claim only if it is wrong) and its narration. Same rules as before: `from manim import *`
(numpy as np and math are also allowed), exactly one Scene subclass, 3 to 6 seconds of animation,
only current manim names, no file, network or process access, no dunder names or attributes, no
private attributes (obj._x), do not touch `config`.
Answer with JSON only, no prose, in this shape:
{{"id": "s1", "class_name": "S1Intro", "code": "...", "claims": ["..."], "narration": "..."}}
FORMAT: {REPAIR_FORMAT}"""


def _plan_block(topic: str, plan: Plan) -> str:
    return f"Topic: {topic}\nPlan:\n{json.dumps(plan.model_dump(), indent=2)}"


def repair_request(topic: str, plan: Plan, scene: SceneScript, error: str,
                   checked_code: str = "", narrated: bool = False) -> LLMRequest:
    """Ask the script model to fix one scene, given its code and the error it produced.

    ``checked_code``: the code that was checked and rendered, when the known-API rewrites changed
    the model's; it is shown instead, since the error's line numbers are of it."""
    if len(error) > MAX_ERROR_CHARS:
        error = "...\n" + error[-MAX_ERROR_CHARS:]
    heading = ("Code (after automatic rewrites of old manim names; the error's line numbers are of "
               "this code)" if checked_code else "Code")
    return LLMRequest(
        system=REPAIR_SYSTEM_NARRATED if narrated else REPAIR_SYSTEM,
        messages=[Message(role="user", content=(
            f"Scene to fix: {scene.id} (class {scene.class_name})\n"
            f"Error:\n{error}\n"
            f"{heading}:\n```python\n{checked_code or scene.code}\n```\n"
            f"Claims: {json.dumps(scene.claims)}\n"
            + (f"Narration: {json.dumps(scene.narration)}\n" if narrated else "")
            + _plan_block(topic, plan)))],
        max_tokens=4000,
    )


def regenerate_request(topic: str, plan: Plan, refuted: list[str], narrated: bool = False) -> LLMRequest:
    """Ask the script model for the whole script again, saying which claims were refuted."""
    lines = "\n".join(f"- {r}" for r in refuted)
    return LLMRequest(
        system=SCRIPT_SYSTEM_NARRATED if narrated else SCRIPT_SYSTEM,
        messages=[Message(role="user", content=(
            "Your previous script stated claims that a computer algebra check refuted:\n"
            f"{lines}\nWrite the script again with correct mathematics.\n"
            + _plan_block(topic, plan)))],
        max_tokens=8000,
    )
