"""``runner fetch``: download a batch's outputs from its store (an object store URL or a folder)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import Client

from runner.client.control import _describe
from runner.client.follow import Echo
from runner.contract.errors import UsageError
from runner.store.artifacts import FileInfo, store_for, store_problem
from runner.store.topics import TOPICS_DIR

PROGRESS_EVERY = 100  # files between progress lines


def fetch_files(output_dir: str, to: Path, echo: Echo) -> tuple[int, int, int]:
    """Copy every file under ``output_dir`` (but the batch's own ``.runner`` folder) to ``to``,
    keeping their paths; a file already there with the same size is skipped. Returns (copied,
    skipped, bytes copied)."""
    store = store_for(output_dir)
    try:
        found = store.files(output_dir)
    except Exception as exc:  # OSError, or the store library's own (no credentials, no endpoint)
        raise UsageError(f"cannot list {output_dir}: {store_problem(exc)}") from exc
    wanted: list[tuple[FileInfo, Path]] = []
    for info in found:
        rel = info.path[len(output_dir.rstrip("/")) + 1:]
        if rel.split("/", 1)[0] == TOPICS_DIR or any(p in ("", ".", "..") for p in rel.split("/")):
            continue
        wanted.append((info, to / rel))
    if not wanted:
        raise UsageError(f"nothing to fetch: no files under {output_dir}")
    copied = skipped = size = 0
    for n, (info, local) in enumerate(wanted, 1):
        if local.is_file() and local.stat().st_size == info.size:
            skipped += 1
        else:
            store.get_file(info.path, local)
            copied += 1
            size += info.size
        if n % PROGRESS_EVERY == 0:
            echo(f"  {n}/{len(wanted)} files")
    return copied, skipped, size


async def fetch(client: Client, batch_id: str, to: Path | None, echo: Echo) -> Path:
    """Download batch ``batch_id``'s outputs to ``to`` (default: ./<batch id>)."""
    _, desc = await _describe(client, batch_id)
    output_dir = str((await desc.memo()).get("output_dir") or "")
    if not output_dir:
        raise UsageError(f"batch {batch_id}: its output location is not recorded")
    folder = to or Path(batch_id.replace("/", "_"))
    echo(f"fetching {output_dir} -> {folder}")
    copied, skipped, size = await asyncio.to_thread(fetch_files, output_dir, folder, echo)
    echo(f"{copied} files fetched ({size / 1e6:.1f} MB), {skipped} already there")
    return folder
