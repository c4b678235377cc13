"""Reading a JSON request body the way every ``massgen serve`` endpoint must: capped, strict, never a 500.

``read_capped`` stops reading past a size cap; ``loads_strict`` parses JSON and
refuses what would break later (nesting deeper than any request needs, lone
UTF-16 surrogates that no store or response can encode) with ``BadRequest``,
which the endpoints answer as 400. It knows nothing of any endpoint's fields.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

# No request of the API nests deeper than a few levels; far below Python's recursion limit.
MAX_DEPTH = 32


class BadRequest(Exception):
    """A request body or parameter the API cannot use (400)."""


async def read_capped(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None when it is larger than ``max_bytes`` (a declared length is trusted first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def loads_strict(body: bytes) -> Any:
    """The JSON value of ``body``; BadRequest when it is not JSON, too deep, or holds a lone surrogate."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels") from None
    _check(data)
    return data


def _check(data: Any) -> None:
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                pending.append((item, depth + 1))
        else:
            pending.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(
            f"the body holds a lone UTF-16 surrogate ({text[exc.start]!r}), which is not a character; send valid Unicode"
        ) from None
