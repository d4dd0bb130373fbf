"""Known-API rewrites and the scene policy lint (pure), and an old-style scene that renders after
its rewrites (real manim in the sandbox)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.lint import lint
from jobs.explainer.scenes.render import render_scene, scene_classes
from jobs.explainer.scenes.rewrites import rewrite

OLD_STYLE = '''from manim import *


class Old(GraphScene):
    CONFIG = {"x_min": -2, "x_max": 2, "y_min": 0, "y_max": 4}

    def construct(self):
        self.setup_axes()
        graph = self.get_graph(lambda x: x**2, color=YELLOW)
        title = TextMobject("Parabola").to_edge(UP)
        formula = TexMobject(r"y = x^2").to_corner(UR)
        dot = Dot()
        self.play(ShowCreation(graph), FadeInFrom(title, UP), FadeInFromDown(formula), run_time=0.5)
        self.play(dot.shift, RIGHT, run_time=0.3)
        self.play(FadeOutAndShift(title, DOWN), FadeInFromLarge(dot, scale_factor=3), run_time=0.3)
        self.play(FadeOutAndShiftDown(formula), run_time=0.2)
'''


def test_old_names_are_rewritten_and_each_rewrite_is_recorded() -> None:
    code, rewrites = rewrite(OLD_STYLE)
    shown = [str(r) for r in rewrites]
    assert shown == [
        "line 4: GraphScene -> Scene with the GraphSceneCompat mixin (Axes)",
        "line 5: CONFIG dict -> class attributes x_min, x_max, y_min, y_max",
        "line 10: TextMobject -> Tex",
        "line 11: TexMobject -> MathTex",
        "line 13: ShowCreation -> Create",
        "line 13: FadeInFrom(...) -> FadeIn(title, shift=-UP)",
        "line 13: FadeInFromDown(...) -> FadeIn(formula, shift=-DOWN)",
        "line 14: self.play(x.shift, ...) -> self.play(x.animate.shift(...))",
        "line 15: FadeOutAndShift(...) -> FadeOut(title, shift=DOWN)",
        "line 15: FadeInFromLarge(...) -> FadeIn(dot, scale=3)",
        "line 16: FadeOutAndShiftDown(...) -> FadeOut(formula, shift=DOWN)",
    ]
    assert "class Old(GraphSceneCompat, Scene):" in code and "x_min = -2" in code
    assert "self.play(dot.animate.shift(RIGHT), run_time=0.3)" in code
    for old in ("ShowCreation", "TextMobject", "TexMobject", "FadeInFrom", "FadeOutAndShift", "CONFIG"):
        assert old not in code
    assert lint(code) == []  # the compatibility mixin passes the policy itself


def test_code_without_old_names_is_left_as_written() -> None:
    code = "from manim import *\n\nclass A(Scene):\n    def construct(self):  # hi\n        pass\n"
    assert rewrite(code) == (code, [])


def test_old_style_scene_renders_after_its_rewrites(tmp_path: Path) -> None:
    result = asyncio.run(render_scene(OLD_STYLE, output=tmp_path / "old.mp4", timeout=120))
    assert result.outcome == "ok", result.message
    assert result.video is not None and result.video.stat().st_size > 0
    assert len(result.rewrites) == 11


@pytest.mark.parametrize(("body", "expected"), [
    ("import os", "line 2: import of 'os' is not allowed"),
    ("from manim.utils import tex_file_writing", "line 2: import from 'manim.utils' is not allowed"),
    ("x = eval('1')", "line 2: 'eval' is not allowed in scene code"),
    ("x = getattr(Circle(), 'points')", "line 2: 'getattr' is not allowed in scene code"),
    ("x = Circle().__class__", "line 2: attribute '__class__' is not allowed"),
    ("x = Circle()._private", "line 2: attribute '_private' is not allowed"),
    ("x = utils.tex_file_writing", "line 2: 'utils' is not allowed in scene code"),
    ("config.frame_rate = 5", "line 2: changing manim's config is not allowed (reading it is)"),
    ("config['frame_rate'] = 5", "line 2: changing manim's config is not allowed (reading it is)"),
    ("x = np.load('/etc/passwd')", "line 2: attribute 'load' is not allowed in scene code"),
    ("x = '{0.__class__}'.format(1)", "line 2: str.format is only allowed on a literal with plain fields"),
    ("x = __builtins__", "line 2: name '__builtins__' is not allowed (no dunder names)"),
    ("import random\nx = random._os", "line 3: attribute '_os' is not allowed"),
    ("import scipy", "line 2: import of 'scipy' is not allowed"),
    ("from scipy import io", "line 2: from scipy, only constants, fft, integrate"),
    ("from scipy.integrate import quad\nx = quad.io", "line 3: attribute 'io' is not allowed"),
    ("x = s.format(1)", "line 2: str.format is only allowed on a literal with plain fields"),
    ("raise SystemExit(3)", "line 2: 'SystemExit' is not allowed in scene code"),
    ("raise KeyboardInterrupt", "line 2: 'KeyboardInterrupt' is not allowed in scene code"),
])
def test_the_policy_names_the_rule_and_the_line(body: str, expected: str) -> None:
    found = [str(f) for f in lint(f"from manim import *\n{body}\n")]
    assert any(f.startswith(expected) for f in found), found


@pytest.mark.parametrize("body", [
    "x = config.frame_width / 2",
    "x = '{:.2f}'.format(1.5)",
    "camera = self.camera.frame",
    "import numpy as np\nimport math",
    "class A(Scene):\n    def __init__(self, **kw):\n        super().__init__(**kw)",
    # what models write all the time, refused before (each cost a repair round trip)
    "for _ in range(5):\n    pass",
    "def _helper(_x):\n    return _x",
    "class A(Scene):\n    def __repr__(self):\n        return 'A'",
    "counter = 0\ndef bump():\n    global counter\n    counter += 1",
    "blank = Text('x = ____')",
    "import collections, dataclasses, copy, cmath, statistics\nfrom scipy import special",
    "from scipy.integrate import quad\nimport scipy.optimize",
])
def test_ordinary_code_passes_the_policy(body: str) -> None:
    assert lint(f"from manim import *\n{body}\n") == []


def test_problems_found_before_rendering() -> None:
    checked = check_scene("from manim import *\nclass A(Scene):\n    def construct(self):\n"
                          "        self.play(Write(MathTex(r'\\frac{1}{2')))\n", "A")
    assert [str(p) for p in checked.problems] == [
        "line 4: MathTex string '\\\\frac{1}{2' has unbalanced braces"]
    assert [str(p) for p in check_scene("from manim import *\n", "Missing").problems] == [
        "line 1: no class 'Missing' is defined at the top level (classes: none)"]
    assert str(check_scene("def f(:\n").problems[0]).startswith("line 1: syntax error")
    huge = check_scene("x = 1\n" * 10_000)
    assert huge.violations and "characters long" in str(huge.violations[0])


def test_the_scene_class_is_found_beside_helper_classes() -> None:
    """A dataclass or helper class beside the scene is not a second scene (runner render refused
    the file: "defines 2 classes")."""
    code = ("from manim import *\nfrom dataclasses import dataclass\n\n@dataclass\nclass Edge:\n"
            "    u: str\n\nclass Base(MovingCameraScene):\n    pass\n\nclass Shown(Base):\n"
            "    def construct(self):\n        pass\n\nclass Helper:\n    pass\n")
    assert scene_classes(code) == ["Shown"]  # Base is only the base of a scene
    assert scene_classes("class A:\n    pass\n") == ["A"]  # nothing looks like a scene: all of them
