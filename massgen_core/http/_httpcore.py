"""httpcore, imported without anyio.

httpcore's package imports ``anyio`` at once (for its anyio network backend and
its locks), whether or not anything uses them. MassGen's pool runs httpcore on
its own asyncio backend and primitives (massgen_core.http.aio_backend), so
while httpcore loads, ``anyio`` is marked absent, as massgen_core.http._httpx
does for httpx's command line: httpcore takes the "anyio is not installed"
path it already has, and afterwards the mark is removed, so ``import anyio``
works as usual for everyone else (``massgen serve``'s web stack). The one
name that path leaves wrong, ``httpcore.AnyIOBackend``, is put back as a
stand-in that imports httpcore's real class when it is first used. Import
httpcore from here.
"""

from __future__ import annotations

import sys
from typing import Any

if "httpcore" not in sys.modules and "anyio" not in sys.modules:
    sys.modules["anyio"] = None  # type: ignore[assignment]  # "import anyio" now fails
    try:
        import httpcore
    finally:
        sys.modules.pop("anyio", None)  # the mark (nothing can have replaced it: the import failed)

    class AnyIOBackend:
        """httpcore's ``AnyIOBackend``, imported (with anyio) when one is made."""

        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            from httpcore._backends.anyio import AnyIOBackend as real

            return real(*args, **kwargs)

    httpcore.AnyIOBackend = AnyIOBackend  # type: ignore[misc]

import httpcore  # noqa: E402  (already loaded: the module object)

__all__ = ["httpcore"]
