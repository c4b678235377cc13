"""The coordination engine: agents, prompts, the loop of PROTOCOL.md §4–8, and building it from config.

Import ``build_orchestrator`` and ``Orchestrator`` from here. The engine
yields typed events (massgen_core.events) and never prints; displays,
storage and exporters consume that stream.
"""

from __future__ import annotations

from massgen_core.orchestrator.agent import Agent
from massgen_core.orchestrator.builder import TeamBackend, build_orchestrator, build_strategy
from massgen_core.orchestrator.context import LaunchContext, current_launch
from massgen_core.orchestrator.coordination import EndedBy
from massgen_core.orchestrator.roles import PRESETS as ROLE_PRESETS
from massgen_core.orchestrator.session import ENDED_BY, Limits, Orchestrator

__all__ = [
    "ENDED_BY",
    "ROLE_PRESETS",
    "Agent",
    "EndedBy",
    "LaunchContext",
    "Limits",
    "Orchestrator",
    "TeamBackend",
    "build_orchestrator",
    "build_strategy",
    "current_launch",
]
