"""Static checks of model-written scene code, before any render, in this order:

1. known-API repair (:mod:`jobs.explainer.scenes.rewrites`), each rewrite recorded;
2. the policy lint (:mod:`jobs.explainer.scenes.lint`): a violation blocks the code;
3. code problems found statically (a syntax error, no scene class of the expected name, unbalanced
   braces in a ``MathTex``/``Tex`` literal, which manim would render silently wrong), reported as
   code errors for the repair loop.

Pure (``ast`` only): runs in the worker, never executes the code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from jobs.explainer.scenes.finding import Finding
from jobs.explainer.scenes.lint import MAX_CODE_CHARS, lint
from jobs.explainer.scenes.rewrites import rewrite


@dataclass
class SceneCheck:
    """What the static checks made of one scene's code."""

    code: str  # after the known-API rewrites
    rewrites: list[Finding] = field(default_factory=list)
    violations: list[Finding] = field(default_factory=list)  # policy: the code is blocked
    problems: list[Finding] = field(default_factory=list)  # code errors found before rendering

    @property
    def ok(self) -> bool:
        return not self.violations and not self.problems


TEX_CLASSES = frozenset({"MathTex", "Tex", "SingleStringMathTex"})


def _problems(tree: ast.Module, class_name: str | None) -> list[Finding]:
    found: list[Finding] = []
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    if class_name is not None and class_name not in classes:
        found.append(Finding(1, f"no class {class_name!r} is defined at the top level "
                                f"(classes: {', '.join(classes) or 'none'})"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in TEX_CLASSES):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    depth = _brace_balance(arg.value)
                    if depth != 0:
                        found.append(Finding(node.lineno, f"{node.func.id} string {arg.value!r} has "
                                                          "unbalanced braces"))
    return found


def _brace_balance(tex: str) -> int:
    depth, i = 0, 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            i += 2  # \{ and \} are literal braces
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return depth
        i += 1
    return depth


def check_scene(code: str, class_name: str | None = None) -> SceneCheck:
    """Rewrite known old names, then lint, then look for code problems, in that order.

    Args:
        code: The scene module's source.
        class_name: The Scene class it must define (None: any).
    """
    if len(code) > MAX_CODE_CHARS:
        return SceneCheck(code=code, violations=lint(code))
    try:
        new_code, rewrites = rewrite(code)
    except SyntaxError as exc:
        return SceneCheck(code=code, problems=[Finding(exc.lineno or 0, f"syntax error: {exc.msg}")])
    except (RecursionError, MemoryError, ValueError) as exc:
        return SceneCheck(code=code, violations=[Finding(1, f"code too deeply nested: {exc!r:.80}")])
    try:
        violations = lint(new_code)
        problems = _problems(ast.parse(new_code), class_name)
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        return SceneCheck(code=code, violations=[Finding(1, f"code cannot be checked: {exc!r:.80}")])
    return SceneCheck(code=new_code, rewrites=rewrites, violations=violations, problems=problems)
