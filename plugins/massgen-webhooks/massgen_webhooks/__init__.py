"""The ``webhooks`` plugin: POST session events to HTTP endpoints as they happen.

``on_event`` reads ``webhooks.yaml`` (user config dir) and
``MASSGEN_WEBHOOK_URL`` once per process, on the first event, and from then on
only serialises wanted events and queues them (massgen_webhooks.delivery does
the network work on background threads). On ``session_finished`` it waits a
bounded time for the queues to drain, and an atexit handler does the same, so
a CLI run does not exit before its last webhook. A broken configuration is
reported once and switches webhooks off; it never raises into the session.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING, Any

from massgen_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from massgen_core.events import Event
    from massgen_webhooks.delivery import Dispatcher

_lock = threading.Lock()
_dispatcher: Dispatcher | None = None
_loaded = False
_atexit_registered = False


def get_dispatcher() -> Dispatcher | None:
    """The process's dispatcher, built on first use; None when no webhook is configured."""
    global _dispatcher, _loaded, _atexit_registered
    if _loaded:
        return _dispatcher
    with _lock:
        if not _loaded:
            from massgen_webhooks import config

            loaded = config.load()
            if loaded.problems:  # logging loads here: every massgen command loads this plugin
                import logging

                log = logging.getLogger("massgen_webhooks")
                for problem in loaded.problems:
                    log.warning("massgen-webhooks: %s", problem)
            if loaded.settings.hooks:  # the delivery code (threads, hmac, uuid) only for a configured hook
                from massgen_webhooks.delivery import Dispatcher

                _dispatcher = Dispatcher(loaded.settings)
                if not _atexit_registered:
                    atexit.register(_close_at_exit)
                    _atexit_registered = True
            _loaded = True
    return _dispatcher


def reset() -> None:
    """Close the dispatcher (bounded flush) and forget the configuration; the next event reloads it."""
    global _dispatcher, _loaded
    with _lock:
        dispatcher, _dispatcher, _loaded = _dispatcher, None, False
    if dispatcher is not None:
        dispatcher.close()


def _close_at_exit() -> None:
    reset()


@hookimpl
def register_config_sections(register: Any) -> None:
    # a Lazy: loading the plugin (every massgen command does) imports no config code
    from massgen_core.lazy import Lazy

    register(Lazy.made_by("massgen_webhooks.config:section", name="webhooks", file_name="webhooks.yaml"))


@hookimpl
def on_event(event: Event) -> Any:
    """Queue ``event`` for every hook that wants it; on ``session_finished``, wait (bounded) for delivery."""
    dispatcher = _dispatcher if _loaded else get_dispatcher()
    if dispatcher is None:
        return None
    dispatcher.submit(event)
    if event.type == "session_finished":
        dispatcher.flush(dispatcher.settings.flush_timeout)
    return None
