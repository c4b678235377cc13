"""Reading a config file into plain data plus the line and column of every key and value.

YAML is composed by libyaml (PyYAML's C parser) and turned into plain values
here with YAML 1.2 core-schema scalars, the same rules ruamel.yaml applies
(``yes`` stays a string, ``0o17`` is octal). The pure-Python ruamel round-trip
loader gives the same positions but is an order of magnitude slower, which
``massgen config validate`` cannot afford; ruamel is used where comments must
survive (``config set``). JSON is read by the standard library; its positions
come from composing the same text as YAML, only when a problem needs them.
This module knows nothing of the schema and never raises anything but
``DocumentError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import attrs

from massgen_core.errors import MassGenError

Path = tuple[str | int, ...]
Pos = tuple[int, int]  # 1-based line, column

MAX_NODES = 200_000  # aliases can multiply a small file into a huge one ("billion laughs")
# Python refuses to read integers longer than this (sys.get_int_max_str_digits()); say so, located.
MAX_INT_DIGITS = 4300


class DocumentError(MassGenError):
    """The text is not a readable YAML/JSON document; carries a 1-based position."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


@attrs.define
class Document:
    """Plain data (dicts, lists, scalars) and where each key and value stands in the file."""

    file: str
    data: Any
    key_pos: dict[Path, Pos] = attrs.Factory(dict)
    value_pos: dict[Path, Pos] = attrs.Factory(dict)
    # problems the reader found that are not fatal (duplicate keys, unsupported tags)
    issues: list[tuple[Path, str, bool]] = attrs.Factory(list)  # (path, message, at_key)
    _locate: Callable[[], Document | None] | None = None

    def _ensure_positions(self) -> None:
        if self._locate is not None:
            locate, self._locate = self._locate, None
            located = locate()
            if located is not None:
                self.key_pos, self.value_pos = located.key_pos, located.value_pos

    def copy(self) -> Document:
        """An independent copy of the position tables (the data is shared, never mutated).

        Positions not found yet stay unfound: the copy asks this document for
        them when it needs them, so the file is still read for positions once.
        """
        if self._locate is not None:
            return Document(
                file=self.file, data=self.data, issues=list(self.issues), locate=self._located_copy
            )
        return Document(
            file=self.file,
            data=self.data,
            key_pos=dict(self.key_pos),
            value_pos=dict(self.value_pos),
            issues=list(self.issues),
        )

    def _located_copy(self) -> Document:
        self._ensure_positions()
        return Document(
            file=self.file,
            data=self.data,
            key_pos=dict(self.key_pos),
            value_pos=dict(self.value_pos),
        )

    def where(self, path: Path, *, at_key: bool = False) -> Pos:
        """Position of the key (or value) at ``path``, else of its nearest located ancestor."""
        self._ensure_positions()
        table = self.key_pos if at_key else self.value_pos
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.key_pos:
                return self.key_pos[probe]
            probe = probe[:-1]
        return self.value_pos.get((), (1, 1))

    def relocate(self, source: Path, target: Path) -> None:
        """Make positions under ``source`` answer for ``target`` (environment overlays)."""
        self._ensure_positions()
        n = len(source)
        for table in (self.key_pos, self.value_pos):
            for old in [p for p in table if p[: len(target)] == target and len(p) > len(target)]:
                del table[old]
            for path, pos in list(table.items()):
                if path[:n] == source and len(path) > n:
                    table[target + path[n:]] = pos
            if source in table and target:
                table[target] = table[source]


# -- YAML ------------------------------------------------------------------

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP, _MERGE = _TAG + "str", _TAG + "seq", _TAG + "map", _TAG + "merge"
_PLAIN = "massgen:plain"  # a plain (unquoted) scalar: _Builder reads it by the YAML 1.2 core schema
_loader_cls: Any = None


def _loader() -> Any:
    """A PyYAML loader class: libyaml composer (pure Python if absent), scalars left for _Builder.

    The resolver only says whether a scalar was plain or quoted; the builder
    applies the YAML 1.2 core schema itself, once per scalar (PyYAML's own
    resolver would match the same patterns a second time).
    """
    global _loader_cls
    if _loader_cls is None:
        import yaml
        from yaml.nodes import ScalarNode, SequenceNode
        from yaml.resolver import BaseResolver

        class Resolver12(BaseResolver):
            yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012  (PyYAML's class-level table)

            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                if kind is ScalarNode:
                    return _PLAIN if implicit[0] else _STR
                return _SEQ if kind is SequenceNode else _MAP

        parser: Any
        try:
            from yaml.cyaml import CParser as parser  # type: ignore[attr-defined]
        except ImportError:  # pragma: no cover - PyYAML built without libyaml
            parser = None
        if parser is not None:

            class Loader(parser, yaml.constructor.BaseConstructor, Resolver12):  # type: ignore[misc]
                def __init__(self, stream: str) -> None:
                    parser.__init__(self, stream)
                    yaml.constructor.BaseConstructor.__init__(self)
                    Resolver12.__init__(self)

        else:  # pragma: no cover - PyYAML wheels ship libyaml on every supported platform

            class Loader(  # type: ignore[no-redef]
                yaml.reader.Reader,
                yaml.scanner.Scanner,
                yaml.parser.Parser,
                yaml.composer.Composer,
                yaml.constructor.BaseConstructor,
                Resolver12,
            ):
                def __init__(self, stream: str) -> None:
                    yaml.reader.Reader.__init__(self, stream)
                    yaml.scanner.Scanner.__init__(self)
                    yaml.parser.Parser.__init__(self)
                    yaml.composer.Composer.__init__(self)
                    yaml.constructor.BaseConstructor.__init__(self)
                    Resolver12.__init__(self)

        global _ScalarNode, _SequenceNode, _MappingNode
        _ScalarNode, _SequenceNode, _MappingNode = ScalarNode, SequenceNode, yaml.nodes.MappingNode
        _loader_cls = Loader
    return _loader_cls


_ScalarNode: Any = None
_SequenceNode: Any = None
_MappingNode: Any = None


def _mark(node: Any) -> Pos:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


def _plain(value: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema: null, bool, int, float, else the string."""
    first = value[:1]
    if first in "~nN" and _NULL.match(value):
        return None
    if first in "tTfF" and _BOOL.match(value):
        return first in "tT"
    if first in "-+0123456789.":
        if _INT.match(value):
            # base 0 reads the 0o/0x prefixes; plain digits may have leading zeros in YAML 1.2
            return int(value, 0) if value.startswith(("0o", "0x")) else int(value)
        if _FLOAT.match(value):
            return _float(value)
    return value


def _float(value: str) -> float:
    lowered = value.lower()
    if lowered.endswith("nan"):
        return math.nan
    if lowered.endswith("inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    return float(value)


class _NeedsPositions(Exception):
    """The fast pass met something whose message quotes a line number: build again with positions."""


class _Builder:
    """Turns composed YAML nodes into plain values, recording positions when asked to."""

    def __init__(self, doc: Document, *, positions: bool = True) -> None:
        self.doc = doc
        self.positions = positions
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Any, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            line, col = _mark(node)
            raise DocumentError(
                f"document too large after expanding aliases (over {MAX_NODES} values)", line, col
            )
        if self.positions:
            self.doc.value_pos[path] = _mark(node)
        kind = node.__class__
        if kind is _ScalarNode:
            return self.scalar(node, path)
        if id(node) in self.active:
            line, col = _mark(node)
            raise DocumentError("recursive alias (a value that contains itself)", line, col)
        self.active.add(id(node))
        try:
            if kind is _SequenceNode:
                if node.tag != _SEQ:
                    self.doc.issues.append((path, f"unsupported tag {node.tag!r}", False))
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if node.tag != _MAP:
                self.doc.issues.append((path, f"unsupported tag {node.tag!r}", False))
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: Any, path: Path) -> Any:
        tag, value = node.tag, node.value
        if tag == _PLAIN:
            try:
                return _plain(value)
            except ValueError:  # the only one: an integer with more digits than Python reads
                raise _too_many_digits(node) from None
        if tag == _STR:
            return value
        try:  # an explicit tag (!!int 3): the value must read as that type
            if tag == _TAG + "null" and _NULL.match(value):
                return None
            if tag == _TAG + "bool" and _BOOL.match(value):
                return value.lower() == "true"
            if tag == _TAG + "int" and _INT.match(value):
                return int(value, 0) if value.startswith(("0o", "0x")) else int(value)
            if tag == _TAG + "float" and _FLOAT.match(value):
                return _float(value)
        except ValueError:  # the patterns admit only valid literals: an integer too long for Python
            raise _too_many_digits(node) from None
        if tag == _MERGE:
            return value
        self.doc.issues.append((path, f"cannot read {value!r} as {tag.replace(_TAG, '!!')}", False))
        return value

    def mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[Any] = []
        positions = self.positions
        key_pos = self.doc.key_pos
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                if not positions:
                    raise _NeedsPositions
                line, _ = _mark(key_node)
                self.doc.issues.append(
                    (
                        path,
                        f"a key must be a plain value, not a list or mapping (line {line})",
                        False,
                    )
                )
                continue
            tag = key_node.tag
            if tag == _MERGE or (tag == _PLAIN and key_node.value == "<<"):
                merges.append(value_node)
                continue
            key = self.scalar(key_node, (*path, "<key>"))
            if (
                not isinstance(key, str | int | float | bool) and key is not None
            ):  # pragma: no cover
                key = str(key)
            child = (*path, key)
            if key in result:
                if not positions:
                    raise _NeedsPositions
                first = key_pos.get(child, (0, 0))[0]
                self.doc.issues.append(
                    (child, f"duplicate key {key!r} (first given on line {first})", True)
                )
            if positions:
                self.doc.value_pos.pop((*path, "<key>"), None)
                key_pos[child] = _mark(key_node)
            result[key] = self.build(value_node, child)
        for merge_node in merges:
            sources = merge_node.value if merge_node.__class__ is _SequenceNode else [merge_node]
            for source in sources:
                if source.__class__ is not _MappingNode:
                    if not positions:
                        raise _NeedsPositions
                    line, _ = _mark(source)
                    self.doc.issues.append(
                        (path, f"'<<' merges mappings only (line {line})", False)
                    )
                    continue
                for key_node, value_node in source.value:
                    if key_node.__class__ is not _ScalarNode:
                        continue
                    key = self.scalar(key_node, (*path, "<key>"))
                    if key in result or key == "<<":
                        continue
                    if positions:
                        self.doc.value_pos.pop((*path, "<key>"), None)
                        key_pos[(*path, key)] = _mark(key_node)
                    result[key] = self.build(value_node, (*path, key))
        return result


def _too_many_digits(node: Any) -> DocumentError:
    line, col = _mark(node)
    digits = len(node.value.lstrip("+-"))
    return DocumentError(f"an integer of {digits} digits is too long (at most {MAX_INT_DIGITS})", line, col)


def _yaml_error(exc: Exception) -> DocumentError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return DocumentError(message, mark.line + 1, mark.column + 1)
    return DocumentError(message)


def parse_yaml(text: str, file: str, *, positions: bool = False) -> Document:
    """Parse YAML text; raise DocumentError (located) when it is not a single YAML document.

    Positions are found when first asked for (``Document.where``): most files
    have no problem to locate, and recording where each of thousands of keys
    stands costs as much as the rest of the build.
    """
    import yaml

    doc = Document(file=file, data=None)
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except RecursionError:
        raise DocumentError("document nested too deeply") from None
    finally:
        loader.dispose()
    if node is None:
        return doc
    try:
        doc.data = _Builder(doc, positions=positions).build(node, ())
    except RecursionError:
        raise DocumentError("document nested too deeply") from None
    except _NeedsPositions:  # a message needs a line number: build again, recording positions
        return parse_yaml(text, file, positions=True)
    if not positions:
        doc._locate = lambda: parse_yaml(text, file, positions=True)
    return doc


# -- JSON ------------------------------------------------------------------


def parse_json(text: str, file: str) -> Document:
    """Parse JSON with the standard library; positions are computed only if asked for."""
    import json

    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=lambda c: {"NaN": math.nan}.get(
                c, math.inf if c == "Infinity" else -math.inf
            ),
        )
    except json.JSONDecodeError as exc:
        raise DocumentError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise DocumentError("document nested too deeply") from None
    except ValueError:  # an integer too long to read
        raise _json_too_many_digits(text, file) from None

    def locate() -> Document | None:
        try:
            return parse_yaml(text, file, positions=True)
        except DocumentError:
            return None

    doc = Document(file=file, data=data, locate=locate)
    for key in duplicates:
        doc.issues.append(((), f"duplicate key {key!r}", False))
    return doc


def _json_too_many_digits(text: str, file: str) -> DocumentError:
    """The error for a JSON integer too long to read, located by the YAML reader when it can read the text."""
    try:
        parse_yaml(text, file, positions=True)
    except DocumentError as exc:
        if exc.message.startswith("an integer of"):
            return exc
    return DocumentError(f"an integer is too long (at most {MAX_INT_DIGITS} digits)")


def parse_text(text: str, file: str) -> Document:
    """JSON when the file name ends in ``.json``, YAML otherwise (YAML also reads most JSON)."""
    if file.lower().endswith(".json"):
        return parse_json(text, file)
    return parse_yaml(text, file)


__all__ = ["Document", "DocumentError", "Path", "Pos", "parse_json", "parse_text", "parse_yaml"]
