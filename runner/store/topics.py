"""A batch's topic file: its topics as JSON lines (one :class:`PlannedTopic` each), written once
before the batch starts and read by the workers in pages, so that no workflow input, result, signal
or activity payload grows with the number of topics.

It lives in the batch's output directory (``.runner/topics-<hash>.jsonl``), named by a hash of its
content: writing it again for the same topics gives the same file, and a second batch never
overwrites the file of one that runs.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.contract.types import PageItem, PlannedTopic, TopicPage, TopicPageRequest
from runner.store.artifacts import join, store_for

TOPICS_DIR = ".runner"


@dataclass(frozen=True)
class TopicFile:
    path: str
    total: int
    carried: int


def write_topics(output_dir: str | Path, topics: Iterable[PlannedTopic]) -> TopicFile:
    """Write ``topics`` to a topic file in ``output_dir`` (a folder or a store URL); returns its
    path and counts."""
    directory = join(str(output_dir), TOPICS_DIR)
    store = store_for(directory)
    digest = hashlib.sha256()
    total = carried = 0
    with tempfile.TemporaryDirectory(prefix="runner-topics-") as scratch:
        tmp = Path(scratch) / "topics.jsonl"
        with tmp.open("wb") as out:
            for topic in topics:
                line = topic.model_dump_json(exclude_defaults=True).encode() + b"\n"
                digest.update(line)
                out.write(line)
                total += 1
                carried += topic.carried
        path = join(directory, f"topics-{digest.hexdigest()[:16]}.jsonl")
        store.put_file(tmp, path)
    return TopicFile(path, total, carried)


def iter_topics(path: str | Path) -> Iterator[tuple[int, PlannedTopic]]:
    """Every topic of the file with its index, in order."""
    with store_for(str(path)).open_read(str(path)) as f:
        for index, line in enumerate(f):
            yield index, PlannedTopic.model_validate_json(line)


def read_page(req: TopicPageRequest) -> TopicPage:
    """The topics to run from ``req.offset`` on: at most ``max_items``, and past the first, no more
    than ``max_bytes`` of them as they travel (carried topics are counted and skipped)."""
    items: list[PageItem] = []
    size = carried = 0
    offset, index = req.offset, req.index
    with store_for(req.path).open_read(req.path) as f:
        f.seek(offset)
        while len(items) < req.max_items:
            line = f.readline()
            if not line:
                return TopicPage(items=items, offset=offset, index=index, carried=carried, eof=True)
            topic = PlannedTopic.model_validate_json(line)
            if topic.carried:
                carried += 1
            else:  # measured as it travels (with its defaults: about twice the line)
                item = PageItem(index=index, offset=offset, spec=topic.spec,
                                resume_from=topic.resume_from)
                grown = size + len(item.model_dump_json())
                if items and grown > req.max_bytes:  # this line starts the next page
                    return TopicPage(items=items, offset=offset, index=index, carried=carried,
                                     eof=False)
                items.append(item)
                size = grown
            offset += len(line)
            index += 1
        at_end = not f.readline()
    return TopicPage(items=items, offset=offset, index=index, carried=carried, eof=at_end)


def ids_at(path: str | Path, offsets: Iterable[int]) -> list[str]:
    """The ids of the topics whose lines start at ``offsets``."""
    ids = []
    with store_for(str(path)).open_read(str(path)) as f:
        for offset in offsets:
            f.seek(offset)
            ids.append(PlannedTopic.model_validate_json(f.readline()).spec.id)
    return ids
