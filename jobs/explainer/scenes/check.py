"""Static checks of model-written scene code, before any render: known-API repair, then a policy lint.

1. **Known-API repair** (:func:`rewrite`): names that models often write but manim 0.22 lacks are
   rewritten to their current forms (``ShowCreation`` -> ``Create``, ``TexMobject`` -> ``MathTex``,
   ``FadeInFrom(m, LEFT)`` -> ``FadeIn(m, shift=RIGHT)``, ``CONFIG`` dicts -> class attributes,
   ``GraphScene`` -> ``Scene`` plus a small compatibility mixin, ``self.play(m.shift, UP)`` ->
   ``self.play(m.animate.shift(UP))``, ``axes.get_graph`` -> ``axes.plot``). Each rewrite is recorded.
2. **Policy lint** (:func:`lint`): a fast screen, not the security boundary (the sandboxed process
   is). Allowed imports: ``manim``, ``numpy``, ``math``, and pure-computation stdlib modules
   (``random``, ``itertools``, ``functools``, ``fractions``, ``decimal``, ``typing``,
   ``__future__``). Blocked: builtins that reach code, files or the interpreter (``exec``, ``eval``,
   ``compile``, ``open``, ``__import__``, ``getattr``/``setattr``/``delattr``, ``globals``,
   ``locals``, ``vars``, ``input``, ``breakpoint``, ...); any dunder or underscore-private attribute
   or name (except ``super().__init__``); frame and code attributes (``gi_frame``, ``f_globals``,
   ...); manim's modules and OS-facing objects that ``from manim import *`` brings in (``utils``,
   ``renderer``, ``tempconfig``, ``logger``, ...); writes to ``config`` (reading it is fine);
   ``str.format`` on anything but a literal with plain fields; string literals holding ``__``;
   numpy's file and FFI functions; code over :data:`MAX_CODE_CHARS` or :data:`MAX_NODES`.
3. **Code problems found statically** (a syntax error, no scene class of the expected name,
   unbalanced braces in a ``MathTex``/``Tex`` literal, which manim would render silently wrong) are
   reported as code errors, for the repair loop.

Pure (``ast`` only): runs in the worker, never executes the code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

MAX_CODE_CHARS = 40_000
MAX_NODES = 20_000

ALLOWED_IMPORTS = frozenset({"manim", "numpy", "math", "random", "itertools", "functools", "fractions",
                             "decimal", "typing", "__future__"})

BLOCKED_CALLS = frozenset({
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals",
    "locals", "vars", "input", "breakpoint", "help", "exit", "quit", "memoryview",
})
# names that are never fine as a free (not locally bound) name
BLOCKED_NAMES = frozenset({
    *BLOCKED_CALLS, "os", "sys", "subprocess", "socket", "shutil", "pathlib", "Path", "ctypes",
    "importlib", "builtins", "signal", "threading", "multiprocessing", "pickle", "marshal", "io",
    "tempfile", "glob", "inspect", "gc", "resource", "urllib", "http", "requests",
    # what `from manim import *` brings in that reaches the OS, the renderer or manim's internals
    "utils", "renderer", "tempconfig", "logger", "console", "error_console", "cli", "plugins",
    "manager", "opengl", "core", "scene", "camera", "animation", "mobject", "data_structures",
    "constants", "unit", "operator", "attrgetter", "methodcaller", "itemgetter", "contextlib",
    # ending the process without a traceback would look like an infrastructure failure (retried)
    "SystemExit", "KeyboardInterrupt", "BaseException",
})
# of those, the ones a scene may use as its own variable names (it binds them itself); the others
# may not be bound either: a binding anywhere would lift the check everywhere
SHADOWABLE = frozenset({"scene", "camera", "animation", "mobject", "data_structures", "constants",
                        "unit"})
BLOCKED_ATTRIBUTES = frozenset({
    # frames and code objects (a walk to a module's globals needs no dunder)
    "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals", "f_locals",
    "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "co_code", "func_globals", "mro",
    # manim internals that write files or run programs
    "renderer", "file_writer", "utils", "tex_file_writing", "subprocess", "os", "sys",
    # numpy's files and foreign functions
    "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile",
    "tofile", "memmap", "ctypeslib", "ctypes", "f2py", "distutils", "testing", "lib", "DataSource",
    "fromregex", "dump", "dumps",
    "format_map",
    # module attributes that lead to other modules (typing.operator, fractions.operator, ...)
    "operator", "contextlib", "attrgetter", "methodcaller", "itemgetter", "modules", "builtins",
    "importlib", "commands", "shutil", "tempfile", "pathlib", "Path", "logger", "console",
})
CONFIG_READS = frozenset({"get"})  # config.get(...) reads


@dataclass(frozen=True)
class Finding:
    """One rewrite, policy violation or code problem, at a line of the scene code."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


# ---- known-API repair ------------------------------------------------------------------------

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


# ---- policy lint -----------------------------------------------------------------------------

def _bound_names(tree: ast.AST) -> set[str]:
    """Names the code binds itself (assignments, parameters, definitions, loop targets)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound


class _Linter(ast.NodeVisitor):
    def __init__(self, bound: set[str]) -> None:
        self.bound = bound
        self.found: list[Finding] = []

    def bad(self, node: ast.AST, message: str) -> None:
        self.found.append(Finding(getattr(node, "lineno", 0), message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] not in ALLOWED_IMPORTS or "." in alias.name:
                self.bad(node, f"import of {alias.name!r} is not allowed (allowed: "
                               f"{', '.join(sorted(ALLOWED_IMPORTS - {'__future__'}))})")
            self._alias(node, alias)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in ALLOWED_IMPORTS:
            self.bad(node, f"import from {module or '.'!r} is not allowed (allowed: "
                           f"{', '.join(sorted(ALLOWED_IMPORTS - {'__future__'}))})")
        for alias in node.names:
            if alias.name != "*" and (alias.name in BLOCKED_NAMES or alias.name.startswith("_")):
                self.bad(node, f"importing {alias.name!r} from {module} is not allowed")
            self._alias(node, alias)

    def _alias(self, node: ast.AST, alias: ast.alias) -> None:
        if alias.asname and alias.asname.startswith("_"):
            self.bad(node, f"private name {alias.asname!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            self.bad(node, f"name {name!r} is not allowed (no private or dunder names)")
        elif name in BLOCKED_CALLS or (name in BLOCKED_NAMES and (
                name not in self.bound or name not in SHADOWABLE)):
            self.bad(node, f"{name!r} is not allowed in scene code")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        is_super_init = (attr == "__init__" and isinstance(node.value, ast.Call)
                         and isinstance(node.value.func, ast.Name) and node.value.func.id == "super")
        if attr.startswith("_") and not is_super_init:
            self.bad(node, f"attribute {attr!r} is not allowed (no private or dunder attributes)")
        elif attr in BLOCKED_ATTRIBUTES:
            self.bad(node, f"attribute {attr!r} is not allowed in scene code")
        elif attr in ("format",) and not _plain_format(node.value):
            self.bad(node, "str.format is only allowed on a literal with plain fields: use an f-string")
        if isinstance(node.value, ast.Name) and node.value.id == "config" and "config" not in self.bound:
            if not isinstance(node.ctx, ast.Load):
                self.bad(node, "changing manim's config is not allowed (reading it is)")
            elif attr not in CONFIG_READS and attr.startswith(("set", "update", "digest", "read", "write")):
                self.bad(node, f"config.{attr} is not allowed (reading config is)")
            return  # config.x is a read: do not report `config` itself
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if (isinstance(node.value, ast.Name) and node.value.id == "config"
                and not isinstance(node.ctx, ast.Load)):
            self.bad(node, "changing manim's config is not allowed (reading it is)")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)) and ("__" in str(node.value)):
            self.bad(node, "string literals holding '__' are not allowed")

    def visit_arg(self, node: ast.arg) -> None:
        if node.arg in BLOCKED_NAMES and node.arg not in SHADOWABLE:
            self.bad(node, f"{node.arg!r} is not allowed in scene code")
        elif node.arg.startswith("_"):
            self.bad(node, f"name {node.arg!r} is not allowed (no private or dunder names)")

    def visit_Global(self, node: ast.Global) -> None:
        self.bad(node, "global statements are not allowed")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("_") and node.name != "__init__":
            self.bad(node, f"method {node.name!r} is not allowed (no private or dunder names)")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def _plain_format(node: ast.expr) -> bool:
    """A str literal whose format fields read no attribute or item (``"{0.__class__}"`` does)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(node.value) if f is not None]
    except ValueError:
        return False
    return not any("." in f or "[" in f for f in fields)


def lint(code: str) -> list[Finding]:
    """The policy violations of ``code`` (empty: it may be rendered).

    Raises:
        SyntaxError: the code does not parse.
    """
    if len(code) > MAX_CODE_CHARS:
        return [Finding(1, f"code is {len(code)} characters long, the limit is {MAX_CODE_CHARS}")]
    tree = ast.parse(code)
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        return [Finding(1, f"code has {count} syntax nodes, the limit is {MAX_NODES}")]
    linter = _Linter(_bound_names(tree))
    linter.visit(tree)
    return sorted(set(linter.found), key=lambda f: (f.line, f.message))


# ---- code problems found before rendering -----------------------------------------------------

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
