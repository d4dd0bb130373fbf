"""Algebra topics computed with sympy: solving equations, factoring, expanding, simplifying,
graphing."""

from __future__ import annotations

import math
import re

import sympy

from jobs.explainer.offline.parse import _variable
from jobs.explainer.offline.plots import (
    _WINDOWS,
    _best_plot,
    _evaluate,
    _in_segments,
    _plot_plan,
    _plot_scene,
    _value,
)
from jobs.explainer.offline.printing import _at, _latex, _nice, _plain, _sstr
from jobs.explainer.offline.scenes import _Content, _steps_scene, _title_scene
from jobs.explainer.offline.text import _truncate


def _solve_content(lhs: sympy.Expr, rhs: sympy.Expr) -> _Content | None:
    """Solve ``lhs = rhs`` for its variable: method, graph with roots, check."""
    equation = lhs - rhs
    x = _variable(equation)
    if x is None or not _nice(lhs) or not _nice(rhs) or not equation.has(x):
        return None
    eq_tex = rf"{_latex(lhs)} = {_latex(rhs)}"
    eq_plain = f"{_plain(lhs)} = {_plain(rhs)}"
    exact: list[sympy.Expr] = []
    approx: list[float] = []
    method: list[str] = []
    method_claims: list[str] = []
    method_title = "Solve"
    periodic = equation.has(sympy.sin, sympy.cos, sympy.tan)
    if equation.is_polynomial(x):
        poly = sympy.Poly(sympy.expand(equation), x)
        if poly.degree() > 6 or poly.degree() < 1:
            return None
        found = sympy.roots(poly, cubics=False, quartics=False)
        exact = sorted(found, key=sympy.default_sort_key)
        if sum(found.values()) < poly.degree():
            approx = sorted(float(sympy.re(r)) for r in poly.nroots(n=8)
                            if abs(float(sympy.im(r))) < 1e-10)
            approx = [r for r in approx if all(abs(r - complex(e)) > 1e-6 for e in exact)]
        if poly.degree() == 1:
            a1, b1 = poly.all_coeffs()
            method_title = "Isolate the variable"
            method = [eq_tex, rf"{_latex(a1 * x)} = {_latex(-b1)}", rf"{_latex(x)} = {_latex(-b1 / a1)}"]
            method_claims = [f"({_sstr(-b1)})/({_sstr(a1)}) == {_sstr(-b1 / a1)}"]
        elif poly.degree() == 2:
            a2, b2, c2 = poly.all_coeffs()
            disc = b2**2 - 4 * a2 * c2
            method_title = "Use the quadratic formula"
            method = [
                rf"a = {_latex(a2)},\; b = {_latex(b2)},\; c = {_latex(c2)}",
                rf"b^2 - 4ac = {_latex(disc)}",
                rf"{_latex(x)} = \frac{{{_latex(-b2)} \pm \sqrt{{{_latex(disc)}}}}}"
                rf"{{{_latex(2 * a2)}}}",
            ]
            method_claims = [f"({_sstr(b2)})**2 - 4*({_sstr(a2)})*({_sstr(c2)}) == {_sstr(disc)}"]
        else:
            factored = sympy.factor(sympy.expand(equation))
            method_title = "Factor"
            method = [rf"{_latex(sympy.expand(equation))} = {_latex(factored)}"]
            method_claims = [f"factor({_sstr(sympy.expand(equation))}) == {_sstr(factored)}"]
    else:
        try:
            solutions = sympy.solve(sympy.Eq(lhs, rhs), x)
        except (NotImplementedError, ValueError, TypeError):
            solutions = []
        exact = sorted((s for s in solutions if isinstance(s, sympy.Expr)),
                       key=sympy.default_sort_key)[:4]
        exact = [r for r in exact if _nice(r, 80)]
        if not exact:
            approx = _numeric_roots(equation, x, (-6.0, 6.0))
    exact = [r for r in exact if _nice(r, 80)][:4]
    if not exact and not approx:
        return None
    checks = [f"{_at(lhs, x, r)} == {_at(rhs, x, r)}" for r in exact]
    scenes = [_title_scene(
        "Intro", "The equation", f"Find every {x} with {eq_plain}.", "Solve the equation",
        eq_tex, "Which values make both sides equal?")]
    if method:
        scenes.append(_steps_scene("Method", method_title, f"{method_title} for {eq_plain}.",
                                   method_title, method, claims=method_claims))
    real_roots = [float(r) for r in exact if r.is_real] + approx
    lo, hi = -4.0, 4.0
    if real_roots:
        spread = max(real_roots) - min(real_roots)
        margin = max(1.0, 0.5 * spread)
        lo, hi = min(real_roots) - margin, max(real_roots) + margin
    if hi - lo <= 40:
        plot = _plot_plan(equation, x, (lo, hi), include_y=[0.0])
        if plot is not None:
            dots = [(r, 0.0) for r in real_roots if _in_segments(plot, r)]
            scenes.append(_plot_scene(
                "Graph", "Roots on the graph",
                f"The solutions are where y = {_truncate(_plain(equation), 40)} crosses zero.",
                "Where the graph crosses zero", rf"y = {_latex(equation)}", plot, dots=dots))
    answers = [rf"{_latex(x)} = {_latex(r)}" for r in exact]
    answers += [rf"{_latex(x)} \approx {r:.6g}" for r in approx[:3]]
    note = "some solutions (the equation is periodic)" if periodic else None
    scenes.append(_steps_scene(
        "Result", "The solutions", "State the solutions and check them.", "Solutions",
        [r",\quad ".join(answers)], claims=checks, note=note))
    return _Content("solve", f"Solving {eq_plain}", tuple(scenes[:4]))


def _numeric_roots(expr: sympy.Expr, x: sympy.Symbol, window: tuple[float, float]
                   ) -> list[float]:
    """Real roots of ``expr`` in a window: sign changes on a grid, refined by bisection."""
    import numpy as np

    func = sympy.lambdify(x, expr, modules="numpy")
    xs = np.linspace(window[0], window[1], 1201)
    ys = _evaluate(func, xs)
    roots: list[float] = []
    for i in range(len(xs) - 1):
        y0, y1 = ys[i], ys[i + 1]
        if not (math.isfinite(y0) and math.isfinite(y1)) or y0 * y1 > 0 or y0 == y1:
            continue
        if y0 == 0:
            candidate = float(xs[i])
        else:
            try:
                candidate = float(sympy.nsolve(expr, x, (float(xs[i]), float(xs[i + 1])),
                                               solver="bisect"))
            except (ValueError, TypeError, ZeroDivisionError):
                continue
        value = complex(expr.evalf(30, subs={x: sympy.Float(candidate, 30)}))
        if abs(value) < 1e-8 and all(abs(candidate - r) > 1e-6 for r in roots):
            roots.append(candidate)
        if len(roots) >= 6:
            break
    return roots


def _factor_content(f: sympy.Expr) -> _Content | None:
    """Factor a polynomial and check by expanding."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not f.is_polynomial(*symbols) or not _nice(f):
        return None
    expanded = sympy.expand(f)
    factored = sympy.factor(expanded)
    if not _nice(factored):
        return None
    plain = _plain(f)
    scenes = [_title_scene(
        "Intro", "The expression", f"Write {plain} as a product of simpler factors.",
        "Factoring", _latex(f), "Write it as a product")]
    if len(symbols) == 1:
        x = symbols[0]
        found = sympy.roots(sympy.Poly(expanded, x), cubics=False, quartics=False)
        roots = [r for r in sorted(found, key=sympy.default_sort_key) if r.is_Rational][:3]
        if roots:
            lines = [rf"{_latex(x)} = {_latex(r)}:\quad {_latex(expanded)} = 0" for r in roots]
            scenes.append(_steps_scene(
                "Roots", "Find the roots", "Each root r gives a factor (x - r).",
                "Each root gives a factor", lines,
                claims=[f"{_at(expanded, x, r)} == 0" for r in roots], box_last=False))
    scenes.append(_steps_scene(
        "Factor", "The factored form", f"{plain} factors as {_plain(factored)}.", "Factored form",
        [_latex(expanded), _latex(factored)], transform=True,
        claims=[f"factor({_sstr(expanded)}) == {_sstr(factored)}"]))
    scenes.append(_steps_scene(
        "Check", "Check by expanding", "Multiplying the factors gives back the expression.",
        "Check: expand", [rf"{_latex(factored)} = {_latex(expanded)}"],
        claims=[f"expand({_sstr(factored)}) == {_sstr(expanded)}"]))
    return _Content("factor", f"Factoring {plain}", tuple(scenes[:4]))


def _expand_content(f: sympy.Expr) -> _Content | None:
    """Expand a product or power and check at a point."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not _nice(f):
        return None
    if f.is_Pow and f.base.is_Add and f.exp.is_Integer and int(f.exp) > 10:
        return None
    expanded = sympy.expand(f)
    if expanded == f or len(sympy.Add.make_args(expanded)) > 12 or not _nice(expanded, 220):
        return None
    plain = _plain(f)
    scenes = [_title_scene(
        "Intro", "The expression", f"Multiply out {plain}.", "Expanding", _latex(f),
        "Multiply everything out")]
    if f.is_Pow and f.base.is_Add and len(f.base.args) == 2 and f.exp.is_Integer:
        n = int(f.exp)
        row = [sympy.binomial(n, k) for k in range(n + 1)]
        scenes.append(_steps_scene(
            "Pascal", "Binomial coefficients", f"The coefficients are row {n} of Pascal's "
            "triangle.", "Binomial coefficients",
            [rf"\binom{{{n}}}{{k}}:\quad " + r",\ ".join(str(b) for b in row)],
            claims=[f"binomial({n}, {k}) == {row[k]}" for k in range(1, min(n, 3))]))
    scenes.append(_steps_scene(
        "Expand", "Multiply out", f"{plain} = {_plain(expanded)}.", "Expanded form",
        [_latex(f), _latex(expanded)], transform=True,
        claims=[f"expand({_sstr(f)}) == {_sstr(expanded)}"]))
    for start in (2, 3, 5, 7):
        point = {s: sympy.Integer(start + i) for i, s in enumerate(symbols)}
        value = f.subs(point)
        if value.is_finite:
            break
    else:
        return None
    left, right = _sstr(f), _sstr(expanded)
    for s, val in point.items():
        left = re.sub(rf"\b{s.name}\b", f"({val})", left)
        right = re.sub(rf"\b{s.name}\b", f"({val})", right)
    where = ", ".join(f"{s} = {val}" for s, val in point.items())
    shown = {s: sympy.UnevaluatedExpr(val) for s, val in point.items()}
    scenes.append(_steps_scene(
        "Check", "Check with numbers", f"Both forms agree at {where}.", f"Check at {where}",
        [rf"{_latex(f.xreplace(shown))} = {_latex(value)}",
         rf"{_latex(expanded.xreplace(shown))} = {_latex(value)}"],
        claims=[f"{left} == {_sstr(value)}", f"{right} == {_sstr(value)}"],
        note=f"both forms give {value}", box_last=False))
    return _Content("expand", f"Expanding {plain}", tuple(scenes[:4]))


def _simplify_content(f: sympy.Expr) -> _Content | None:
    """Simplify an expression (cancel common factors)."""
    if not _nice(f) or len(f.free_symbols) > 2:
        return None
    simple = sympy.simplify(f) if sympy.count_ops(f) <= 30 else sympy.cancel(f)
    if not _nice(simple) or simple == f:
        return None
    plain = _plain(f)
    num, den = sympy.fraction(sympy.together(f))
    scenes = [_title_scene("Intro", "The expression", f"Simplify {plain}.", "Simplifying",
                           _latex(f), "Find a simpler equal form")]
    if den != 1:
        fn, fd = sympy.factor(num), sympy.factor(den)
        scenes.append(_steps_scene(
            "Factor", "Factor top and bottom", "Factoring shows what cancels.",
            "Factor numerator and denominator",
            [rf"\frac{{{_latex(fn)}}}{{{_latex(fd)}}}"],
            claims=[f"factor({_sstr(num)}) == {_sstr(fn)}"]))
    scenes.append(_steps_scene(
        "Result", "The simpler form", f"{plain} = {_plain(simple)}.", "Result",
        [rf"{_latex(f)} = {_latex(simple)}"], claims=[f"{_sstr(f)} == {_sstr(simple)}"],
        note="(where both sides are defined)" if den != 1 else None))
    return _Content("simplify", f"Simplifying {plain}", tuple(scenes))


def _graph_content(f: sympy.Expr) -> _Content | None:
    """Graph a function, mark its intercepts."""
    x = _variable(f)
    if x is None or not _nice(f) or not f.has(x):
        return None
    plot = _best_plot(f, x, _WINDOWS)
    if plot is None:
        return None
    plain, fl, v = _plain(f), _latex(f), _latex(x)
    dots = []
    claims = []
    at0 = f.subs(x, 0)
    if at0.is_finite and at0.is_real and _nice(at0, 60) and _value(plot, 0.0) is not None:
        dots.append((0.0, float(at0)))
        claims.append(f"{_at(f, x, 0)} == {_sstr(at0)}")
    scenes = [
        _title_scene("Intro", "The function", f"Meet f({x}) = {plain}.", "A function and its "
                     "graph", rf"f({v}) = {fl}", "What does it look like?"),
        _plot_scene("Graph", "The graph", f"Draw y = {plain}.", "The graph",
                    rf"y = {fl}", plot, dots=dots, claims=claims),
    ]
    values = []
    value_claims = []
    for point in (0, 1, 2):
        value = f.subs(x, point)
        if value.is_real and value.is_finite and _nice(value, 50):
            approx = "" if value.is_Rational else rf" \approx {float(value):.6g}"
            values.append(rf"f({point}) = {_latex(value)}{approx}")
            value_claims.append(f"{_at(f, x, point)} == {_sstr(value)}")
    if values:
        scenes.append(_steps_scene("Values", "Some values", "Read off a few values.",
                                   "A few values", values[:3], claims=value_claims[:3],
                                   box_last=False))
    if len(scenes) < 3:
        return None
    return _Content("graph", f"The graph of {plain}", tuple(scenes))
