"""Load YAML safely while remembering where every key and item came from.

``safe_load`` throws positions away; a manifest error is only useful with its line. This module composes
the node tree once, records the line of every mapping key and sequence item by path, reports duplicate
keys (which ``safe_load`` silently collapses), and then constructs the plain data with the safe loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runner.contract.errors import ManifestError, Problem

PathKey = tuple[str | int, ...]


@dataclass
class YamlSource:
    """Plain data loaded from a YAML file, plus the line of each path in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: PathKey, message: str) -> Problem:
        """A problem located at ``path`` in this file."""
        return Problem(self.file, self.line_of(path), format_path(path), message)


def format_path(path: PathKey) -> str:
    """``("topics", 2, "quality")`` -> ``topics[2].quality``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# libyaml's loader where PyYAML was built with it (a 100,000-topic manifest: seconds, not a minute)
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path, *, display_name: str | None = None) -> YamlSource:
    """Read and parse a YAML file.

    Args:
        path: the file to read.
        display_name: how to name the file in problems (default: the path as given).

    Raises:
        ManifestError: unreadable file, YAML syntax error, or duplicate keys.
    """
    name = display_name or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ManifestError([Problem(name, None, "", f"cannot read file: {reason}")]) from exc
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlSource:
    """Parse YAML text (see :func:`load_yaml`)."""
    if LOADER is yaml.SafeLoader:
        return _parse(text, name, LOADER)
    try:
        return _parse(text, name, LOADER)
    except ManifestError:  # parse again for PyYAML's own wording and position of the problem
        return _parse(text, name, yaml.SafeLoader)


def _parse(text: str, name: str, loader_type: type[Any]) -> YamlSource:
    loader = loader_type(text)
    try:  # parsed once: the nodes give the lines, the same nodes the data
        root = loader.get_single_node()
        if root is not None and (problem := _shape_problem(root, name)) is not None:
            raise ManifestError([problem])
        data = loader.construct_document(root) if root is not None else None
    except RecursionError:
        raise ManifestError([Problem(name, _too_deep_at(text, loader_type), "",
                                     f"nested too deeply (more than {MAX_DEPTH} levels)")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ManifestError([Problem(name, line, "", f"invalid YAML: {what}")]) from exc
    except yaml.YAMLError as exc:
        raise ManifestError([Problem(name, None, "", f"invalid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    source = YamlSource(name, data)
    problems: list[Problem] = []
    if root is not None:
        _walk(root, (), source, problems)
    if problems:
        raise ManifestError(problems)
    return source


# What a document may be: nesting (any real manifest has a handful of levels) and the nodes that
# anchors and aliases add by repeating others (a few nested aliases can stand for billions).
MAX_DEPTH = 64
MAX_ALIASED_NODES = 100_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _too_deep_at(text: str, loader_type: type[Any]) -> int | None:
    """The line where ``text`` nests deeper than MAX_DEPTH (read as events: no recursion)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader_type):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1 if event.start_mark is not None else None
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _shape_problem(root: yaml.Node, name: str) -> Problem | None:
    """Too deep, recursive, or aliases that stand for too many nodes: the problem, found in time
    linear in the document's own nodes (each node's expanded size and height computed once)."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_: set[int] = set()
    refs: dict[int, int] = {}
    nodes: dict[int, yaml.Node] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            open_.discard(key)
            if height[key] > MAX_DEPTH:
                return Problem(name, node.start_mark.line + 1, "",
                               f"nested too deeply (more than {MAX_DEPTH} levels)")
            continue
        if key in size:
            continue
        if key in open_:
            return Problem(name, node.start_mark.line + 1, "", "an alias refers to a node that "
                           "contains it (a recursive structure)")
        open_.add(key)
        nodes[key] = node
        stack.append((node, True))
        for kid in _children(node):
            refs[id(kid)] = refs.get(id(kid), 0) + 1
            stack.append((kid, False))
    aliased = size[id(root)] - len(size)
    if aliased > MAX_ALIASED_NODES:
        shared = max((k for k, n in refs.items() if n > 1), key=lambda k: size[k] * refs[k])
        return Problem(name, nodes[shared].start_mark.line + 1, "",
                       f"anchors and aliases stand for {aliased:,} more nodes (at most "
                       f"{MAX_ALIASED_NODES:,}): write the repeated parts out, or fewer of them")
    return None


def _walk(node: yaml.Node, path: PathKey, source: YamlSource, problems: list[Problem]) -> None:
    source.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(source.file, line, format_path((*path, key)),
                            f"duplicate key (first defined on line {seen[key]})")
                )
                continue
            seen[key] = line
            source.lines[(*path, key)] = line
            _walk(value_node, (*path, key), source, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            source.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), source, problems)
