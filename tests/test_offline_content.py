"""The offline LLM: contract-shaped answers, safe scene code, and mathematics that checks out."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jobs.explainer import offline
from jobs.explainer.mathcheck import check_claim
from jobs.explainer.offline.content import topic_content
from jobs.explainer.offline.parse import parse
from jobs.explainer.types import SceneScript, narration_problem

REPO = Path(__file__).resolve().parent.parent

# topic -> a claim the offline content must make (None: no claim expected, generic explainer)
TOPICS: dict[str, str | None] = {
    "Derivative of x^2": "diff(x**2, x) == 2*x",
    "differentiate sin(x)*x": "diff(x*sin(x), x) == x*cos(x) + sin(x)",
    "Integral of x^2 from 0 to 1": "integrate(x**2, (x, 0, 1)) == 1/3",
    "integral of cos(x)": "integrate(cos(x), x) == sin(x)",
    "Limit of sin(x)/x as x -> 0": "limit(sin(x)/x, x, 0) == 1",
    "Taylor series of e^x": "series(exp(x), x, 0, 6) == "
    "1 + x + x**2/2 + x**3/6 + x**4/24 + x**5/120 + O(x**6)",
    "Maclaurin series of cos(x)": "series(cos(x), x, 0, 6) == 1 - x**2/2 + x**4/24 + O(x**6)",
    "Solve x^2 - 5x + 6 = 0": "(2)**2 - 5*(2) + 6 == 0",
    "roots of x^3 - x": "factor(x**3 - x) == x*(x - 1)*(x + 1)",
    "Factor x^2 - 1": "factor(x**2 - 1) == (x - 1)*(x + 1)",
    "Expand (x+1)^3": "expand((x + 1)**3) == x**3 + 3*x**2 + 3*x + 1",
    "Simplify (x^2-1)/(x-1)": "(x**2 - 1)/(x - 1) == x + 1",
    "Graph of sin(x)": "sin((0)) == 0",
    "Limit of 1/x as x -> 0": "limit(1/x, x, 0) == oo",
    "limit of (1+1/x)^x as x -> infinity": "limit((1 + 1/x)**x, x, oo) == E",
    "Integral of e^(-x) from 0 to infinity": "integrate(exp(-x), (x, 0, oo)) == 1",
    "Taylor series of log(x) about x = 1": None,
    "Solve sin(x) = 1/2": "sin((pi/6)) == 1/2",
    "The Pythagorean theorem": "3**2 + 4**2 == 5**2",
    "The quadratic formula": "(5 + sqrt(25 - 24))/2 == 3",
    "Euler's identity": "exp(I*pi) + 1 == 0",
    "Sum of the first n integers": "summation(k, (k, 1, n)) == n*(n + 1)/2",
    "Geometric series": "summation(1/2**k, (k, 1, oo)) == 1",
    "Area of a circle": "integrate(2*pi*t, (t, 0, r)) == pi*r**2",
    "The chain rule": "diff(sin(x**2), x) == 2*x*cos(x**2)",
    "The product rule": "diff(x**2*sin(x), x) == 2*x*sin(x) + x**2*cos(x)",
    "The fundamental theorem of calculus": "integrate(x**2, (x, 0, 2)) == 8/3",
    "The binomial theorem": "expand((a + b)**3) == a**3 + 3*a**2*b + 3*a*b**2 + b**3",
}
GENERIC = [
    "Why is the sky blue?",
    "__import__('os').system('echo hi')",
    "",
    "x" * 500,
    "数学 ∫ 🙂 <b>&amp;</b> {}\\ \"quote\"\x00\x1b[31m",
    "Derivative of __import__('os').system('echo hi')",
    "Integral of x.__class__ from 0 to 1",
]
ALL_TOPICS = [*TOPICS, *GENERIC]

BANNED_NAMES = {
    "ShowCreation", "TextMobject", "TexMobject", "GraphScene", "CONFIG", "FadeInFrom",
    "FadeInFromDown", "FadeOutAndShift", "InteractiveScene", "__import__", "eval", "exec",
    "open", "compile", "getattr", "globals", "subprocess", "os", "sys",
}


def _claims(topic: str) -> list[str]:
    answer = offline.script(topic, offline.decompose(topic))
    return [claim for scene in answer["scenes"] for claim in scene["claims"]]


def _animation_seconds(tree: ast.Module) -> float:
    """Sum of run_time= of self.play calls and the arguments of self.wait calls."""
    total = 0.0
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "play":
            times = [k.value for k in node.keywords if k.arg == "run_time"]
            assert times, "every play call sets run_time"
            assert isinstance(times[0], ast.Constant)
            total += float(times[0].value)
        elif node.func.attr == "wait":
            assert isinstance(node.args[0], ast.Constant)
            total += float(node.args[0].value)
    return total


def _check_module(code: str, class_name: str) -> None:
    tree = ast.parse(code)
    first = tree.body[0]
    assert isinstance(first, ast.ImportFrom) and first.module == "manim"
    assert [a.name for a in first.names] == ["*"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(alias.name in ("numpy", "math") for alias in node.names)
        if isinstance(node, ast.ImportFrom):
            assert node.module == "manim"
        if isinstance(node, ast.Name):
            assert node.id not in BANNED_NAMES, node.id
            assert not node.id.startswith("__"), node.id
        if isinstance(node, ast.Attribute):
            assert node.attr not in BANNED_NAMES and not node.attr.startswith("__"), node.attr
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert len(classes) == 1
    (cls,) = classes
    assert cls.name == class_name
    assert [b.id for b in cls.bases if isinstance(b, ast.Name)] == ["Scene"]
    seconds = _animation_seconds(tree)
    assert 3.0 <= seconds <= 6.0, seconds


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_decompose_follows_the_contract(topic: str) -> None:
    plan = offline.decompose(topic)
    assert set(plan) == {"title", "scenes"}
    assert isinstance(plan["title"], str) and plan["title"]
    assert 2 <= len(plan["scenes"]) <= 4
    for i, scene in enumerate(plan["scenes"], start=1):
        assert set(scene) == {"id", "title", "goal"}
        assert scene["id"] == f"s{i}"
        assert isinstance(scene["title"], str) and scene["title"]
        assert isinstance(scene["goal"], str) and scene["goal"]
    json.dumps(plan)


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_script_follows_the_contract(topic: str) -> None:
    plan = offline.decompose(topic)
    answer = offline.script(topic, plan)
    assert set(answer) == {"scenes"}
    assert [s["id"] for s in answer["scenes"]] == [s["id"] for s in plan["scenes"]]
    names = [s["class_name"] for s in answer["scenes"]]
    assert len(set(names)) == len(names)
    for scene in answer["scenes"]:
        assert set(scene) == {"id", "class_name", "code", "claims", "narration"}
        assert narration_problem(SceneScript.model_validate(scene)) is None  # plain, bounded
        assert scene["class_name"].isidentifier()
        assert all(isinstance(c, str) for c in scene["claims"])
        _check_module(scene["code"], scene["class_name"])
    json.dumps(answer)


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_every_claim_is_verified(topic: str) -> None:
    """The key property: the offline provider's mathematics is correct."""
    for claim in _claims(topic):
        result = check_claim(claim)
        assert result["status"] == "verified", result


@pytest.mark.parametrize(("topic", "expected"), [(t, c) for t, c in TOPICS.items() if c])
def test_recognised_topics_make_their_key_claim(topic: str, expected: str) -> None:
    assert expected in _claims(topic)


def test_recognised_topics_all_make_claims() -> None:
    for topic in TOPICS:
        assert _claims(topic), topic


@pytest.mark.parametrize("topic", GENERIC)
def test_generic_topics_make_no_claims(topic: str) -> None:
    assert _claims(topic) == []


def test_topic_text_is_a_string_literal_not_code() -> None:
    topic = "__import__('os').system('echo hi')"
    for scene in offline.script(topic, offline.decompose(topic))["scenes"]:
        tree = ast.parse(scene["code"])
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert not any(isinstance(c.func, ast.Attribute) and c.func.attr == "system"
                       for c in calls)
    intro = offline.script(topic, offline.decompose(topic))["scenes"][0]["code"]
    assert repr(topic) in intro


def test_hostile_expression_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    topics = [
        f"Derivative of __import__('os').system('touch {marker}')",
        f"Solve exec('open(\"{marker}\", \"w\")') = 0",
        "Integral of x.__class__.__mro__ from 0 to 1",
    ]
    for topic in topics:
        offline.script(topic, offline.decompose(topic))
    assert not marker.exists()


@pytest.mark.parametrize(
    "topic",
    [
        "Derivative of 2^2^2^2^2^2^2",
        "Expand (x+1)^999999",
        "Derivative of " + "x+" * 80 + "x",
        "Integral of x^20 * sin(x)^19 * cos(x)^18",
        "Factor x^123456789 - 1",
        "Limit of 10^10^10 as x -> 0",
    ],
)
def test_pathological_expressions_answer_quickly(topic: str) -> None:
    start = time.monotonic()
    plan = offline.decompose(topic)
    offline.script(topic, plan)
    assert time.monotonic() - start < 30
    assert 2 <= len(plan["scenes"]) <= 4


def test_deterministic() -> None:
    for topic in ["Derivative of x^2", "The Pythagorean theorem", "Why is the sky blue?"]:
        first = offline.script(topic, offline.decompose(topic))
        topic_content.cache_clear()
        assert offline.script(topic, offline.decompose(topic)) == first


def _system(tag: str) -> str:
    return f"You plan videos.\nAnswer with JSON.\nFORMAT: {tag}"


@pytest.mark.parametrize("topic", ["Derivative of x^2", "The binomial theorem", "Why?"])
def test_respond_round_trips_through_the_format_tags(topic: str) -> None:
    text = offline.respond(_system(offline.DECOMPOSE_FORMAT), f"Topic: {topic}")
    assert text is not None
    plan = json.loads(text)
    assert plan == offline.decompose(topic)
    user = f"Topic: {topic}\nPlan:\n{json.dumps(plan, indent=2)}"
    text = offline.respond(_system(offline.SCRIPT_FORMAT), user)
    assert text is not None
    assert json.loads(text) == offline.script(topic, plan)


def test_respond_ignores_other_requests() -> None:
    assert offline.respond("You are helpful.", "Topic: x") is None
    assert offline.respond("FORMAT: something.else.v1", "Topic: x") is None
    assert offline.respond("mentions explainer.decompose.v1 inline", "Topic: x") is None


def test_respond_with_a_broken_plan_falls_back_to_its_own() -> None:
    topic = "Derivative of x^2"
    text = offline.respond(_system(offline.SCRIPT_FORMAT), f"Topic: {topic}\nPlan:\n{{not json")
    assert text is not None
    answer = json.loads(text)
    assert [s["id"] for s in answer["scenes"]] == [
        s["id"] for s in offline.decompose(topic)["scenes"]
    ]


def _plan(n: int) -> dict[str, Any]:
    return {"title": "T", "scenes": [{"id": f"s{i}", "title": f"Part {i}", "goal": "learn"}
                                     for i in range(1, n + 1)]}


@pytest.mark.parametrize("count", [1, 2, 3, 6, 8])
def test_script_follows_a_foreign_plan(count: int) -> None:
    topic = "Derivative of x^2"
    answer = offline.script(topic, _plan(count))
    assert [s["id"] for s in answer["scenes"]] == [f"s{i}" for i in range(1, count + 1)]
    for scene in answer["scenes"]:
        _check_module(scene["code"], scene["class_name"])
    assert "diff(x**2, x) == 2*x" in [c for s in answer["scenes"] for c in s["claims"]]


def test_offline_does_not_import_manim() -> None:
    code = ("import sys, jobs.explainer.offline as o; o.script('Derivative of x^2', "
            "o.decompose('Derivative of x^2')); print('manim' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


@pytest.mark.parametrize("text", ["eval(x)", "exec(x)", "open(x)", "compile(x)", "vars(x)",
                                  "globals(x)", "input(x)", "breakpoint(x)", "Symbol(x)", "Function(x)",
                                  "x.real", "x . conjugate"])
def test_callables_outside_the_allowlist_never_reach_the_parser(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # These pass the character filter, so only the identifier allowlist stands between them and
    # sympy's parse_expr (which calls eval).
    import sympy.parsing.sympy_parser as sympy_parser

    calls: list[str] = []
    real = sympy_parser.parse_expr

    def spy(s: str, *args: object, **kwargs: object) -> object:
        calls.append(s)
        return real(s, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sympy_parser, "parse_expr", spy)
    assert parse("x^2 + 1") is not None and calls  # control: the spy sees real parses
    calls.clear()
    assert parse(text) is None
    assert calls == []
