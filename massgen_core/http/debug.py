"""The ``massgen.http`` debug log of HTTP exchanges.

With ``MASSGEN_DEBUG=1`` (``massgen --debug``) each exchange is logged on the
``massgen.http`` logger: method, URL, status, timing and headers with every
credential masked by ``massgen_core.redaction`` (whose ``redact_text`` is
re-exported here for the HTTP layer). This module must never log a body or an
unmasked key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from massgen_core.redaction import RedactingFormatter, redact_headers, redact_text, redact_url

logger = logging.getLogger("massgen.http")
__all__ = ["configure_debug_logging", "debug_enabled", "log_exchange", "logger", "redact_text"]


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
        redact_url(url),
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
        handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
