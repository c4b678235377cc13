"""httpx, imported without its own command-line client.

``import httpx`` also imports ``httpx._main``, the ``httpx`` console command,
which pulls in pygments and rich's syntax highlighting: about half of httpx's
import time, paid by every MassGen command that sends a request, for a
command MassGen never runs. While httpx loads, that one submodule is marked
absent, so httpx falls back to its stub ``main``; afterwards the mark is
removed and ``import httpx._main`` works as usual. Import httpx from here.

httpx decides in one place: ``try: from ._main import main`` / ``except
ImportError`` (its answer to ``httpx[cli]``'s dependencies being absent). No
setting selects it, and its dependencies (click, rich and so pygments) are
MassGen's own, so the only way to take the stub is to make that one import
fail; a ``None`` entry in ``sys.modules`` is Python's documented way to do so,
for exactly the duration of ``import httpx``. An import hook would be the same
trick with more code. tests/plugins_system/test_startup_budget.py checks that
a session's first request goes out without ``httpx._main``.
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
