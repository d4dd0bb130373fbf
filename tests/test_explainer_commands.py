"""`runner check-math` and `runner render`: what they print and their exit codes (real sympy and
manim in the sandbox)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner.cli import main


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_math_prints_a_line_per_claim_and_exits_1_on_a_refuted_one(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text("- diff(x**3, x) == 3*x**2\n- \\int_0^1 x^2 \\, dx = \\frac{1}{3}\n"
                      "- sqrt(x**2) == x\n")
    code, out, err = invoke("check-math", str(claims))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{claims}:1: verified diff(x**3, x) == 3*x**2 (symbolic:")
    assert lines[1].startswith(f"{claims}:2: verified \\int_0^1 x^2 \\, dx = \\frac{{1}}{{3}} (latex:")
    assert lines[2].startswith(f"{claims}:3: refuted  sqrt(x**2) == x (numeric: ")
    assert err == "3 claims: 2 verified, 1 refuted, 0 unknown\n"

    claims.write_text("claims:\n  - x**2 >= 0\n")
    assert invoke("check-math", str(claims))[0] == 0


def test_check_math_bad_input_names_file_line_and_key(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text("- 1 == 1\n- [2]\n- {a: 1}\n")
    code, out, err = invoke("check-math", str(claims))
    assert (code, out) == (2, "")
    assert err == (f"{claims}:2: [1]: a claim must be a string\n"
                   f"{claims}:3: [2]: a claim must be a string\n"
                   "2 problems found; nothing was started.\n")
    claims.write_text("claims: 1\n")
    assert invoke("check-math", str(claims))[2].startswith(f"{claims}:1: claims: expected a list")
    assert invoke("check-math", str(tmp_path / "missing.yaml"))[0] == 2


def test_render_prints_the_video_path_and_the_rewrites(tmp_path: Path) -> None:
    scene = tmp_path / "s.py"
    scene.write_text("from manim import *\nclass A(Scene):\n    def construct(self):\n"
                     "        self.play(ShowCreation(Circle()), run_time=0.3)\n")
    code, out, err = invoke("render", str(scene), "-o", str(tmp_path / "v.mp4"))
    assert (code, out) == (0, f"{tmp_path / 'v.mp4'}\n"), err
    assert err == "rewrote line 4: ShowCreation -> Create\n"
    assert (tmp_path / "v.mp4").stat().st_size > 0


def test_render_usage_errors(tmp_path: Path) -> None:
    scene = tmp_path / "two.py"
    scene.write_text("from manim import *\nclass A(Scene):\n    pass\nclass B(Scene):\n    pass\n")
    code, _, err = invoke("render", str(scene))
    assert code == 2 and "defines 2 classes (A, B): choose one with --scene NAME" in err
    code, _, err = invoke("render", str(scene), "--scene", "C")
    assert code == 2 and "no class 'C' (it defines: A, B)" in err
    code, _, err = invoke("render", str(scene), "--scene", "A")
    assert code == 4 and "construct() must play at least one animation" in err
    assert invoke("render", str(tmp_path / "none.py"))[0] == 2
