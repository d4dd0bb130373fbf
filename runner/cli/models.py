"""``runner models``: the model catalog, as this machine sees it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from runner.cli.errors import reports_errors
from runner.cli.options import CATALOG_HELP
from runner.config.catalog import ModelSpec, load_catalog


def _limits(spec: ModelSpec) -> str:
    parts = [f"{spec.rpm} rpm" if spec.rpm else "", f"{spec.tpm} tpm" if spec.tpm else ""]
    parts.append(f"{spec.max_concurrency} at once")
    return ", ".join(p for p in parts if p)


def _price(spec: ModelSpec) -> str:
    if spec.provider == "offline":
        return "free"
    if spec.price is None:
        return "unpriced (litellm's cost map, else unknown)"
    return f"${spec.price.input_per_mtok:g} in / ${spec.price.output_per_mtok:g} out per Mtok"


def _key(spec: ModelSpec) -> str:
    if not spec.api_key_env:
        return "no key needed"
    state = "set" if os.environ.get(spec.api_key_env, "").strip() else "NOT set"
    return f"${spec.api_key_env} {state} here"


@click.command("models")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@reports_errors
def models_command(catalog: Path | None) -> None:
    """List the model catalog: per model its provider and model id, its limits (requests and tokens
    per minute, calls at once per worker), its price, and whether its key variable is set in this
    environment (the workers of this machine read it from here; a key is never printed).
    """
    cat = load_catalog(catalog)
    click.echo(f"catalog: {cat.source}")
    rows = [(name, f"{spec.provider}{':' + spec.model if spec.model and spec.model != name else ''}",
             _limits(spec), _price(spec), _key(spec)) for name, spec in cat.models.items()]
    if not rows:
        click.echo("  (no models)")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
