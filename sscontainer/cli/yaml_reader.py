"""Reading an experiment file: YAML with bounds, and no silent surprises.

PyYAML's safe loader accepts a repeated key (the last one wins) and recurses once
per nesting level (20,000 levels end in a RecursionError); aliases can expand a
small file into millions of values. This loader refuses all three, and files
larger than :data:`~sscontainer.limits.MAX_YAML_BYTES`, each with a message
naming the line and the limit.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import SchemaError
from ..limits import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _line(node: Node) -> str:
    return f"line {node.start_mark.line + 1}"


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys and too-deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(
                    f"nested more than {MAX_YAML_DEPTH} levels deep (line {mark.line + 1}): "
                    "an experiment file needs far fewer"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _Refused(
                    f"key {key!r} appears twice ({_line(seen[key])} and {_line(key_node)}): "
                    "keep one (YAML would silently use the last)"
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep)


def _expanded_size(root: Node) -> int:
    """How many values ``root`` holds once every alias is expanded (each node counted once
    per place it appears), computed without expanding anything."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: depth is bounded already, but stay cheap
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if done:
            children = _children(node)
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str) -> Any:
    """Parse ``text``; raises ``_Refused`` (bounds, duplicates) or ``yaml.YAMLError``."""
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_NODES:
            raise _Refused(
                f"expands to more than {MAX_YAML_NODES} values (through aliases): an "
                "experiment file needs far fewer"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_document(path: str) -> Any:
    """The YAML document at ``path``, or a SchemaError naming what is wrong with it."""
    if not os.path.isfile(path):
        raise SchemaError(path, ["no such file: give the path of an experiment YAML file"])
    try:
        size = os.path.getsize(path)
        if size > MAX_YAML_BYTES:
            raise SchemaError(path, [
                f"the file is {size} bytes, more than the limit of {MAX_YAML_BYTES} for an "
                "experiment file: is it the right file?"
            ])
        with open(path, "rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise SchemaError(path, [f"cannot be read: {exc.strerror or exc}"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            path, [f"not a UTF-8 text file (byte {exc.start}): give an experiment YAML file"]
        ) from exc
    if "\0" in text:
        raise SchemaError(path, ["holds a NUL character: not a YAML text file"])
    try:
        return load_yaml(text)
    except _Refused as exc:
        raise SchemaError(path, [exc.message]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(path, [f"not valid YAML{where}: {problem}"]) from None
    except RecursionError:
        raise SchemaError(path, ["nested too deeply to read"]) from None
