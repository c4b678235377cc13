"""``massgen``: the v0.0.3 import name, kept so that ``python -m massgen.cli --config F "q"`` still runs.

MassGen itself is ``massgen_core`` (and the ``massgen`` command); this package
only forwards to it and must stay that small. It is shipped in the core wheel.
"""

from massgen_core import __version__

__all__ = ["__version__"]
