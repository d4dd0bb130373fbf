"""The explainer's own commands: ``runner render`` and ``runner check-math``, added to ``runner``
through the ``runner.commands`` entry points (the command line reports their errors as it reports
its own: each error of runner's tree with its exit code).

They run exactly what the pipeline runs (the static checks and the sandbox of the render step, the
sandboxed claim checker of the validate step), so a user can debug a generated scene or a claim
without a batch, a Temporal server or a model.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from jobs.explainer.scenes.render import DEFAULT_TIMEOUT_S, QUALITY_FLAGS, render_scene, scene_classes
from runner.config.yamlsource import load_yaml
from runner.contract.errors import ManifestError, Problem, RunnerError, UsageError


class RenderBlocked(RunnerError):
    """The scene policy blocked the code; nothing ran."""

    exit_code = 3


class SceneFailed(RunnerError):
    """The scene code failed (a Python error, bad LaTeX, no animation, a resource limit)."""

    exit_code = 4


class RenderInfraFailed(RunnerError):
    """The render could not be judged: a timeout, manim killed, the sandbox could not start."""

    exit_code = 5


class ClaimsRefuted(RunnerError):
    """At least one claim was refuted (the lines above say which)."""

    exit_code = 1
    shown = True


_FAILURES: dict[str, type[RunnerError]] = {
    "policy": RenderBlocked, "scene": SceneFailed, "infra": RenderInfraFailed}


@click.command("render")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scene", "scene", metavar="NAME", default=None,
              help="The Scene class to render (default: the file's only class).")
@click.option("--quality", type=click.Choice(list(QUALITY_FLAGS)), default="low", show_default=True,
              help="low = 480p15, medium = 720p30, high = 1080p60.")
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT_S, show_default=True,
              metavar="SECONDS", help="Wall-clock limit of the render (twice that in CPU seconds).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the mp4 goes (default: FILE's name with .mp4, next to it).")
@click.option("--no-policy", is_flag=True,
              help="Skip the known-API rewrites and the policy lint: the code goes straight to the "
              "sandbox, which still contains it (for testing the sandbox, or a lint false positive).")
def render_command(file: Path, scene: str | None, quality: str, timeout: float,
                   output: Path | None, no_policy: bool) -> None:
    """Render a scene file through the pipeline's sandbox and print the mp4's path.

    The same checks and the same sandbox as the render step: known old manim names are rewritten
    first (each rewrite is listed on stderr), the scene policy lint runs, then manim renders in a
    contained process (no network, read-only file system but a scratch directory, limits).

    \b
    Exit codes: 0 rendered; 2 bad usage; 3 the scene policy blocked the code (reason and line
    shown); 4 the scene code failed (the relevant traceback lines shown, or the memory or scratch
    limit of the whole render it went over); 5 an infrastructure failure (the sandbox could not
    start, manim was killed, the disk is full) or a timeout.
    """
    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from exc
    classes = scene_classes(code)
    if scene is not None and classes and scene not in classes:
        raise UsageError(f"{file}: no class {scene!r} (it defines: {', '.join(classes)})")
    if scene is None and len(classes) > 1:
        raise UsageError(f"{file} defines {len(classes)} classes ({', '.join(classes)}): "
                         "choose one with --scene NAME")
    target = output or file.with_suffix(".mp4")
    result = asyncio.run(render_scene(code, output=target.resolve(), quality=quality, class_name=scene,
                                      timeout=timeout, workdir=target.resolve().parent, lint=not no_policy,
                                      name=file.name))
    for rewrite in result.rewrites:
        click.echo(f"rewrote {rewrite}", err=True)
    if result.isolation.startswith("weak"):
        click.echo(f"warning: sandbox {result.isolation}", err=True)
    if result.outcome != "ok":
        raise _FAILURES[result.outcome](f"{file}: {result.message}")
    click.echo(str(result.video))


@click.command("check-math")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--timeout", type=click.FloatRange(min=0.1, max=600), default=10.0, show_default=True,
              metavar="SECONDS", help="Time limit per claim (a claim that takes longer is unknown).")
def check_math_command(file: Path, timeout: float) -> None:
    """Check a YAML list of claims with sympy, in the sandbox; one line per claim.

    Each claim is a relation in sympy syntax (`diff(x**3, x) == 3*x**2`,
    `integrate(x**2, (x, 0, 1)) == 1/3`) or LaTeX (`\\int_0^1 x^2 \\, dx = \\frac{1}{3}`). It is
    verified (symbolically, or numerically at random points including negative and non-integer
    ones), refuted (with a counterexample) or unknown (with the reason).

    \b
    Exit codes: 0 no claim refuted; 1 at least one refuted; 2 bad input (the file, line and key).
    """
    from jobs.explainer.claims import check_claims

    source = load_yaml(file)
    claims: Any = source.data
    prefix: tuple[str, ...]
    if isinstance(claims, dict) and set(claims) == {"claims"}:
        claims, prefix = claims["claims"], ("claims",)
    else:
        prefix = ()
    if not isinstance(claims, list):
        raise ManifestError([source.problem(prefix, "expected a list of claims (strings)")])
    problems: list[Problem] = [source.problem((*prefix, i), "a claim must be a string")
                               for i, c in enumerate(claims) if not isinstance(c, str)]
    if problems:
        raise ManifestError(problems)
    results = asyncio.run(check_claims(claims, workdir=file.resolve().parent, timeout_per_claim=timeout))
    width = max((len(r["status"]) for r in results), default=0)
    for i, r in enumerate(results):
        line = source.line_of((*prefix, i))
        detail = f" ({r['method']}: {r['detail']})" if r.get("detail") else ""
        click.echo(f"{file}:{line}: {r['status']:<{width}} {r['claim']}{detail}")
    refuted = sum(r["status"] == "refuted" for r in results)
    verified = sum(r["status"] == "verified" for r in results)
    click.echo(f"{len(results)} claims: {verified} verified, {refuted} refuted, "
               f"{len(results) - verified - refuted} unknown", err=True)
    if refuted:
        raise ClaimsRefuted(f"{refuted} claim(s) refuted")
