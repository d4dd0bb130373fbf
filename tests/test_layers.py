"""The house rules, read from the code's own imports (docs/architecture.md, "Layers").

runner/ is a stack of layers; a module imports only from layers below its own (or its own layer).
Workflow-side code imports only the contract (it runs in Temporal's sandbox), the jail bootstrap
nothing of runner, and nothing in runner imports a job kind. Every import counts: at the top, inside
functions, under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Bottom to top. A layer may import the layers listed for it, and itself.
LAYERS: dict[str, set[str]] = {
    "contract": set(),
    "store": {"contract"},
    "isolation": {"contract"},
    "config": {"contract", "store"},
    "workflow": {"contract"},
    "activity": {"contract", "store", "isolation", "config"},
    "client": {"contract", "store", "isolation", "config"},
    "worker": {"contract", "config", "workflow", "activity", "client"},
    "cli": {"contract", "config", "client", "worker"},
    "dev": {"contract", "store", "isolation", "config", "workflow", "activity", "client", "worker", "cli"},
}
# What a job kind's workflow-side modules may import of runner (they run in the workflow sandbox).
SANDBOX_SAFE = {"runner.contract", "runner.workflow"}
MAX_LINES = 600


def modules(top: str) -> Iterator[tuple[Path, str]]:
    for path in sorted((REPO / top).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield path, name


def nodes(tree: ast.AST, *, at_import: bool) -> Iterator[ast.AST]:
    """Every node of ``tree``; with ``at_import``, only those that run when the module is imported
    (not the bodies of functions)."""
    for node in ast.iter_child_nodes(tree):
        yield node
        if not (at_import and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))):
            yield from nodes(node, at_import=at_import)


def imports(path: Path, module: str, *, at_import: bool = False) -> Iterator[tuple[int, str]]:
    """(line, module imported) for every import in ``path`` (with ``at_import``: those that run when
    it is imported), relative ones resolved, and for every ``importlib.import_module("...")`` /
    ``__import__("...")`` of a literal name."""
    is_package = path.name == "__init__.py"
    for node in nodes(ast.parse(path.read_text(encoding="utf-8")), at_import=at_import):
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and ((isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module"))
                     or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"))):
            yield node.lineno, node.args[0].value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # `from runner.client import server` imports runner.client.server
                yield node.lineno, f"{target}.{alias.name}"


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "runner" and len(parts) > 1 and parts[1] in LAYERS else None


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of this repo (not a name imported from one)."""
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


RUNNER = list(modules("runner"))
JOBS = list(modules("jobs"))


def test_every_module_of_runner_is_in_a_layer() -> None:
    stray = [name for _, name in RUNNER if name not in ("runner", "runner.__main__") and
             layer_of(name) is None]
    assert stray == [], f"modules outside every layer: {stray}"
    assert {layer_of(name) for _, name in RUNNER} - {None} == set(LAYERS)


def violations(path: Path, module: str) -> list[str]:
    """The imports of ``path`` (module ``module`` of runner) that break the layer rule."""
    own = layer_of(module)
    bad = []
    for line, target in imports(path, module):
        if target.split(".")[0] == "jobs":
            bad.append(f"line {line}: {target} (runner never imports a job kind)")
            continue
        if not is_module(target):
            continue
        other = layer_of(target)
        if other is None or other == own:
            continue
        if own is None:  # runner/__main__.py starts the CLI
            if module == "runner.__main__" and other == "cli":
                continue
            bad.append(f"line {line}: {target}")
        elif other not in LAYERS[own]:
            bad.append(f"line {line}: {target} ({own} may import {sorted(LAYERS[own]) or 'nothing'})")
    return bad


@pytest.mark.parametrize(("path", "module"), RUNNER, ids=[m for _, m in RUNNER])
def test_runner_imports_only_downward(path: Path, module: str) -> None:
    bad = violations(path, module)
    assert bad == [], f"{path.relative_to(REPO)}: " + "; ".join(bad)


def test_the_jail_bootstrap_imports_only_the_standard_library() -> None:
    path = REPO / "runner/isolation/jail.py"
    found = {target.split(".")[0] for _, target in imports(path, "runner.isolation.jail")}
    assert found <= sys.stdlib_module_names | {"__future__"}, found - sys.stdlib_module_names


def sandboxed_modules(workflow_module: str) -> set[str]:
    """The job kind modules that importing ``workflow_module`` loads into the workflow sandbox: it,
    its parent packages, and the job modules they import, transitively."""
    todo, seen = [workflow_module], set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for end in range(1, len(parts) + 1):  # the packages above it run their __init__ too
            mod = ".".join(parts[:end])
            if mod in seen or not is_module(mod):
                continue
            seen.add(mod)
            path = REPO.joinpath(*mod.split("."))
            path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
            todo += [t for _, t in imports(path, mod, at_import=True)
                     if t.split(".")[0] == "jobs" and is_module(t)]
    return seen


WORKFLOW_SIDE = sorted({m for _, w in JOBS if w.endswith(".workflow") for m in sandboxed_modules(w)})


@pytest.mark.parametrize("module", WORKFLOW_SIDE)
def test_job_workflow_side_imports_only_sandbox_safe_runner(module: str) -> None:
    """What a job kind's workflow loads into Temporal's workflow sandbox (its module, its types and
    prompts, its packages' __init__) imports of runner only the contract and the workflow side."""
    path = REPO.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    bad = [f"line {line}: {target}" for line, target in imports(path, module, at_import=True)
           if target.startswith("runner.") and is_module(target)
           and not any(target == s or target.startswith(s + ".") for s in SANDBOX_SAFE)]
    assert bad == [], f"{path.relative_to(REPO)}: " + "; ".join(bad)


def test_the_workflow_side_of_the_explainer_is_what_it_loads() -> None:
    """Control: the walk follows the workflow's imports to its types and prompts, and its package."""
    assert {"jobs.explainer.workflow", "jobs.explainer.types", "jobs.explainer.prompts",
            "jobs.explainer", "jobs"} <= sandboxed_modules("jobs.explainer.workflow")


def test_the_rule_refuses_what_it_must(tmp_path: Path) -> None:
    """Control: the rule sees imports inside functions, relative ones and string ones, and refuses
    each upward one."""
    probe = tmp_path / "probe.py"
    probe.write_text("import importlib\n"
                     "def f():\n    from runner.cli.batch import submit\n"
                     "from ..client import follow\n"
                     "importlib.import_module('runner.worker.assembly')\n"
                     "from ..contract import names\n")
    bad = violations(probe, "runner.contract.probe")
    assert sorted(b.split(" (")[0] for b in bad) == [
        "line 3: runner.cli.batch", "line 4: runner.client", "line 4: runner.client.follow",
        "line 5: runner.worker.assembly"], bad


@pytest.mark.parametrize("top", ["runner", "jobs"])
def test_no_module_is_over_the_size_limit(top: str) -> None:
    big = {str(p.relative_to(REPO)): n for p, _ in modules(top)
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert big == {}, f"modules over {MAX_LINES} lines (split them by concern): {big}"
