"""The web interface's files: ``/`` and ``/ui/...``, served from the package with a strict policy.

The page (``web/index.html``, ``web/app.js``, ``web/app.css``) is static: no
data is in it, so it is served without a token, and the API calls it makes
send the token the user enters. Every response carries a Content-Security-
Policy that allows scripts, styles and requests only from this server
(``'self'``), no inline script, no framing; the files are read once.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
}
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/ui/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/ui/app.css": ("app.css", "text/css; charset=utf-8"),
}
_cache: dict[str, bytes] = {}


def asset(name: str) -> bytes:
    if name not in _cache:
        _cache[name] = (resources.files("massgen_server") / "web" / name).read_bytes()
    return _cache[name]


async def no_icon(request: Request) -> Response:
    """``/favicon.ico``: nothing (browsers ask for it; a 404 would be noise in their consoles)."""
    return Response(status_code=204, headers=HEADERS)


async def serve_file(request: Request) -> Response:
    name, media_type = FILES[request.url.path]
    return Response(asset(name), media_type=media_type, headers=HEADERS)


__all__ = ["CSP", "FILES", "no_icon", "serve_file"]
