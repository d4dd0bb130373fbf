"""What several commands share: the catalog option's help, and how lines are shown."""

from __future__ import annotations

import click

from runner.config.catalog import CATALOG_ENV

CATALOG_HELP = (f"Model catalog YAML (default: ${CATALOG_ENV}, else ./configs/models.yaml, else the "
                "built-in catalog with only `offline`).")


def echo(line: str) -> None:
    click.echo(line)


