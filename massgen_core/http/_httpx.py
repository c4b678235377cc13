"""httpx, imported without its own command-line client.

``import httpx`` also imports ``httpx._main``, the ``httpx`` console command,
which pulls in pygments and rich's syntax highlighting: about half of httpx's
import time, paid by every MassGen command that sends a request, for a
command MassGen never runs. While httpx loads, that one submodule is marked
absent, so httpx falls back to its stub ``main``; afterwards the mark is
removed and ``import httpx._main`` works as usual. Import httpx from here.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]  # "import httpx._main" now fails
    try:
        import httpx
    finally:
        if sys.modules.get("httpx._main", "") is None:
            del sys.modules["httpx._main"]

import httpx  # noqa: E402  (already loaded: the module object)

__all__ = ["httpx"]
