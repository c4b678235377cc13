"""The interface every display implements.

A display consumes one session's events (``handle``), may draw while the
session runs (``start``/``stop``), and prints the outcome at the end
(``finish``). It never drives the session and never reads configuration.
"""

from __future__ import annotations

from massgen_core.events import Event, SessionFinished


class Display:
    """Base display: does nothing, so a subclass overrides only what it shows."""

    def start(self) -> None:
        """Called before the first event of a session."""

    def handle(self, event: Event) -> None:
        """Called for every event, in order; must be cheap (thousands of deltas per session)."""

    def stop(self) -> None:
        """Stop drawing (idempotent); called before ``finish`` and on interruption."""

    def finish(self, finished: SessionFinished | None) -> None:
        """Print the outcome: the final answer on stdout (None: the stream ended without one)."""
