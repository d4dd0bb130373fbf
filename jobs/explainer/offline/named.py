"""Named topics (the Pythagorean theorem, the quadratic formula, ...): written content with
checked claims, picked by patterns in the topic text."""

from __future__ import annotations

import re
from collections.abc import Callable

import sympy

from jobs.explainer.offline.plots import plot_plan, plot_scene, tangent_point
from jobs.explainer.offline.printing import at, latex, sstr
from jobs.explainer.offline.scenes import Code, Content, Scene, add_heading, steps_scene, title_scene


def _pythagoras() -> Content:
    """The Pythagorean theorem: statement, squares on a 3-4-5 triangle, numbers, distance."""
    statement = title_scene(
        "Intro", "The statement", "In a right triangle, a^2 + b^2 = c^2.",
        "The Pythagorean theorem", "a^2 + b^2 = c^2", "for every right triangle")
    c = Code(numpy=True)
    add_heading(c, "Squares on the sides of a 3-4-5 triangle")
    c("A, B, C = np.array([0.0, 0.0, 0.0]), np.array([4.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])")
    c("tri = Polygon(A, B, C, color=WHITE, stroke_width=4)")
    c("sq_a = Polygon(A, C, C + LEFT * 3, A + LEFT * 3, color=BLUE, fill_opacity=0.5)")
    c("sq_b = Polygon(A, B, B + DOWN * 4, A + DOWN * 4, color=GREEN, fill_opacity=0.5)")
    c("sq_c = Polygon(B, C, C + np.array([3.0, 4.0, 0.0]), B + np.array([3.0, 4.0, 0.0]), "
      "color=ORANGE, fill_opacity=0.5)")
    c("mark = RightAngle(Line(A, B), Line(A, C), length=0.4)")
    c("la = Text('9', font_size=48).move_to(sq_a)")
    c("lb = Text('16', font_size=48).move_to(sq_b)")
    c("lc = Text('25', font_size=48).move_to(sq_c)")
    c("fig = VGroup(tri, sq_a, sq_b, sq_c, mark, la, lb, lc)")
    c("fig.scale_to_fit_height(5.4).next_to(heading, DOWN, buff=0.3)")
    c.play("Create(tri), Create(mark)", 1.0)
    c.play("FadeIn(sq_a), FadeIn(sq_b), Write(la), Write(lb)", 1.2)
    c.play("FadeIn(sq_c), Write(lc)", 1.0)
    c.play("Indicate(lc)", 0.8)
    c.wait(0.6)
    squares = Scene("Squares", "Squares on the sides",
                    "The squares on the legs (9 and 16) add up to the square on the "
                    "hypotenuse (25).", c, ("3**2 + 4**2 == 5**2",))
    numbers = steps_scene(
        "Numbers", "Check with numbers", "Two Pythagorean triples satisfy a^2 + b^2 = c^2.",
        "Check with numbers", ["3^2 + 4^2 = 9 + 16 = 25 = 5^2", "5^2 + 12^2 = 25 + 144 = 169 = 13^2"],
        claims=["3**2 + 4**2 == 5**2", "5**2 + 12**2 == 13**2", "9 + 16 == 25"])
    distance = steps_scene(
        "Distance", "Distance between points", "The theorem gives the length of the hypotenuse "
        "and the distance formula.", "The length of the hypotenuse",
        [r"c = \sqrt{a^2 + b^2}", r"\sqrt{6^2 + 8^2} = \sqrt{100} = 10"],
        claims=["sqrt(6**2 + 8**2) == 10", "6**2 + 8**2 == 100"])
    return Content("pythagorean", "The Pythagorean theorem",
                   (statement, squares, numbers, distance))


def _quadratic_formula() -> Content:
    """The quadratic formula: equation, completing the square, formula, example with graph."""
    x = sympy.Symbol("x")
    intro = title_scene(
        "Intro", "The question", "Solve any equation a x^2 + b x + c = 0.",
        "The quadratic formula", "ax^2 + bx + c = 0", "solve any quadratic equation")
    square = steps_scene(
        "Square", "Complete the square", "Divide by a and complete the square.",
        "Complete the square",
        [r"x^2 + \frac{b}{a}x + \frac{c}{a} = 0",
         r"\left(x + \frac{b}{2a}\right)^2 = \frac{b^2 - 4ac}{4a^2}"],
        claims=["(x + b/(2*a))**2 - (b**2 - 4*a*c)/(4*a**2) == x**2 + b*x/a + c/a"])
    formula = steps_scene(
        "Formula", "The formula", "Take square roots and solve for x.", "Take square roots",
        [r"x + \frac{b}{2a} = \pm\frac{\sqrt{b^2 - 4ac}}{2a}",
         r"x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}"],
        claims=["a*((-b + sqrt(b**2 - 4*a*c))/(2*a))**2 + b*((-b + sqrt(b**2 - 4*a*c))/(2*a))"
                " + c == 0",
                "a*((-b - sqrt(b**2 - 4*a*c))/(2*a))**2 + b*((-b - sqrt(b**2 - 4*a*c))/(2*a))"
                " + c == 0"])
    parabola = x**2 - 5 * x + 6
    plot = plot_plan(parabola, x, (-1, 6), include_y=[0.0])
    claims = ["(5 + sqrt(25 - 24))/2 == 3", "(5 - sqrt(25 - 24))/2 == 2"]
    label = r"x^2 - 5x + 6 = 0:\; x = \frac{5 \pm \sqrt{25 - 24}}{2} = 3,\ 2"
    if plot is not None:
        example = plot_scene("Example", "An example", "x^2 - 5x + 6 = 0 has roots 2 and 3.",
                             "Example: the roots are 2 and 3", label, plot,
                             dots=[(2.0, 0.0), (3.0, 0.0)], claims=claims)
    else:  # pragma: no cover - the parabola always plots
        example = steps_scene("Example", "An example", "x^2 - 5x + 6 = 0 has roots 2 and 3.",
                              "Example", [label], claims=claims)
    return Content("quadratic_formula", "The quadratic formula",
                   (intro, square, formula, example))


def _euler_identity() -> Content:
    """Euler's identity: statement, Euler's formula on the unit circle, theta = pi."""
    intro = title_scene(
        "Intro", "The identity", "e^(i pi) + 1 = 0 links five fundamental constants.",
        "Euler's identity", r"e^{i\pi} + 1 = 0", "five constants in one equation",
        claims=["exp(I*pi) + 1 == 0"])
    c = Code()
    add_heading(c, "Euler's formula: a point on the unit circle")
    c(r"formula = MathTex(r'e^{i\theta} = \cos\theta + i\sin\theta', font_size=40)")
    c("formula.next_to(heading, DOWN, buff=0.3)")
    c("plane = NumberPlane(x_range=[-2, 2, 1], y_range=[-2, 2, 1], x_length=4.4, y_length=4.4, "
      "background_line_style={'stroke_opacity': 0.3}).to_edge(DOWN, buff=0.3)")
    c("circle = Circle(radius=plane.get_x_unit_size(), color=BLUE).move_to(plane.c2p(0, 0))")
    c("dot = Dot(plane.c2p(1, 0), color=YELLOW)")
    c("radius = always_redraw(lambda: Line(plane.c2p(0, 0), dot.get_center(), color=YELLOW))")
    c.play("Write(formula)", 1.2)
    c.play("Create(plane), Create(circle)", 1.0)
    c("self.add(radius, dot)")
    c.play("Rotate(dot, angle=PI, about_point=plane.c2p(0, 0))", 2.0)
    c.play("Indicate(dot)", 0.6)
    c.wait(0.4)
    formula = Scene("Circle", "Euler's formula", "e^(i theta) = cos theta + i sin theta walks "
                    "around the unit circle.", c, ("exp(I*x) == cos(x) + I*sin(x)",))
    half_turn = steps_scene(
        "HalfTurn", "Half a turn", "At theta = pi the point reaches -1.", "Set theta = pi",
        [r"e^{i\pi} = \cos\pi + i\sin\pi", r"e^{i\pi} = -1", r"e^{i\pi} + 1 = 0"],
        claims=["cos(pi) + I*sin(pi) == -1", "exp(I*pi) == -1", "exp(I*pi) + 1 == 0"])
    return Content("euler_identity", "Euler's identity", (intro, formula, half_turn))


def _sum_of_integers() -> Content:
    """1 + 2 + ... + n: Gauss's pairing, the staircase picture, the formula."""
    intro = title_scene(
        "Intro", "The question", "What is 1 + 2 + 3 + ... + n?", "Sum of the first n integers",
        r"1 + 2 + 3 + \cdots + n = \,?", "add up the first n whole numbers")
    gauss = steps_scene(
        "Pairs", "Gauss's pairing", "Pair the first and last terms: every pair sums to 101.",
        "Pair the terms", [r"1 + 100 = 2 + 99 = \cdots = 50 + 51 = 101",
                           r"1 + 2 + \cdots + 100 = 50 \times 101 = 5050"],
        claims=["summation(k, (k, 1, 100)) == 5050", "50*101 == 5050", "1 + 100 == 101"])
    c = Code()
    add_heading(c, "Two staircases make a rectangle")
    c("steps = VGroup()")
    c("for i in range(4):")
    c("    for j in range(i + 1):")
    c("        steps.add(Square(side_length=0.6, color=BLUE, fill_opacity=0.7)"
      ".move_to(RIGHT * 0.6 * j + DOWN * 0.6 * i))")
    c("copy = VGroup()")
    c("for i in range(4):")
    c("    for j in range(i + 1, 5):")
    c("        copy.add(Square(side_length=0.6, color=RED, fill_opacity=0.7)"
      ".move_to(RIGHT * 0.6 * j + DOWN * 0.6 * i))")
    c("picture = VGroup(steps, copy).move_to(ORIGIN + DOWN * 0.3)")
    c(r"text = MathTex(r'2\,(1 + 2 + 3 + 4) = 4 \times 5', font_size=40).next_to(picture, DOWN, buff=0.5)")
    c.play("LaggedStart(*[FadeIn(s) for s in steps], lag_ratio=0.1)", 1.2)
    c.play("LaggedStart(*[FadeIn(s) for s in copy], lag_ratio=0.1)", 1.2)
    c.play("Write(text)", 1.0)
    c.wait(0.8)
    staircase = Scene("Staircase", "The staircase picture",
                      "Two copies of the staircase 1 + 2 + 3 + 4 fill a 4 by 5 rectangle.", c,
                      ("2*(1 + 2 + 3 + 4) == 4*5",))
    formula = steps_scene(
        "Formula", "The formula", "In general the sum is n(n + 1)/2.", "The formula",
        [r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}"],
        claims=["summation(k, (k, 1, n)) == n*(n + 1)/2"], note="n = 100 gives 5050")
    return Content("arithmetic_series", "The sum of the first n integers",
                   (intro, gauss, staircase, formula))


def _geometric_series() -> Content:
    """Geometric series: shift-and-subtract, the halving square, the infinite sum."""
    intro = title_scene(
        "Intro", "The question", "Add up 1 + r + r^2 + ... + r^(n-1).", "Geometric series",
        r"1 + r + r^2 + \cdots + r^{n-1}", "each term is r times the previous one")
    shift = steps_scene(
        "Shift", "Shift and subtract", "Multiplying by r shifts the sum; subtracting cancels "
        "almost everything.", "Shift and subtract",
        [r"S = 1 + r + r^2 + \cdots + r^{n-1}", r"rS = r + r^2 + \cdots + r^{n}",
         r"S - rS = 1 - r^n", r"S = \frac{1 - r^n}{1 - r}"],
        claims=["summation(r**k, (k, 0, 4)) == (1 - r**5)/(1 - r)",
                "(1 - r)*(1 + r + r**2 + r**3 + r**4) == 1 - r**5"])
    c = Code()
    add_heading(c, "Halves fill the whole square")
    c("outline = Square(side_length=4, color=WHITE).shift(DOWN * 0.5)")
    c("pieces = VGroup()")
    c("x0, y0, w, h = -2.0, -2.5, 4.0, 4.0")
    c("for i in range(6):")
    c("    if i % 2 == 0:")
    c("        w = w / 2")
    c("        rect = Rectangle(width=w, height=h).move_to(np.array([x0 + w / 2, y0 + h / 2, 0]))")
    c("        x0 = x0 + w")
    c("    else:")
    c("        h = h / 2")
    c("        rect = Rectangle(width=w, height=h).move_to(np.array([x0 + w / 2, y0 + h / 2, 0]))")
    c("        y0 = y0 + h")
    c("    rect.set_fill(interpolate_color(BLUE, GREEN, i / 5), opacity=0.8).set_stroke(WHITE, 2)")
    c("    pieces.add(rect)")
    c(r"label = MathTex(r'\frac12 + \frac14 + \frac18 + \cdots = 1', font_size=40)")
    c("label.next_to(outline, RIGHT, buff=0.5)")
    c("label.scale_to_fit_width(min(label.width, 4.5))")
    c.play("Create(outline)", 0.6)
    c.play("LaggedStart(*[FadeIn(p) for p in pieces], lag_ratio=0.4)", 2.2)
    c.play("Write(label)", 1.0)
    c.wait(0.8)
    halves = Scene("Halves", "Halving a square", "1/2 + 1/4 + 1/8 + ... fills a unit square.",
                   c, ("summation(1/2**k, (k, 1, oo)) == 1",))
    infinite = steps_scene(
        "Infinite", "The infinite sum", "For |r| < 1, r^n goes to 0 and the sum is 1/(1 - r).",
        "When |r| < 1",
        [r"\sum_{k=0}^{\infty} r^k = \frac{1}{1 - r}",
         r"\sum_{k=0}^{\infty} \left(\frac13\right)^k = \frac{3}{2}"],
        claims=["summation((1/3)**k, (k, 0, oo)) == 3/2", "1/(1 - 1/3) == 3/2"])
    return Content("geometric_series", "Geometric series", (intro, shift, halves, infinite))


def _circle_area() -> Content:
    """Area of a circle: statement, rings unrolled into a triangle, example."""
    c = Code()
    c("title = Text('The area of a circle', font_size=44).to_edge(UP)")
    c("circle = Circle(radius=1.8, color=BLUE, fill_opacity=0.4).shift(LEFT * 2.5 + DOWN * 0.5)")
    c("radius = Line(circle.get_center(), circle.get_right(), color=YELLOW)")
    c("r_label = MathTex('r', font_size=40).next_to(radius, UP, buff=0.1)")
    c(r"formula = MathTex(r'A = \pi r^2', font_size=64).shift(RIGHT * 3 + DOWN * 0.5)")
    c.play("Write(title)", 1.0)
    c.play("DrawBorderThenFill(circle)", 1.2)
    c.play("Create(radius), Write(r_label)", 0.8)
    c.play("Write(formula)", 1.0)
    c.wait(0.8)
    intro = Scene("Intro", "The statement", "A circle of radius r has area pi r^2.", c)
    d = Code()
    add_heading(d, "Unroll thin rings into a triangle")
    d("rings = VGroup(*[Annulus(inner_radius=0.3 * i, outer_radius=0.3 * (i + 1), "
      "color=interpolate_color(BLUE, GREEN, i / 5), fill_opacity=0.7, stroke_width=1) "
      "for i in range(6)]).shift(LEFT * 3.5 + DOWN * 0.6)")
    d("tri = Polygon(np.array([0.5, -2.4, 0]), np.array([6.0, -2.4, 0]), "
      "np.array([0.5, -0.6, 0]), color=GREEN, fill_opacity=0.6)")
    d(r"base = MathTex(r'2\pi r', font_size=34).next_to(tri, DOWN, buff=0.15)")
    d("height = MathTex('r', font_size=34).next_to(tri, LEFT, buff=0.15)")
    d(r"area = MathTex(r'\tfrac12 \cdot 2\pi r \cdot r = \pi r^2', font_size=40)"
      ".next_to(tri, UP, buff=0.5)")
    d.play("LaggedStart(*[FadeIn(r) for r in rings], lag_ratio=0.2)", 1.2)
    d.play("TransformFromCopy(rings, tri)", 1.2)
    d.play("Write(base), Write(height)", 0.8)
    d.play("Write(area)", 1.0)
    d.wait(0.6)
    rings = Scene("Rings", "Rings into a triangle",
                  "A ring at radius t has length 2 pi t; stacking them gives a triangle of "
                  "area pi r^2.", d,
                  ("integrate(2*pi*t, (t, 0, r)) == pi*r**2", "(1/2)*(2*pi*r)*r == pi*r**2"))
    example = steps_scene(
        "Example", "An example", "A circle of radius 3 has area 9 pi, about 28.27.",
        "Example: r = 3", [r"A = \pi \cdot 3^2 = 9\pi \approx 28.27"],
        claims=["pi*3**2 == 9*pi"], note="doubling the radius multiplies the area by 4")
    return Content("circle_area", "The area of a circle", (intro, rings, example))


def _rule_example(kind: str) -> Content:
    """The chain rule or the product rule, each with a worked example and a tangent picture."""
    x = sympy.Symbol("x")
    if kind == "chain":
        f = sympy.sin(x**2)
        intro = title_scene(
            "Intro", "The rule", "The derivative of a composition is outer' at inner times "
            "inner'.", "The chain rule", r"\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)",
            "differentiate outside, then inside")
        parts = steps_scene(
            "Parts", "Outer and inner", "For sin(x^2): outer sin u, inner u = x^2.",
            "Example: sin(x^2)",
            [r"f(u) = \sin u,\quad f'(u) = \cos u", r"g(x) = x^2,\quad g'(x) = 2x"],
            claims=["diff(sin(u), u) == cos(u)", "diff(x**2, x) == 2*x"], box_last=False)
        result = steps_scene(
            "Combine", "Multiply", "Multiply outer' at the inner function by inner'.",
            "Multiply", [r"\frac{d}{dx}\sin(x^2) = \cos(x^2)\cdot 2x"],
            claims=["diff(sin(x**2), x) == 2*x*cos(x**2)"])
        title = "The chain rule"
    else:
        f = x**2 * sympy.sin(x)
        intro = title_scene(
            "Intro", "The rule", "The derivative of a product: (fg)' = f'g + fg'.",
            "The product rule", r"(f\,g)' = f'\,g + f\,g'", "each factor takes a turn")
        parts = steps_scene(
            "Parts", "The two factors", "For x^2 sin x: f = x^2 and g = sin x.",
            r"Example: x^2 sin x",
            [r"f = x^2,\quad f' = 2x", r"g = \sin x,\quad g' = \cos x"],
            claims=["diff(x**2, x) == 2*x", "diff(sin(x), x) == cos(x)"], box_last=False)
        result = steps_scene(
            "Combine", "Put it together", "Add f'g and fg'.", "Put it together",
            [r"\frac{d}{dx}\left(x^2 \sin x\right) = 2x\sin x + x^2\cos x"],
            claims=["diff(x**2*sin(x), x) == 2*x*sin(x) + x**2*cos(x)"])
        title = "The product rule"
    scenes = [intro, parts, result]
    fp = sympy.diff(f, x)
    plot = plot_plan(f, x, (-3, 3))
    if plot is not None:
        point = tangent_point(f, fp, x, plot)
        if point is not None:
            x0, tangent, slope = point
            scenes.append(plot_scene(
                "Tangent", "The slope on the graph", f"The derivative at x = {x0} is the slope "
                "of the tangent line.", "The derivative is the slope",
                rf"f'({latex(x0)}) = {latex(slope)}", plot, tangent=tangent,
                claims=[f"{at(fp, x, x0)} == {sstr(slope)}"]))
    return Content(f"{kind}_rule", title, tuple(scenes))


def _ftc() -> Content:
    """The fundamental theorem of calculus: statement, area, evaluation, derivative of area."""
    x = sympy.Symbol("x")
    intro = title_scene(
        "Intro", "The theorem", "Integrals are computed with antiderivatives: F(b) - F(a).",
        "The fundamental theorem of calculus", r"\int_a^b f(x)\,dx = F(b) - F(a)",
        "where F' = f")
    scenes = [intro]
    plot = plot_plan(x**2, x, (-0.5, 2.5), cover=(0.0, 2.0))
    if plot is not None:
        scenes.append(plot_scene("Area", "An area", "The area under x^2 from 0 to 2.",
                                 "The area under y = x^2 from 0 to 2", r"\int_0^2 x^2\,dx",
                                 plot, area=(0.0, 2.0)))
    scenes.append(steps_scene(
        "Evaluate", "Use an antiderivative", "F(x) = x^3/3, so the area is 8/3.",
        "Use an antiderivative",
        [r"F(x) = \frac{x^3}{3},\quad F'(x) = x^2",
         r"\int_0^2 x^2\,dx = F(2) - F(0) = \frac{8}{3}"],
        claims=["diff(x**3/3, x) == x**2", "integrate(x**2, (x, 0, 2)) == 8/3",
                "2**3/3 - 0**3/3 == 8/3"]))
    scenes.append(steps_scene(
        "Derivative", "The area function", "Differentiating the area function gives back f.",
        "The derivative of the area",
        [r"\frac{d}{dx}\int_0^x t^2\,dt = x^2"],
        claims=["diff(integrate(t**2, (t, 0, x)), x) == x**2"],
        note="integration and differentiation undo each other"))
    return Content("fundamental_theorem", "The fundamental theorem of calculus", tuple(scenes))


def _binomial_theorem() -> Content:
    """The binomial theorem: statement, Pascal's triangle, an example, row sums."""
    intro = title_scene(
        "Intro", "The theorem", "(a + b)^n expands with binomial coefficients.",
        "The binomial theorem", r"(a+b)^n = \sum_{k=0}^{n} \binom{n}{k} a^{n-k} b^k",
        "coefficients from Pascal's triangle")
    c = Code()
    add_heading(c, "Pascal's triangle")
    rows = [[int(sympy.binomial(n, k)) for k in range(n + 1)] for n in range(6)]
    c(f"rows = VGroup(*[VGroup(*[Text(str(v), font_size=34) for v in row]).arrange(RIGHT, "
      f"buff=0.6) for row in {rows!r}]).arrange(DOWN, buff=0.3)")
    c("rows.next_to(heading, DOWN, buff=0.5)")
    c("rule = Text('each number is the sum of the two above it', font_size=26, color=GRAY_B)")
    c("rule.next_to(rows, DOWN, buff=0.4)")
    c.play("LaggedStart(*[FadeIn(r, shift=DOWN * 0.2) for r in rows], lag_ratio=0.3)", 2.2)
    c.play("Indicate(rows[5][2]), Indicate(rows[4][1]), Indicate(rows[4][2])", 1.0)
    c.play("FadeIn(rule)", 0.6)
    c.wait(0.6)
    pascal = Scene("Pascal", "Pascal's triangle", "Each entry is the sum of the two above it.",
                   c, ("binomial(5, 2) == 10", "binomial(4, 1) + binomial(4, 2) == binomial(5, 2)"))
    example = steps_scene(
        "Example", "An example", "(a + b)^3 = a^3 + 3a^2 b + 3a b^2 + b^3.", "Example: n = 3",
        [r"(a+b)^3", r"a^3 + 3a^2b + 3ab^2 + b^3"], transform=True,
        claims=["expand((a + b)**3) == a**3 + 3*a**2*b + 3*a*b**2 + b**3"])
    sums = steps_scene(
        "RowSums", "Row sums", "Setting a = b = 1 shows each row sums to 2^n.",
        "Set a = b = 1", [r"\sum_{k=0}^{n} \binom{n}{k} = 2^n", "1 + 5 + 10 + 10 + 5 + 1 = 32 = 2^5"],
        claims=["1 + 5 + 10 + 10 + 5 + 1 == 2**5", "summation(binomial(5, k), (k, 0, 5)) == 32"])
    return Content("binomial_theorem", "The binomial theorem", (intro, pascal, example, sums))


NAMED: tuple[tuple[re.Pattern[str], Callable[[], Content]], ...] = (
    (re.compile(r"pythag"), _pythagoras),
    (re.compile(r"quadratic (?:formula|equation)"), _quadratic_formula),
    (re.compile(r"euler'?s? (?:identity|formula|equation)|e\^\(?i\s*\*?\s*(?:pi|\u03c0)"),
     _euler_identity),
    (re.compile(r"sum of (?:the )?first (?:n )?(?:\w+ )?(?:integers|natural numbers|numbers|"
                r"positive integers)|arithmetic (?:series|progression|sum)|gauss.{0,10}sum|"
                r"1 ?\+ ?2 ?\+ ?3"), _sum_of_integers),
    (re.compile(r"geometric (?:series|progression|sum)"), _geometric_series),
    (re.compile(r"area of (?:a |the )?circle|circle'?s? area|area of circles"), _circle_area),
    (re.compile(r"chain rule"), lambda: _rule_example("chain")),
    (re.compile(r"product rule"), lambda: _rule_example("product")),
    (re.compile(r"fundamental theorem of calculus|\bftc\b"), _ftc),
    (re.compile(r"binomial (?:theorem|expansion|formula)|pascal'?s? triangle"), _binomial_theorem),
)
