"""Finding and breaking YAML aliases in a ruamel round-trip tree, for ``config set``.

An alias (``*name``) makes two places in a file one value: writing through
one of them changes every place that shares the anchor. ``shared_prefix``
says whether a key path passes through such a value, ``unshare`` gives that
place a private copy. Only containers can be shared this way (a scalar is
replaced, not changed in place). Nothing here reads or writes files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _first_places(node: Any, path: tuple[str | int, ...], first: dict[int, tuple[str | int, ...]]) -> None:
    """Record, for every container, the path where it first appears (its anchor, when it has one)."""
    if not isinstance(node, dict | list):
        return
    if id(node) in first:  # an alias: its children were recorded under the anchor
        return
    first[id(node)] = path
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        _first_places(child, (*path, key), first)


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, list):
        return node[part] if isinstance(part, int) and -len(node) <= part < len(node) else None
    if isinstance(node, dict):
        return node.get(part)
    return None


def shared_prefix(
    data: Any, parts: Sequence[str | int]
) -> tuple[list[str | int], list[str | int]] | None:
    """The shortest prefix of ``parts`` that is an alias, with where its anchor is; None when none is.

    Writing through the anchor itself is not refused: that is how a shared value is changed.
    """
    first: dict[int, tuple[str | int, ...]] = {}
    _first_places(data, (), first)
    node = data
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part)
        if node is None:
            return None
        here = tuple(parts[: depth + 1])
        anchor = first.get(id(node), here)
        if anchor != here:
            return list(here), list(anchor)
    return None


def _plain_copy(node: Any) -> Any:
    """A deep copy without anchors, so the copy is written out in full rather than as a second anchor."""
    import copy

    duplicate = copy.deepcopy(node)
    stack = [duplicate]
    while stack:
        item = stack.pop()
        anchor = getattr(item, "anchor", None)
        if anchor is not None and getattr(anchor, "value", None) is not None:
            anchor.value = None
            anchor.always_dump = False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return duplicate


def unshare(data: Any, prefix: Sequence[str | int]) -> None:
    """Replace the shared value at ``prefix`` by a private copy of it."""
    parent = data
    for part in prefix[:-1]:
        parent = _child(parent, part)
    last = prefix[-1]
    parent[last] = _plain_copy(_child(parent, last))


__all__ = ["shared_prefix", "unshare"]
