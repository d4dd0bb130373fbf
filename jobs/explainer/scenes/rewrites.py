"""Known-API repair: names that models often write but manim 0.22 lacks, rewritten to their current
forms (``ShowCreation`` -> ``Create``, ``TexMobject`` -> ``MathTex``, ``FadeInFrom(m, LEFT)`` ->
``FadeIn(m, shift=RIGHT)``, ``CONFIG`` dicts -> class attributes, ``GraphScene`` -> ``Scene`` plus a
small compatibility mixin, ``self.play(m.shift, UP)`` -> ``self.play(m.animate.shift(UP))``,
``axes.get_graph`` -> ``axes.plot``). Each rewrite is recorded with its line.

Pure (``ast`` only): the code is never executed.
"""

from __future__ import annotations

import ast

from jobs.explainer.scenes.finding import Finding

RENAMES = {
    "ShowCreation": "Create", "TextMobject": "Tex", "TexMobject": "MathTex", "TexText": "Tex",
    "InteractiveScene": "Scene", "CircleIndicate": "Circumscribe",
    "ShowCreationThenDestruction": "ShowPassingFlash", "ShowCreationThenFadeOut": "Create",
}
# FadeInFrom(m, d): the old mobject came in *from* d; FadeIn(m, shift=v) moves it by v.
FADE_CALLS = {
    "FadeInFrom": ("FadeIn", "DOWN", True), "FadeInFromDown": ("FadeIn", "DOWN", True),
    "FadeOutAndShift": ("FadeOut", "DOWN", False), "FadeOutAndShiftDown": ("FadeOut", "DOWN", False),
    "FadeInFromLarge": ("FadeIn", None, False),
}
METHODS_FOR_ANIMATE = frozenset({
    "shift", "scale", "rotate", "move_to", "next_to", "set_color", "to_edge", "to_corner", "become",
    "flip", "set_fill", "set_stroke", "stretch", "center", "set_opacity", "set_width", "set_height",
    "arrange", "align_to", "set_x", "set_y",
})

GRAPH_SCENE_COMPAT = '''
class GraphSceneCompat:
    """Added by runner: the GraphScene API of old manim, on top of Axes."""
    x_min = -1
    x_max = 10
    x_axis_width = 9
    x_tick_frequency = 1
    y_min = -1
    y_max = 10
    y_axis_height = 6
    y_tick_frequency = 1
    axes_color = GREY
    x_axis_label = "x"
    y_axis_label = "y"

    def setup_axes(self, animate=False):
        self.axes = Axes(x_range=[self.x_min, self.x_max, self.x_tick_frequency],
                         y_range=[self.y_min, self.y_max, self.y_tick_frequency],
                         x_length=self.x_axis_width, y_length=self.y_axis_height,
                         axis_config={"color": self.axes_color})
        self.axes_labels = self.axes.get_axis_labels(x_label=self.x_axis_label, y_label=self.y_axis_label)
        if animate:
            self.play(Create(self.axes), Write(self.axes_labels))
        else:
            self.add(self.axes, self.axes_labels)

    def graph_range(self, x_min=None, x_max=None):
        return [self.x_min if x_min is None else x_min, self.x_max if x_max is None else x_max]

    def get_graph(self, func, color=None, x_min=None, x_max=None, **kwargs):
        return self.axes.plot(func, x_range=self.graph_range(x_min, x_max), color=color or BLUE)

    def coords_to_point(self, x, y):
        return self.axes.c2p(x, y)

    def point_to_coords(self, point):
        return self.axes.p2c(point)

    def input_to_graph_point(self, x, graph):
        return self.axes.input_to_graph_point(x, graph)

    def get_graph_label(self, graph, label="f(x)", x_val=None, direction=RIGHT, **kwargs):
        return self.axes.get_graph_label(graph, label, x_val=x_val, direction=direction)

    def get_riemann_rectangles(self, graph, x_min=None, x_max=None, dx=0.1, **kwargs):
        return self.axes.get_riemann_rectangles(graph, x_range=self.graph_range(x_min, x_max), dx=dx)

    def get_area(self, graph, t_min=None, t_max=None, **kwargs):
        return self.axes.get_area(graph, x_range=self.graph_range(t_min, t_max))

    def get_vertical_line_to_graph(self, x, graph, **kwargs):
        return self.axes.get_vertical_line(self.axes.input_to_graph_point(x, graph))
'''


class _Rewriter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.rewrites: list[Finding] = []
        self.graph_scene = False

    def note(self, node: ast.AST, message: str) -> None:
        self.rewrites.append(Finding(getattr(node, "lineno", 0), message))

    def visit_Name(self, node: ast.Name) -> ast.AST:
        new = RENAMES.get(node.id)
        if new and isinstance(node.ctx, ast.Load):
            self.note(node, f"{node.id} -> {new}")
            return ast.copy_location(ast.Name(id=new, ctx=node.ctx), node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        for i, base in enumerate(node.bases):
            if isinstance(base, ast.Name) and base.id == "GraphScene":
                self.graph_scene = True
                self.note(base, "GraphScene -> Scene with the GraphSceneCompat mixin (Axes)")
                node.bases[i:i + 1] = [ast.Name(id="GraphSceneCompat", ctx=ast.Load()),
                                       ast.Name(id="Scene", ctx=ast.Load())]
                break
        body: list[ast.stmt] = []
        for stmt in node.body:
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "CONFIG"
                    and isinstance(stmt.value, ast.Dict)):
                moved = []
                for key, value in zip(stmt.value.keys, stmt.value.values, strict=True):
                    if (isinstance(key, ast.Constant) and isinstance(key.value, str)
                            and key.value.isidentifier()):
                        body.append(ast.copy_location(
                            ast.Assign(targets=[ast.Name(id=key.value, ctx=ast.Store())], value=value),
                            stmt))
                        moved.append(key.value)
                self.note(stmt, f"CONFIG dict -> class attributes {', '.join(moved) or '(none)'}")
                continue
            body.append(stmt)
        node.body = body or [ast.Pass()]
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in FADE_CALLS:
            return self._fade(node, func.id)
        if isinstance(func, ast.Attribute) and func.attr == "get_graph" and not _is_self(func.value):
            func.attr = "plot"
            self._x_range(node)
            self.note(node, "axes.get_graph(...) -> axes.plot(...)")
            return node
        if (isinstance(func, ast.Attribute) and func.attr == "play" and node.args
                and isinstance(node.args[0], ast.Attribute)
                and node.args[0].attr in METHODS_FOR_ANIMATE):
            method = node.args[0]
            call = ast.Call(func=ast.Attribute(value=ast.Attribute(value=method.value, attr="animate",
                                                                   ctx=ast.Load()),
                                               attr=method.attr, ctx=ast.Load()),
                            args=node.args[1:], keywords=[])
            self.note(node, f"self.play(x.{method.attr}, ...) -> self.play(x.animate.{method.attr}(...))")
            node.args = [ast.copy_location(call, method)]
            return node
        return node

    def _fade(self, node: ast.Call, name: str) -> ast.AST:
        new, default, invert = FADE_CALLS[name]
        mobjects, direction = node.args[:1], node.args[1] if len(node.args) > 1 else None
        keywords = [k for k in node.keywords if k.arg not in ("direction", "scale_factor")]
        for k in node.keywords:
            if k.arg == "direction":
                direction = k.value
            if k.arg == "scale_factor":
                keywords.append(ast.keyword(arg="scale", value=k.value))
        if name == "FadeInFromLarge":
            if not any(k.arg == "scale" for k in keywords):
                keywords.append(ast.keyword(arg="scale", value=ast.Constant(2)))
        else:
            shift: ast.expr = direction or ast.Name(id=default or "DOWN", ctx=ast.Load())
            if invert:
                shift = ast.UnaryOp(op=ast.USub(), operand=shift)
            keywords.append(ast.keyword(arg="shift", value=shift))
        call = ast.Call(func=ast.Name(id=new, ctx=ast.Load()), args=mobjects, keywords=keywords)
        self.note(node, f"{name}(...) -> {ast.unparse(call)}")
        return ast.copy_location(call, node)

    @staticmethod
    def _x_range(node: ast.Call) -> None:
        kw = {k.arg: k for k in node.keywords}
        if "x_min" in kw and "x_max" in kw:
            x_range = ast.keyword(arg="x_range", value=ast.List(
                elts=[kw["x_min"].value, kw["x_max"].value], ctx=ast.Load()))
            node.keywords = [k for k in node.keywords if k.arg not in ("x_min", "x_max")] + [x_range]


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def rewrite(code: str) -> tuple[str, list[Finding]]:
    """Rewrite known old manim names in ``code`` to their manim 0.22 forms.

    Returns:
        The code (unchanged text when nothing was rewritten) and the rewrites made.

    Raises:
        SyntaxError: the code does not parse.
    """
    tree = ast.parse(code)
    rewriter = _Rewriter()
    tree = ast.fix_missing_locations(rewriter.visit(tree))
    if not rewriter.rewrites:
        return code, []
    if rewriter.graph_scene:
        compat = ast.parse(GRAPH_SCENE_COMPAT).body
        at = next((i + 1 for i, s in enumerate(tree.body)
                   if isinstance(s, ast.ImportFrom) and s.module == "manim"), 0)
        tree.body[at:at] = compat
    return ast.unparse(tree) + "\n", rewriter.rewrites
