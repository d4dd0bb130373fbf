"""What several commands share: the catalog option's help, how lines are shown, and commands that
take a batch or schedule by id or by its manifest."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import click

from runner.cli.errors import reports_errors
from runner.config.catalog import CATALOG_ENV, load_catalog

CATALOG_HELP = (f"Model catalog YAML (default: ${CATALOG_ENV}, else ./configs/models.yaml, else the "
                "built-in catalog with only `offline`).")

Command = Callable[..., Coroutine[Any, Any, None]]


def echo(line: str) -> None:
    click.echo(line)


def by_ref(argument: str, help_text: str) -> Callable[[Command], Callable[..., Any]]:
    """A command on a batch or schedule named by ARGUMENT: an id, or the manifest file it comes
    from. Connects, resolves it, then runs ``await fn(client, the_id, target=, catalog=,
    **options)``."""

    def decorate(fn: Command) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(catalog: Path | None, **options: Any) -> None:
            from runner.client.connect import connect, resolve_target
            from runner.client.identity import resolve_batch_id

            ref = options.pop(argument)
            cat = load_catalog(catalog)
            ident = resolve_batch_id(ref, cat)
            target = resolve_target()

            async def go() -> None:
                await fn(await connect(target), ident, target=target, catalog=cat, **options)

            asyncio.run(go())

        wrapper.__doc__ = f"{inspect.cleandoc(fn.__doc__ or '')}\n\n{help_text}"
        wrapper = click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path),
                               help=f"{CATALOG_HELP} Used to read {argument.upper()} when it is a "
                               "manifest.")(wrapper)
        wrapper = click.argument(argument)(wrapper)
        return reports_errors(wrapper)

    return decorate
