"""Redaction of secrets and the ``massgen.http`` debug log of HTTP exchanges.

With ``MASSGEN_DEBUG=1`` (``massgen --debug``) each exchange is logged on the
``massgen.http`` logger: method, URL, status, timing and headers with every
credential masked. This module must never log a body or an unmasked key.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

logger = logging.getLogger("massgen.http")

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie"}
)
_KEY_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-]{8,}|xai-[A-Za-z0-9_\-]{8,}|gsk_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_\-]{20,}|Bearer\s+[A-Za-z0-9._\-]{8,})"
)
_known_secrets: set[str] = set()


def remember_secret(secret: str | None) -> None:
    """Register a key so ``redact_text`` masks it wherever it shows up (even unusual formats)."""
    if secret and len(secret) >= 6:
        _known_secrets.add(secret)


def mask(secret: str) -> str:
    return "***" if len(secret) < 12 else f"{secret[:3]}...{secret[-2:]}"


def redact_text(text: str) -> str:
    """``text`` with every known key and key-shaped token replaced."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _KEY_PATTERNS.sub(lambda m: "***", text)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: ("***" if k.lower() in SECRET_HEADERS else redact_text(v)) for k, v in items}


def debug_enabled(flag: bool = False) -> bool:
    return flag or os.environ.get("MASSGEN_DEBUG") == "1"


def log_exchange(
    method: str,
    url: str,
    status: int | str,
    elapsed_s: float,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str] | None = None,
) -> None:
    """Log one HTTP exchange at DEBUG level, credentials masked."""
    logger.debug(
        "%s %s -> %s in %.1f ms; request headers %s; response headers %s",
        method,
        redact_text(url),
        status,
        elapsed_s * 1000,
        redact_headers(request_headers),
        redact_headers(response_headers or {}),
    )


def configure_debug_logging() -> None:
    """Send ``massgen.http`` DEBUG records to stderr once (the CLI may already have a handler)."""
    if logger.level != logging.DEBUG:
        logger.setLevel(logging.DEBUG)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
