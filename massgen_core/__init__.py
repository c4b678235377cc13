"""MassGen core: hook specs, data model, orchestrator, configuration, storage, CLI.

The core knows no provider, voting rule, export format or tool; those arrive
as plugins through the ``massgen`` entry-point group.
"""

__version__ = "0.0.4"

__all__ = ["Conversation", "Team", "TeamResult", "__version__"]


def __getattr__(name: str) -> object:
    # The facade loads on first use: `massgen --help` imports this package and must stay fast.
    if name in ("Team", "TeamResult"):
        from massgen_core import team

        return getattr(team, name)
    if name == "Conversation":
        from massgen_core.conversation import Conversation

        return Conversation
    raise AttributeError(f"module 'massgen_core' has no attribute {name!r}")
