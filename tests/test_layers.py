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
    "config": {"contract"},
    "workflow": {"contract"},
    "activity": {"contract", "store", "config"},
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


def imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, module imported) for every import in ``path``; relative ones resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
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


@pytest.mark.parametrize(("path", "module"), RUNNER, ids=[m for _, m in RUNNER])
def test_runner_imports_only_downward(path: Path, module: str) -> None:
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
    assert bad == [], f"{path.relative_to(REPO)}: " + "; ".join(bad)


def test_the_jail_bootstrap_imports_only_the_standard_library() -> None:
    path = REPO / "runner/isolation/jail.py"
    found = {target.split(".")[0] for _, target in imports(path, "runner.isolation.jail")}
    assert found <= sys.stdlib_module_names | {"__future__"}, found - sys.stdlib_module_names


@pytest.mark.parametrize(("path", "module"), [(p, m) for p, m in JOBS if m.endswith((".workflow", ".types"))],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_job_workflow_side_imports_only_sandbox_safe_runner(path: Path, module: str) -> None:
    """A job kind's workflow and its types run in Temporal's workflow sandbox: of runner they may
    import only the contract and the workflow side."""
    bad = [f"line {line}: {target}" for line, target in imports(path, module)
           if target.startswith("runner.") and is_module(target)
           and not any(target == s or target.startswith(s + ".") for s in SANDBOX_SAFE)]
    assert bad == [], f"{path.relative_to(REPO)}: " + "; ".join(bad)


def test_the_test_reads_imports_it_must_refuse() -> None:
    """Control: the reader sees imports inside functions and relative ones, and the rule refuses an
    upward import."""
    tree = ("def f():\n    from runner.cli.batch import submit\n"
            "from ..client import follow\n")
    probe = REPO / "runner/contract/_probe_for_test.py"
    probe.write_text(tree)
    try:
        found = [t for _, t in imports(probe, "runner.contract._probe_for_test")]
    finally:
        probe.unlink()
    assert "runner.cli.batch" in found and "runner.client.follow" in found
    assert layer_of("runner.cli.batch") not in LAYERS["contract"]


@pytest.mark.parametrize("top", ["runner", "jobs"])
def test_no_module_is_over_the_size_limit(top: str) -> None:
    big = {str(p.relative_to(REPO)): n for p, _ in modules(top)
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert big == {}, f"modules over {MAX_LINES} lines (split them by concern): {big}"
