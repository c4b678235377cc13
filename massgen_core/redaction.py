"""The one rule for what is a credential, and the redaction every output path applies.

A *name* is secret when it names a key, token, password, secret, credential,
authorization, cookie or signature (``is_secret_name``: config keys, header
names, query parameters, environment variables alike). A *text* loses every
key this process has seen (``remember_secret``), key-shaped tokens
(``sk-...``, ``AIza...``, ``Bearer ...``), the userinfo of any URL and the
value of any secret-named query parameter, ``name=value``, ``"name": "value"``
or ``Name: value`` pair (``redact_text``, ``redact_url``). ``redact`` applies both to plain data,
attrs values included, and returns a JSON-ready copy.

Errors, ``backends check``, ``config show``, the store, exports, webhook
payloads and every debug log line (``RedactingFormatter``) go through this module; no other module may
define a rule of its own (tests/core/test_redaction.py checks). Nothing here
logs, prints or keeps anything but the registered keys.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "***"

# A name is secret if one of these appears in it, separators ignored ("x-api-key", "apiKey", "API_KEY_2").
_SECRET_PARTS = ("apikey", "secret", "password", "passwd", "passphrase", "credential", "authorization", "cookie")
# ... or if its last word is one of these ("key", "private_key", "GITHUB_TOKEN", "basic_auth", "sig").
_SECRET_LAST_WORDS = frozenset({"key", "token", "auth", "bearer", "sig", "signature", "jwt"})
# ... or if, written without separators, it ends with one of these ("accesstoken", "privatekey").
_SECRET_ENDINGS = ("accesskey", "secretkey", "privatekey", "authkey", "accesstoken", "authtoken", "refreshtoken",
                   "idtoken", "sessiontoken", "securitytoken", "bearertoken", "apitoken")  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")

_KEY_SHAPED = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{8,}|xai-[A-Za-z0-9_\-]{8,}|gsk_[A-Za-z0-9]{8,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|Bearer\s+[A-Za-z0-9._~+/\-]{8,}=*|Basic\s+(?=[A-Za-z0-9+/]*?(?:[0-9+/=]|[a-z][A-Z]))[A-Za-z0-9+/]{8,}=*)"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>\"'`]+")
_URL_TAIL = ".,;:!?)]}"
# name=value in a query string, a fragment, a form body or a log line.
_PAIR = re.compile(
    r"(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&#;\s\"'<>]*?)(?=[.,:!?)\]}]*(?:[&#;\s\"'<>]|$))"
)
# "name": "value" in a JSON body a provider echoes back.
# "name": "value" in a JSON body a provider echoes back, or 'name': 'value' in a Python repr.
_QUOTED_PAIR = re.compile(
    r"(?P<q>[\"'])(?P<name>[A-Za-z0-9_.\- ]{1,100})(?P=q)(?P<sep>\s*:\s*)(?P<vq>[\"'])(?P<value>(?:(?!(?P=vq))[^\\]|\\.)*)(?P=vq)"
)
# "x-api-key: value" or "Authorization: Bearer value" in a header dump or a log line.
_HEADER_NAME = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Za-z][A-Za-z0-9_.\-]*):[ \t]*")
_HEADER_VALUE = re.compile(r"(?:(?:Bearer|Basic|Token|Digest)[ \t]+)?[^\s\"',;]+")

_known_secrets: set[str] = set()


def is_secret_name(name: str) -> bool:
    """Whether a config key, header, query parameter or environment variable names a credential."""
    words = [w.lower() for w in _WORD_SPLIT.split(_CAMEL.sub("_", name)) if w]
    if not words:
        return False
    compact = "".join(words)
    return (
        words[-1] in _SECRET_LAST_WORDS
        or any(part in compact for part in _SECRET_PARTS)
        or compact.endswith(_SECRET_ENDINGS)
    )


def remember_secret(secret: str | None) -> None:
    """Register a key so every later redaction masks it wherever it shows up (even unusual formats)."""
    if secret and len(secret) >= 6:
        _known_secrets.add(secret)


def _pair(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]) or not match["value"]:
        return match[0]
    return f"{match['name']}={REDACTED}"


def _quoted_pair(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]) or not match["value"]:
        return match[0]
    q, vq = match["q"], match["vq"]
    return f"{q}{match['name']}{q}{match['sep']}{vq}{REDACTED}{vq}"


def _header_pairs(text: str) -> str:
    out, done = [], 0
    for name in _HEADER_NAME.finditer(text):
        # A bare "key:" is too common in prose to mean a credential; "api-key:", "Authorization:" are not.
        if name.start() < done or name[1].lower() == "key" or not is_secret_name(name[1]):
            continue
        value = _HEADER_VALUE.match(text, name.end())
        if value is not None:
            out += [text[done : name.end()], REDACTED]
            done = value.end()
    return "".join(out) + text[done:] if out else text


def _drop_userinfo(url: str) -> str:
    scheme, _, rest = url.partition("://")
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end]
    if "@" not in authority:
        return url
    return f"{scheme}://{REDACTED}@{authority.rpartition('@')[2]}{rest[end:]}"


def redact_url(url: str) -> str:
    """``url`` without userinfo and with the value of every secret-named query or fragment parameter masked."""
    if "://" not in url:
        head, at, host = url.partition("@")
        if at and not any(c in head for c in "/?#"):  # "user:password@host/v1" without a scheme
            url = f"{REDACTED}@{host}"
    return redact_text(url)


def _url_in_text(match: re.Match[str]) -> str:
    url = match[0]
    stripped = url.rstrip(_URL_TAIL)
    return _drop_userinfo(stripped) + url[len(stripped) :]


def redact_text(text: str) -> str:
    """``text`` with known keys, key-shaped tokens, URL userinfo and secret-named parameter values masked."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _URL.sub(_url_in_text, text)
    if "=" in text:
        text = _PAIR.sub(_pair, text)
    if '"' in text or "'" in text:
        text = _QUOTED_PAIR.sub(_quoted_pair, text)
    if ":" in text:
        text = _header_pairs(text)
    return _KEY_SHAPED.sub(REDACTED, text)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers for a log: secret-named ones masked whole, the others' values redacted as text."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (REDACTED if is_secret_name(k) else redact_text(v)) for k, v in items}


def origin(url: str) -> str:
    """Scheme, host and port only: for URLs whose path is itself a credential (Slack and Discord webhooks)."""
    scheme, sep, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else ""
    return f"{scheme}://{authority.rpartition('@')[2]}" if sep else REDACTED


def redact(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (attrs values, mappings, sequences) with every secret masked.

    A non-empty value under a secret name becomes ``***`` whatever it is; every
    other string goes through ``redact_text``; other objects become ``str``.
    """
    import attrs  # here: ``massgen conversations list`` never needs it

    if attrs.has(type(value)):
        value = attrs.asdict(value, recurse=False)
    if isinstance(value, Mapping):
        return {
            str(k): (REDACTED if is_secret_name(str(k)) and value[k] not in (None, "") else redact(value[k]))
            for k in value
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((redact(v) for v in value), key=str)
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line, traceback included, goes through ``redact_text`` (httpx logs URLs)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


__all__ = [
    "REDACTED",
    "RedactingFormatter",
    "is_secret_name",
    "origin",
    "redact",
    "redact_headers",
    "redact_text",
    "redact_url",
    "remember_secret",
]
