"""The hook specifications every MassGen plugin implements.

Each ``register_*`` hook receives a ``register`` callable and calls it once per
thing it contributes (the style of ``simonw/llm``). Hooks are grouped by when
they fire: registration at plugin load, ``register_commands`` when the CLI is
built, ``on_event`` for every coordination event of a session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

    from massgen_core.events import Event

hookspec = pluggy.HookspecMarker("massgen")
hookimpl = pluggy.HookimplMarker("massgen")


class Register(Protocol):
    """The callable a ``register_*`` hook receives: files ``item`` under ``item.name``, or under ``name``."""

    def __call__(self, item: Any, name: str | None = None) -> None: ...


# -- registration: fired once, when the plugin manager loads plugins ---------


@hookspec
def register_backends(register: Register) -> None:
    """Fires at load: call ``register(BackendClass)`` for each backend type (see massgen_core.backend.Backend)."""


@hookspec
def register_voting_strategies(register: Register) -> None:
    """Fires at load: call ``register(StrategyClass)`` for each voting strategy (see massgen_core.voting)."""


@hookspec
def register_exporters(register: Register) -> None:
    """Fires at load: call ``register(ExporterClass)`` for each export format (see massgen_core.exporting)."""


@hookspec
def register_tools(register: Register) -> None:
    """Fires at load: call ``register(tool)`` for each function tool (see massgen_core.tools.Tool)."""


@hookspec
def register_graders(register: Register) -> None:
    """Fires at load: call ``register(grader)`` for each answer grader ``massgen eval`` may use (see massgen_core.grading)."""


@hookspec
def register_config_sections(register: Register) -> None:
    """Fires at load: call ``register(section)`` for each config section the plugin reads (see massgen_core.config.sections.ConfigSection)."""


# -- CLI: fired when the ``massgen`` command group is assembled -------------


@hookspec
def register_commands(cli: click.Group) -> None:
    """Fires when the CLI needs plugin commands: add sub-commands to ``cli`` with ``cli.add_command``."""


# -- sessions: fired for every event of every session ------------------------


@hookspec
def on_event(event: Event) -> Any:
    """Fires for every coordination event, in order; return value ignored. Must be cheap and must not raise."""
