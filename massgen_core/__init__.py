"""MassGen core: hook specs, data model, orchestrator, configuration, storage, CLI.

The core knows no provider, voting rule, export format or tool; those arrive
as plugins through the ``massgen`` entry-point group.
"""

__version__ = "0.0.4"
