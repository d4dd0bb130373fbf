"""The scene policy lint: a fast screen of model-written scene code, with a reason and a line; not
the security boundary (the sandboxed process is).

It refuses what reaches past a scene (and nothing a scene ordinarily writes: ``for _ in range(3)``,
helpers named ``_helper``, ``global``, dunder methods such as ``__init__`` are all fine). Allowed
imports: ``manim``, ``numpy``, ``math``, ``cmath``, pure-computation stdlib modules
(:data:`ALLOWED_IMPORTS`) and scipy's computing subpackages (:data:`SCIPY_PARTS`). Refused: builtins
that reach code, files or the interpreter (``exec``, ``eval``, ``compile``, ``open``,
``__import__``, ``getattr``/``setattr``/``delattr``, ``globals``, ``locals``, ``vars``, ``input``,
``breakpoint``, ...); dunder names (``__builtins__``) and dunder attributes (``x.__class__``;
``super().__init__`` is fine); underscore-private attributes (a module's internals lead to other
modules: ``random._os``); frame and code attributes (``gi_frame``, ``f_globals``, ...); manim's
modules and OS-facing objects that ``from manim import *`` brings in (``utils``, ``renderer``,
``tempconfig``, ``logger``, ...); writes to ``config`` (reading it is fine); ``str.format`` on
anything but a literal with plain fields; numpy's file and FFI functions; code over
:data:`MAX_CODE_CHARS` or :data:`MAX_NODES`.

Pure (``ast`` only): the code is never executed.
"""

from __future__ import annotations

import ast

from jobs.explainer.scenes.finding import Finding

MAX_CODE_CHARS = 40_000
MAX_NODES = 20_000

ALLOWED_IMPORTS = frozenset({
    "manim", "numpy", "math", "cmath", "random", "itertools", "functools", "fractions",
    "decimal", "typing", "__future__", "collections", "dataclasses", "copy", "enum", "statistics",
    "colorsys", "numbers", "bisect", "heapq"})
# scipy only by its computing subpackages (scipy.io writes files, scipy.datasets downloads)
SCIPY_PARTS = frozenset({"special", "integrate", "interpolate", "optimize", "stats", "linalg",
                         "spatial", "constants", "fft", "ndimage"})

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
    "io", "datasets", "copyreg",
})
CONFIG_READS = frozenset({"get"})  # config.get(...) reads


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
            if alias.name.startswith("scipy.") and alias.name.split(".", 1)[1] in SCIPY_PARTS:
                self._alias(node, alias)
                continue
            if alias.name.split(".")[0] not in ALLOWED_IMPORTS or "." in alias.name:
                self.bad(node, f"import of {alias.name!r} is not allowed (allowed: "
                               f"{', '.join(sorted(ALLOWED_IMPORTS - {'__future__'}))})")
            self._alias(node, alias)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "scipy" and not node.level:
            for alias in node.names:
                if alias.name not in SCIPY_PARTS:
                    self.bad(node, f"from scipy, only {', '.join(sorted(SCIPY_PARTS))} may be "
                                   f"imported, not {alias.name!r}")
            return
        if module.startswith("scipy.") and module.split(".", 1)[1] in SCIPY_PARTS and not node.level:
            module = "scipy"  # its names are checked below like any module's
        elif node.level or module not in ALLOWED_IMPORTS:
            self.bad(node, f"import from {module or '.'!r} is not allowed (allowed: "
                           f"{', '.join(sorted(ALLOWED_IMPORTS - {'__future__'}))})")
        for alias in node.names:
            if alias.name != "*" and (alias.name in BLOCKED_NAMES or alias.name.startswith("_")):
                self.bad(node, f"importing {alias.name!r} from {module} is not allowed")
            self._alias(node, alias)

    def _alias(self, node: ast.AST, alias: ast.alias) -> None:
        if alias.asname and alias.asname.startswith("__"):
            self.bad(node, f"dunder name {alias.asname!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("__"):
            self.bad(node, f"name {name!r} is not allowed (no dunder names)")
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

    def visit_arg(self, node: ast.arg) -> None:
        if node.arg in BLOCKED_NAMES and node.arg not in SHADOWABLE:
            self.bad(node, f"{node.arg!r} is not allowed in scene code")
        elif node.arg.startswith("__"):
            self.bad(node, f"name {node.arg!r} is not allowed (no dunder names)")


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
