"""Algebra topics computed with sympy: solving equations, factoring, expanding, simplifying,
graphing."""

from __future__ import annotations

import math
import re

import sympy

from jobs.explainer.offline.parse import variable
from jobs.explainer.offline.plots import (
    WINDOWS,
    best_plot,
    evaluate,
    in_segments,
    plot_plan,
    plot_scene,
    value_at,
)
from jobs.explainer.offline.printing import at, latex, nice, plain_text, sstr
from jobs.explainer.offline.scenes import Content, steps_scene, title_scene
from jobs.explainer.offline.text import truncate


def solve_content(lhs: sympy.Expr, rhs: sympy.Expr) -> Content | None:
    """Solve ``lhs = rhs`` for its variable: method, graph with roots, check."""
    equation = lhs - rhs
    x = variable(equation)
    if x is None or not nice(lhs) or not nice(rhs) or not equation.has(x):
        return None
    eq_tex = rf"{latex(lhs)} = {latex(rhs)}"
    eq_plain = f"{plain_text(lhs)} = {plain_text(rhs)}"
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
            method = [eq_tex, rf"{latex(a1 * x)} = {latex(-b1)}", rf"{latex(x)} = {latex(-b1 / a1)}"]
            method_claims = [f"({sstr(-b1)})/({sstr(a1)}) == {sstr(-b1 / a1)}"]
        elif poly.degree() == 2:
            a2, b2, c2 = poly.all_coeffs()
            disc = b2**2 - 4 * a2 * c2
            method_title = "Use the quadratic formula"
            method = [
                rf"a = {latex(a2)},\; b = {latex(b2)},\; c = {latex(c2)}",
                rf"b^2 - 4ac = {latex(disc)}",
                rf"{latex(x)} = \frac{{{latex(-b2)} \pm \sqrt{{{latex(disc)}}}}}"
                rf"{{{latex(2 * a2)}}}",
            ]
            method_claims = [f"({sstr(b2)})**2 - 4*({sstr(a2)})*({sstr(c2)}) == {sstr(disc)}"]
        else:
            factored = sympy.factor(sympy.expand(equation))
            method_title = "Factor"
            method = [rf"{latex(sympy.expand(equation))} = {latex(factored)}"]
            method_claims = [f"factor({sstr(sympy.expand(equation))}) == {sstr(factored)}"]
    else:
        try:
            solutions = sympy.solve(sympy.Eq(lhs, rhs), x)
        except (NotImplementedError, ValueError, TypeError):
            solutions = []
        exact = sorted((s for s in solutions if isinstance(s, sympy.Expr)),
                       key=sympy.default_sort_key)[:4]
        exact = [r for r in exact if nice(r, 80)]
        if not exact:
            approx = _numeric_roots(equation, x, (-6.0, 6.0))
    exact = [r for r in exact if nice(r, 80)][:4]
    if not exact and not approx:
        return None
    checks = [f"{at(lhs, x, r)} == {at(rhs, x, r)}" for r in exact]
    scenes = [title_scene(
        "Intro", "The equation", f"Find every {x} with {eq_plain}.", "Solve the equation",
        eq_tex, "Which values make both sides equal?")]
    if method:
        scenes.append(steps_scene("Method", method_title, f"{method_title} for {eq_plain}.",
                                  method_title, method, claims=method_claims))
    real_roots = [float(r) for r in exact if r.is_real] + approx
    lo, hi = -4.0, 4.0
    if real_roots:
        spread = max(real_roots) - min(real_roots)
        margin = max(1.0, 0.5 * spread)
        lo, hi = min(real_roots) - margin, max(real_roots) + margin
    if hi - lo <= 40:
        plot = plot_plan(equation, x, (lo, hi), include_y=[0.0])
        if plot is not None:
            dots = [(r, 0.0) for r in real_roots if in_segments(plot, r)]
            scenes.append(plot_scene(
                "Graph", "Roots on the graph",
                f"The solutions are where y = {truncate(plain_text(equation), 40)} crosses zero.",
                "Where the graph crosses zero", rf"y = {latex(equation)}", plot, dots=dots))
    answers = [rf"{latex(x)} = {latex(r)}" for r in exact]
    answers += [rf"{latex(x)} \approx {r:.6g}" for r in approx[:3]]
    note = "some solutions (the equation is periodic)" if periodic else None
    scenes.append(steps_scene(
        "Result", "The solutions", "State the solutions and check them.", "Solutions",
        [r",\quad ".join(answers)], claims=checks, note=note))
    return Content("solve", f"Solving {eq_plain}", tuple(scenes[:4]))


def _numeric_roots(expr: sympy.Expr, x: sympy.Symbol, window: tuple[float, float]
                   ) -> list[float]:
    """Real roots of ``expr`` in a window: sign changes on a grid, refined by bisection."""
    import numpy as np

    func = sympy.lambdify(x, expr, modules="numpy")
    xs = np.linspace(window[0], window[1], 1201)
    ys = evaluate(func, xs)
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


def factor_content(f: sympy.Expr) -> Content | None:
    """Factor a polynomial and check by expanding."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not f.is_polynomial(*symbols) or not nice(f):
        return None
    expanded = sympy.expand(f)
    factored = sympy.factor(expanded)
    if not nice(factored):
        return None
    plain = plain_text(f)
    scenes = [title_scene(
        "Intro", "The expression", f"Write {plain} as a product of simpler factors.",
        "Factoring", latex(f), "Write it as a product")]
    if len(symbols) == 1:
        x = symbols[0]
        found = sympy.roots(sympy.Poly(expanded, x), cubics=False, quartics=False)
        roots = [r for r in sorted(found, key=sympy.default_sort_key) if r.is_Rational][:3]
        if roots:
            lines = [rf"{latex(x)} = {latex(r)}:\quad {latex(expanded)} = 0" for r in roots]
            scenes.append(steps_scene(
                "Roots", "Find the roots", "Each root r gives a factor (x - r).",
                "Each root gives a factor", lines,
                claims=[f"{at(expanded, x, r)} == 0" for r in roots], box_last=False))
    scenes.append(steps_scene(
        "Factor", "The factored form", f"{plain} factors as {plain_text(factored)}.", "Factored form",
        [latex(expanded), latex(factored)], transform=True,
        claims=[f"factor({sstr(expanded)}) == {sstr(factored)}"]))
    scenes.append(steps_scene(
        "Check", "Check by expanding", "Multiplying the factors gives back the expression.",
        "Check: expand", [rf"{latex(factored)} = {latex(expanded)}"],
        claims=[f"expand({sstr(factored)}) == {sstr(expanded)}"]))
    return Content("factor", f"Factoring {plain}", tuple(scenes[:4]))


def expand_content(f: sympy.Expr) -> Content | None:
    """Expand a product or power and check at a point."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not nice(f):
        return None
    if f.is_Pow and f.base.is_Add and f.exp.is_Integer and int(f.exp) > 10:
        return None
    expanded = sympy.expand(f)
    if expanded == f or len(sympy.Add.make_args(expanded)) > 12 or not nice(expanded, 220):
        return None
    plain = plain_text(f)
    scenes = [title_scene(
        "Intro", "The expression", f"Multiply out {plain}.", "Expanding", latex(f),
        "Multiply everything out")]
    if f.is_Pow and f.base.is_Add and len(f.base.args) == 2 and f.exp.is_Integer:
        n = int(f.exp)
        row = [sympy.binomial(n, k) for k in range(n + 1)]
        scenes.append(steps_scene(
            "Pascal", "Binomial coefficients", f"The coefficients are row {n} of Pascal's "
            "triangle.", "Binomial coefficients",
            [rf"\binom{{{n}}}{{k}}:\quad " + r",\ ".join(str(b) for b in row)],
            claims=[f"binomial({n}, {k}) == {row[k]}" for k in range(1, min(n, 3))]))
    scenes.append(steps_scene(
        "Expand", "Multiply out", f"{plain} = {plain_text(expanded)}.", "Expanded form",
        [latex(f), latex(expanded)], transform=True,
        claims=[f"expand({sstr(f)}) == {sstr(expanded)}"]))
    for start in (2, 3, 5, 7):
        point = {s: sympy.Integer(start + i) for i, s in enumerate(symbols)}
        value = f.subs(point)
        if value.is_finite:
            break
    else:
        return None
    left, right = sstr(f), sstr(expanded)
    for s, val in point.items():
        left = re.sub(rf"\b{s.name}\b", f"({val})", left)
        right = re.sub(rf"\b{s.name}\b", f"({val})", right)
    where = ", ".join(f"{s} = {val}" for s, val in point.items())
    shown = {s: sympy.UnevaluatedExpr(val) for s, val in point.items()}
    scenes.append(steps_scene(
        "Check", "Check with numbers", f"Both forms agree at {where}.", f"Check at {where}",
        [rf"{latex(f.xreplace(shown))} = {latex(value)}",
         rf"{latex(expanded.xreplace(shown))} = {latex(value)}"],
        claims=[f"{left} == {sstr(value)}", f"{right} == {sstr(value)}"],
        note=f"both forms give {value}", box_last=False))
    return Content("expand", f"Expanding {plain}", tuple(scenes[:4]))


def simplify_content(f: sympy.Expr) -> Content | None:
    """Simplify an expression (cancel common factors)."""
    if not nice(f) or len(f.free_symbols) > 2:
        return None
    simple = sympy.simplify(f) if sympy.count_ops(f) <= 30 else sympy.cancel(f)
    if not nice(simple) or simple == f:
        return None
    plain = plain_text(f)
    num, den = sympy.fraction(sympy.together(f))
    scenes = [title_scene("Intro", "The expression", f"Simplify {plain}.", "Simplifying",
                          latex(f), "Find a simpler equal form")]
    if den != 1:
        fn, fd = sympy.factor(num), sympy.factor(den)
        scenes.append(steps_scene(
            "Factor", "Factor top and bottom", "Factoring shows what cancels.",
            "Factor numerator and denominator",
            [rf"\frac{{{latex(fn)}}}{{{latex(fd)}}}"],
            claims=[f"factor({sstr(num)}) == {sstr(fn)}"]))
    scenes.append(steps_scene(
        "Result", "The simpler form", f"{plain} = {plain_text(simple)}.", "Result",
        [rf"{latex(f)} = {latex(simple)}"], claims=[f"{sstr(f)} == {sstr(simple)}"],
        note="(where both sides are defined)" if den != 1 else None))
    return Content("simplify", f"Simplifying {plain}", tuple(scenes))


def graph_content(f: sympy.Expr) -> Content | None:
    """Graph a function, mark its intercepts."""
    x = variable(f)
    if x is None or not nice(f) or not f.has(x):
        return None
    plot = best_plot(f, x, WINDOWS)
    if plot is None:
        return None
    plain, fl, v = plain_text(f), latex(f), latex(x)
    dots = []
    claims = []
    at0 = f.subs(x, 0)
    if at0.is_finite and at0.is_real and nice(at0, 60) and value_at(plot, 0.0) is not None:
        dots.append((0.0, float(at0)))
        claims.append(f"{at(f, x, 0)} == {sstr(at0)}")
    scenes = [
        title_scene("Intro", "The function", f"Meet f({x}) = {plain}.", "A function and its "
                    "graph", rf"f({v}) = {fl}", "What does it look like?"),
        plot_scene("Graph", "The graph", f"Draw y = {plain}.", "The graph",
                   rf"y = {fl}", plot, dots=dots, claims=claims),
    ]
    values = []
    value_claims = []
    for point in (0, 1, 2):
        value = f.subs(x, point)
        if value.is_real and value.is_finite and nice(value, 50):
            approx = "" if value.is_Rational else rf" \approx {float(value):.6g}"
            values.append(rf"f({point}) = {latex(value)}{approx}")
            value_claims.append(f"{at(f, x, point)} == {sstr(value)}")
    if values:
        scenes.append(steps_scene("Values", "Some values", "Read off a few values.",
                                  "A few values", values[:3], claims=value_claims[:3],
                                  box_last=False))
    if len(scenes) < 3:
        return None
    return Content("graph", f"The graph of {plain}", tuple(scenes))
