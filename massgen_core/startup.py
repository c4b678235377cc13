"""The command line's start-up phase, during which the cyclic garbage collector waits.

Before its first model request a session imports some 400 modules and builds
about a hundred attrs classes: tens of thousands of objects that live as long
as the process, and next to no garbage cycles. CPython's collector still walks
them some eighty times on the way (about 10 ms of CPU, see
benchmarks/bench_cli.py). So the CLI's ``main`` calls :func:`pause`, and the
first pooled HTTP client (the first request), a long-running command (``serve``)
or the end of ``main`` calls :func:`resume`, which moves everything allocated
so far into the permanent generation (``gc.freeze``), where later collections
never walk it again, and turns collection back on.

Only the CLI pauses: a library user's process is never touched, and
:func:`resume` does nothing unless :func:`pause` turned collection off.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the cyclic collector off until :func:`resume` (when it is on)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """End start-up: freeze what exists and turn the collector back on, if :func:`pause` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def paused() -> bool:
    """Whether start-up is still holding the collector."""
    return _paused
