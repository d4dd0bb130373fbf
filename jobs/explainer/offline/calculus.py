"""Calculus topics computed with sympy: derivatives, integrals, limits and series."""

from __future__ import annotations

import math
import re
from typing import Any

import sympy

from jobs.explainer.offline.parse import variable
from jobs.explainer.offline.plots import (
    WINDOWS,
    Plot,
    best_plot,
    evaluate,
    numpy_code,
    plot_plan,
    plot_scene,
    segments_for,
    tangent_point,
)
from jobs.explainer.offline.printing import at, latex, nice, plain_text, sstr, tidy
from jobs.explainer.offline.scenes import Content, steps_scene, table_scene, title_scene
from jobs.explainer.offline.text import truncate


def _derivative_rule(f: sympy.Expr, x: sympy.Symbol) -> tuple[str, str]:
    """Name and LaTeX statement of the main rule for differentiating ``f``."""
    v = latex(x)
    d = rf"\frac{{d}}{{d{v}}}"
    if f.is_Add:
        return "sum rule", rf"{d}\left(u + w\right) = u' + w'"
    if f.is_Mul:
        factors = [a for a in f.args if a.has(x)]
        if any(a.is_Pow and a.exp.is_negative for a in factors) and len(factors) > 1:
            return "quotient rule", r"\left(\frac{u}{w}\right)' = \frac{u'w - uw'}{w^2}"
        if len(factors) > 1:
            return "product rule", r"(u\,w)' = u'\,w + u\,w'"
        if factors:
            f = factors[0]
        else:
            return "constant rule", rf"{d}\, c = 0"
    if f.is_Pow and f.base.has(x) and f.exp.has(x):
        return "logarithmic derivative", (
            r"u^{w} = e^{w \ln u}:\quad "
            r"(u^{w})' = u^{w} \left(w' \ln u + \frac{w\,u'}{u}\right)"
        )
    if f.is_Pow and f.base == x and not f.exp.has(x):
        return "power rule", rf"{d}\, {v}^n = n\,{v}^{{n-1}}"
    if f.is_Pow and f.exp.has(x) and not f.base.has(x):
        return "exponential rule", rf"{d}\, a^{{{v}}} = a^{{{v}}} \ln a"
    if isinstance(f, sympy.Function) and f.args and f.args[0] != x:
        return "chain rule", rf"{d}\, u(w({v})) = u'(w({v}))\, w'({v})"
    if f.is_Pow and f.base != x:
        return "chain rule", rf"{d}\, u(w({v})) = u'(w({v}))\, w'({v})"
    if isinstance(f, sympy.Function):
        name = type(f).__name__
        known = {
            "sin": rf"{d} \sin {v} = \cos {v}",
            "cos": rf"{d} \cos {v} = -\sin {v}",
            "tan": rf"{d} \tan {v} = \frac{{1}}{{\cos^2 {v}}}",
            "exp": rf"{d}\, e^{{{v}}} = e^{{{v}}}",
            "log": rf"{d} \ln {v} = \frac{{1}}{{{v}}}",
        }
        if name in known:
            return "standard derivative", known[name]
    return "definition", rf"f'({v}) = \lim_{{h \to 0}} \frac{{f({v} + h) - f({v})}}{{h}}"


def derivative_content(f: sympy.Expr) -> Content | None:
    """The derivative of ``f``: graph with a tangent, the rule, the result."""
    x = variable(f)
    if x is None:
        return None
    fp = tidy(sympy.diff(f, x))
    if not (nice(f) and nice(fp)):
        return None
    v, fl, fpl, plain = latex(x), latex(f), latex(fp), plain_text(f)
    claim = f"diff({sstr(f)}, {x}) == {sstr(fp)}"
    rule, rule_tex = _derivative_rule(f, x)
    scenes = [title_scene(
        "Intro", f"The function {plain}", f"Meet f({x}) = {plain} and the question: how fast does "
        "it change?", "The derivative", f"f({v}) = {fl}", "How fast does f change?")]
    plot = best_plot(f, x, WINDOWS)
    if plot is not None:
        point = tangent_point(f, fp, x, plot)
        if point is not None:
            x0, tangent, slope = point
            scenes.append(plot_scene(
                "Tangent", "Slope of a tangent line",
                f"The derivative at {x} = {x0} is the slope of the tangent line there.",
                "The derivative is a slope", rf"f'({latex(x0)}) = {latex(slope)}", plot,
                tangent=tangent, claims=[f"{at(fp, x, x0)} == {sstr(slope)}"]))
    scenes.append(steps_scene(
        "Rule", f"Apply the {rule}", f"Differentiate {plain} with the {rule}.",
        f"Apply the {rule}", [rule_tex, rf"\frac{{d}}{{d{v}}}\left({fl}\right) = {fpl}"],
        claims=[claim]))
    scenes.append(steps_scene(
        "Result", "The result", f"f'({x}) = {plain_text(fp)} gives the slope at every point.",
        "Result", [rf"f'({v}) = {fpl}"], claims=[claim],
        note="the slope of the graph at every point"))
    return Content("derivative", f"The derivative of {plain}", tuple(scenes))


def integral_content(f: sympy.Expr, a: sympy.Expr | None, b: sympy.Expr | None
                     ) -> Content | None:
    """An antiderivative or a definite integral of ``f``, with the area picture."""
    x = variable(f)
    if x is None or not nice(f):
        return None
    if not _cheap_to_integrate(f, x):
        return _numeric_integral_content(f, x, a, b)
    v, fl, plain = latex(x), latex(f), plain_text(f)
    antiderivative = sympy.integrate(f, x)
    F = tidy(antiderivative) if nice(antiderivative, 400) else None
    if F is not None and not nice(F):
        F = None
    if a is None or b is None:
        if F is None:
            return _numeric_integral_content(f, x, a, b)
        Fl = latex(F)
        scenes = [title_scene(
            "Intro", f"Antiderivative of {plain}", "We look for a function whose derivative is "
            f"{plain}.", "Finding an antiderivative", rf"\int {fl}\, d{v}",
            f"Which function has derivative {truncate(plain, 40)}?")]
        plot = best_plot(f, x, WINDOWS)
        if plot is not None:
            code = numpy_code(F, x)
            pieces = segments_for(F, x, plot) if code else []
            second = (code, pieces) if code and pieces else None
            scenes.append(plot_scene(
                "Graph", "The function and its antiderivative",
                f"Blue: f = {plain}; green: an antiderivative F.", "f (blue) and F (green)",
                rf"f({v}) = {fl}", plot, second=second))
        scenes.append(steps_scene(
            "Compute", "Compute the antiderivative", f"The antiderivative of {plain}.",
            "The antiderivative", [rf"\int {fl}\, d{v} = {Fl} + C"],
            claims=[f"integrate({sstr(f)}, {x}) == {sstr(F)}"]))
        scenes.append(steps_scene(
            "Check", "Check by differentiating", "Differentiating F gives back f.",
            "Check: differentiate", [rf"\frac{{d}}{{d{v}}}\left({Fl}\right) = {fl}"],
            claims=[f"diff({sstr(F)}, {x}) == {sstr(f)}"]))
        return Content("integral", f"The integral of {plain}", tuple(scenes))
    value = sympy.integrate(f, (x, a, b))
    if not nice(value) or value.has(x) or not (value.is_finite or value in (sympy.oo, -sympy.oo)):
        return _numeric_integral_content(f, x, a, b)
    value = tidy(value)
    bounds = rf"\int_{{{latex(a)}}}^{{{latex(b)}}} {fl}\, d{v}"
    claim = f"integrate({sstr(f)}, ({x}, {sstr(a)}, {sstr(b)})) == {sstr(value)}"
    title = f"The integral of {plain} from {plain_text(a)} to {plain_text(b)}"
    scenes = [title_scene(
        "Intro", "The question", f"The definite integral of {plain} from {plain_text(a)} to "
        f"{plain_text(b)} is a signed area.", "A definite integral", bounds,
        "the signed area under the curve")]
    lo = float(a) if a.is_finite else None
    hi = float(b) if b.is_finite else None
    if lo is not None or hi is not None:
        left = lo if lo is not None else (hi or 0.0) - 8
        right = hi if hi is not None else left + 8
        if left > right:
            left, right = right, left
        pad = max(0.5, 0.25 * (right - left))
        window = (left - pad, right + pad)
        plot = plot_plan(f, x, window, cover=(left, right))
        if plot is not None:
            scenes.append(plot_scene(
                "Area", "The area under the curve",
                f"Shade the region under {plain} between {plain_text(a)} and {plain_text(b)}.",
                "The area under the curve", bounds, plot, area=_area_interval(plot, left, right)))
    steps = [rf"{bounds} = {latex(value)}"]
    claims = [claim]
    ends = _ends(F, x, a, b) if F is not None and _ends_match(F, x, a, b, value) else None
    if F is not None and ends is not None:
        steps = [rf"F({v}) = {latex(F)}", rf"{bounds} = {ends[0]} = {latex(value)}"]
        claims = [f"diff({sstr(F)}, {x}) == {sstr(f)}", *ends[1], claim]
    scenes.append(steps_scene(
        "Compute", "Compute with an antiderivative",
        "Evaluate an antiderivative at the bounds and subtract.", "Evaluate", steps,
        claims=claims, box_last=False))
    if value.is_Integer:
        approx = None
    else:
        approx = f"\u2248 {float(value):.6g}" if value.is_finite else "the integral diverges"
    scenes.append(steps_scene(
        "Result", "The value", f"The integral equals {plain_text(value)}.", "Result",
        [rf"{bounds} = {latex(value)}"], claims=[claim], note=approx))
    return Content("integral", title, tuple(scenes))


def _numeric_integral_content(f: sympy.Expr, x: sympy.Symbol, a: sympy.Expr | None,
                              b: sympy.Expr | None) -> Content | None:
    """An integral without a short closed form: the graph (or area) and a numerical value."""
    v, fl, plain = latex(x), latex(f), plain_text(f)
    lo, hi = (a, b) if a is not None and b is not None else (sympy.Integer(0), sympy.Integer(1))
    if not (lo.is_finite and hi.is_finite):
        return None
    estimate = complex(sympy.Integral(f, (x, lo, hi)).evalf(15))
    if abs(estimate.imag) > 1e-9 or not math.isfinite(estimate.real):
        return None
    bounds = rf"\int_{{{latex(lo)}}}^{{{latex(hi)}}} {fl}\, d{v}"
    definite = a is not None
    heading = "A definite integral" if definite else "Finding an antiderivative"
    formula = bounds if definite else rf"\int {fl}\, d{v}"
    scenes = [title_scene("Intro", "The question", f"Integrate {plain}.", heading, formula,
                          "the signed area under the curve" if definite else
                          f"Which function has derivative {truncate(plain, 40)}?")]
    left, right = float(lo), float(hi)
    pad = max(0.5, 0.25 * abs(right - left))
    plot = plot_plan(f, x, (min(left, right) - pad, max(left, right) + pad),
                     cover=(min(left, right), max(left, right)))
    if plot is not None:
        area = (min(left, right), max(left, right))
        scenes.append(plot_scene(
            "Area", "The area under the curve", f"The area under {plain} between "
            f"{plain_text(lo)} and {plain_text(hi)}.", "The area under the curve", bounds, plot,
            area=_area_interval(plot, *area)))
    scenes.append(steps_scene(
        "Numeric", "A numerical value", "No short closed form: compute the area numerically.",
        "No short formula: integrate numerically", [rf"{bounds} \approx {estimate.real:.6g}"],
        note="sympy finds no short closed form; the value is numerical"))
    title = (f"The integral of {plain} from {plain_text(lo)} to {plain_text(hi)}" if definite
             else f"The integral of {plain}")
    return Content("integral", title, tuple(scenes))


def _cheap_to_integrate(f: sympy.Expr, x: sympy.Symbol) -> bool:
    """Whether sympy integrates ``f`` quickly: small, low powers, rational parts that factor.

    Products of high powers of trigonometric functions and rational functions with irreducible
    cubic denominators can keep sympy busy for many seconds; such topics get other content.
    """
    if sympy.count_ops(f) > 20:
        return False
    for node in sympy.preorder_traversal(f):
        if isinstance(node, sympy.Pow) and node.exp.is_Integer and abs(int(node.exp)) > 8:
            return False
    if f.is_rational_function(x):
        denominator = sympy.denom(sympy.together(f))
        _, factors = sympy.factor_list(denominator, x)
        if any(sympy.degree(factor, x) > 2 for factor, _ in factors):
            return False
    return True


def _ends(F: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, b: sympy.Expr
          ) -> tuple[str, list[str]] | None:
    """``F(b) - F(a)`` as LaTeX (limits for infinite bounds) with claims for the limits.

    Returns:
        ``(latex, claims)``, or None when the ends are not finite and nice.
    """
    parts: list[str] = []
    claims: list[str] = []
    for bound in (b, a):
        if bound.is_finite:
            parts.append(rf"F({latex(bound)})")
            continue
        value = sympy.limit(F, x, bound)
        if not (nice(value, 60) and value.is_finite):
            return None
        parts.append(rf"\lim_{{{latex(x)} \to {latex(bound)}}} F({latex(x)})")
        claims.append(f"limit({sstr(F)}, {x}, {sstr(bound)}) == {sstr(value)}")
    return f"{parts[0]} - {parts[1]}", claims


def _ends_match(F: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, b: sympy.Expr,
                value: sympy.Expr) -> bool:
    """Whether ``F(b) - F(a)`` (limits at infinite bounds) equals the integral's value.

    False for integrals over a singularity, where an antiderivative's difference is wrong.
    """
    def end(bound: sympy.Expr) -> sympy.Expr:
        return F.subs(x, bound) if bound.is_finite else sympy.limit(F, x, bound)

    difference = end(b) - end(a)
    return bool(difference.is_finite and sympy.simplify(difference - value) == 0)


def _area_interval(plot: Plot, a: float, b: float) -> tuple[float, float] | None:
    """[a, b] nudged inwards (a removable gap at an end, like sin(x)/x at 0, is fine) when the
    function is finite and in view on all of it, so the area under it can be shaded; else None.
    """
    import numpy as np

    nudge = 1e-4 * (b - a)
    a, b = a + nudge, b - nudge
    ys = evaluate(plot.func, np.linspace(a, b, 201))
    ok = bool(np.all(np.isfinite(ys)) and np.all(ys >= plot.y_range[0])
              and np.all(ys <= plot.y_range[1]) and plot.y_range[0] <= 0 <= plot.y_range[1])
    return (a, b) if ok and b > a else None


def limit_content(f: sympy.Expr, x: sympy.Symbol, point: sympy.Expr, side: str
                  ) -> Content | None:
    """The limit of ``f`` as ``x`` approaches ``point`` (side ``+``, ``-`` or both)."""
    if f.free_symbols - {x} or not nice(f):
        return None
    v, fl, plain = latex(x), latex(f), plain_text(f)
    right = sympy.limit(f, x, point, "+") if point != -sympy.oo and side != "-" else None
    left = sympy.limit(f, x, point, "-") if point != sympy.oo and side != "+" else None
    oscillates = any(isinstance(w, sympy.Expr) and w.has(sympy.AccumBounds) for w in (left, right))

    def ok(w: Any) -> bool:
        return isinstance(w, sympy.Expr) and nice(w, 80) and not w.has(x)

    if not oscillates and not all(ok(w) for w in (left, right) if w is not None):
        return None
    arrow = {"+": "^{+}", "-": "^{-}"}.get(side, "")
    lim = rf"\lim_{{{v} \to {latex(point)}{arrow}}} {fl}"
    # mathcheck's limit() is one-sided from the right by default, so a left limit is claimed as
    # the right limit of f(point - x) at 0.
    claims: list[str] = []
    result: sympy.Expr | None = None
    if point == sympy.oo or point == -sympy.oo:
        value = right if point == sympy.oo else left
        if ok(value):
            result = value
            claims.append(f"limit({sstr(f)}, {x}, {sstr(point)}) == {sstr(value)}")
    else:
        if ok(right):
            claims.append(f"limit({sstr(f)}, {x}, {sstr(point)}) == {sstr(right)}")
        if ok(left):
            claims.append(f"limit({sstr(f.subs(x, point - x))}, {x}, 0) == {sstr(left)}")
        if side == "+":
            result = right if ok(right) else None
        elif side == "-":
            result = left if ok(left) else None
        elif ok(left) and ok(right) and left == right:
            result = right
    title = f"The limit of {plain} as {x} → {plain_text(point)}{side}"
    scenes = [title_scene(
        "Intro", "The question", f"What value does {plain} approach as {x} approaches "
        f"{plain_text(point)}?", "A limit", lim, f"What does f approach as {x} \u2192 "
        f"{plain_text(point)}{side}?")]
    if point.is_finite:
        p = float(point)
        window = (p - 3, p + 3)
        include = [float(result)] if result is not None and result.is_finite else []
        plot = plot_plan(f, x, window, include_y=include)
        if plot is not None:
            holes = []
            if result is not None and result.is_finite:
                holes.append((p, float(result)))
            scenes.append(plot_scene(
                "Graph", "Zoom in on the graph", f"Follow the graph of {plain} towards "
                f"{x} = {plain_text(point)}.", "Follow the graph", rf"f({v}) = {fl}", plot,
                holes=holes))
    else:
        window = (0.0, 12.0) if point == sympy.oo else (-12.0, 0.0)
        limit_value = result if result is not None else None
        include = ([float(limit_value)] if limit_value is not None and limit_value.is_finite
                   else [])
        plot = plot_plan(f, x, window, include_y=include)
        if plot is not None:
            hline = float(limit_value) if limit_value is not None and limit_value.is_finite \
                else None
            scenes.append(plot_scene(
                "Graph", "Far along the graph", f"Follow {plain} as {x} grows.",
                "Follow the graph", rf"f({v}) = {fl}", plot, hline=hline))
    table = _limit_table(f, x, point, side)
    if table:
        scenes.append(table_scene(
            "Table", "Numerical evidence", f"Values of {plain} close to {plain_text(point)}.",
            "Values close to the point", table))
    if result is not None:
        lines = [rf"{lim} = {latex(result)}"]
        note = None
    elif oscillates:
        lines = [rf"{lim}\ \text{{does not exist}}"]
        note = "f oscillates: it approaches no single value"
    else:
        lines = [
            rf"\lim_{{{v} \to {latex(point)}^{{-}}}} {fl} = {latex(left)}",
            rf"\lim_{{{v} \to {latex(point)}^{{+}}}} {fl} = {latex(right)}",
        ]
        note = "the one-sided limits differ: the limit does not exist"
    scenes.append(steps_scene("Result", "The limit", "State the limit.", "Result", lines,
                              claims=claims, note=note))
    return Content("limit", title, tuple(scenes[:4]))


def _limit_table(f: sympy.Expr, x: sympy.Symbol, point: sympy.Expr, side: str
                 ) -> list[str]:
    """Rows ``x = ...   f(x) = ...`` approaching the point (exact evaluation, 6 digits)."""
    if point == sympy.oo:
        xs = [sympy.Integer(10), sympy.Integer(100), sympy.Integer(1000)]
    elif point == -sympy.oo:
        xs = [sympy.Integer(-10), sympy.Integer(-100), sympy.Integer(-1000)]
    else:
        steps = [sympy.Rational(1, 10), sympy.Rational(1, 100), sympy.Rational(1, 1000)]
        xs = []
        if side in ("", "-"):
            xs += [point - h for h in steps]
        if side in ("", "+"):
            xs += [point + h for h in steps]
    rows = []
    for value in xs:
        try:
            y = complex(f.evalf(20, subs={x: value}))
        except (TypeError, ValueError):
            continue
        if abs(y.imag) > 1e-12 or not math.isfinite(y.real):
            continue
        rows.append(f"{x} = {float(value):.6g}    f({x}) = {y.real:.6g}")
    return rows


def series_content(f: sympy.Expr, point: sympy.Expr, max_order: int) -> Content | None:
    """The Taylor series of ``f`` about ``point`` up to ``O((x - point)**order)``, with
    ``order <= max_order`` as large as keeps the polynomial short."""
    x = variable(f)
    if x is None or not nice(f) or not point.is_finite or not f.has(x):
        return None
    u = sympy.Symbol("w" if x.name == "u" else "u")
    shift_s, shift_tex = sstr(x - point), latex(x - point)
    # Lower the order until the polynomial is short enough to show (expansions about points other
    # than 0 often have long coefficients).
    for order in range(max_order, 2, -1):
        expansion = sympy.series(f, x, point, order)
        poly = expansion.removeO()
        if not poly.is_polynomial(x) or poly.has(sympy.zoo, sympy.nan):
            return None
        # Write the polynomial in powers of (x - point), lowest degree first.
        in_u = sympy.expand(poly.subs(x, u + point))
        terms_tex = str(sympy.latex(in_u, order="rev-lex",
                                    symbol_names={u: rf"\left({shift_tex}\right)"}))
        if nice(in_u, 10_000) and len(terms_tex) <= 200:
            break
    else:
        return None
    v, fl, plain = latex(x), latex(f), plain_text(f)
    name = "Maclaurin" if point == 0 else "Taylor"
    exact = expansion.getO() is None  # a polynomial equals its own Taylor series
    terms_s = re.sub(rf"\b{u.name}\b", f"({shift_s})", str(sympy.sstr(in_u, order="rev-lex")))
    if point == 0:
        terms_s, terms_tex = sstr(poly), latex(poly)
    if exact:
        series_s, series_tex = terms_s, terms_tex
    elif point == 0:
        series_s, series_tex = sstr(expansion), latex(expansion)
    else:
        series_s = f"{terms_s} + O(({shift_s})**{order}, ({x}, {sstr(point)}))"
        series_tex = rf"{terms_tex} + O\left(\left({shift_tex}\right)^{{{order}}}\right)"
    claim = f"series({sstr(f)}, {x}, {sstr(point)}, {order}) == {series_s}"
    about = f"about {x} = {plain_text(point)}"
    scenes = [title_scene(
        "Intro", "The idea", f"Approximate {plain} near {x} = {plain_text(point)} by polynomials.",
        f"The {name} series", rf"f({v}) = {fl}", f"polynomials that hug f {about}")]
    a = latex(point)
    shift = v if point == 0 else rf"\left({shift_tex}\right)"
    formula = rf"f({v}) = \sum_{{k=0}}^{{\infty}} \frac{{f^{{(k)}}({a})}}{{k!}}\, {shift}^k"
    coefficients = []
    for k in range(3):
        value = sympy.diff(f, x, k).subs(x, point)
        if not nice(value, 60):
            break
        primes = "'" * k
        derivative = f"diff({sstr(f)}, {x}, {k})" if k else sstr(f)
        coefficients.append((rf"f{primes}({a}) = {latex(value)}",
                             f"limit({derivative}, {x}, {sstr(point)}) == {sstr(value)}"))
    if coefficients:
        scenes.append(steps_scene(
            "Formula", "The Taylor formula", "Coefficients come from derivatives at the point.",
            "Coefficients from derivatives",
            [formula, r",\quad ".join(t for t, _ in coefficients)],
            claims=[c for _, c in coefficients], box_last=False))
    p = float(point)
    plot = plot_plan(f, x, (p - 4, p + 4))
    if plot is not None:
        partial: list[sympy.Expr] = []
        for degree in range(order):
            term_sum = sum((t for t in sympy.Add.make_args(in_u)
                            if sympy.degree(t, u) <= degree), sympy.Integer(0))
            if not partial or sympy.expand(term_sum - partial[-1]) != 0:
                partial.append(term_sum)
        partial = [sympy.expand(q.subs(u, x - point)) for q in partial]
        morphs: list[tuple[str, tuple[float, float]]] = []
        for approx in partial[-3:]:
            code = numpy_code(approx, x)
            pieces = [s for s in segments_for(approx, x, plot) if s[0] <= p <= s[1]]
            if code and pieces:
                morphs.append((code, pieces[0]))
        scenes.append(plot_scene(
            "Graph", "Better and better approximations",
            "Polynomials of higher degree follow f further from the point.",
            "Taylor polynomials (orange) approach f", rf"f({v}) = {fl}", plot, morphs=morphs))
    scenes.append(steps_scene(
        "Result", "The series", f"The {name} series of {plain} {about}.", "Result",
        [rf"{fl} = {series_tex}"], claims=[claim]))
    where = "" if point == 0 else f" about {x} = {plain_text(point)}"
    return Content("series", f"The {name} series of {plain}{where}", tuple(scenes[:4]))
