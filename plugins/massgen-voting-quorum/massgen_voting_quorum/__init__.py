"""MassGen plugin ``massgen-voting-quorum``: the ``quorum`` voting strategy.

``QuorumStrategy`` lives in ``strategy``. It is registered as a ``Lazy``, so loading the
plugin (which every massgen command does) imports nothing else.
"""

from __future__ import annotations

from typing import Any

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

STRATEGY = Lazy("massgen_voting_quorum.strategy:QuorumStrategy", name="quorum")


@hookimpl
def register_voting_strategies(register: Any) -> None:
    register(STRATEGY)


__getattr__ = forward_to(__name__, "strategy")  # QuorumStrategy and the rest: imported on first use

__all__ = ["STRATEGY", "register_voting_strategies"]
