"""MassGen plugin ``massgen-graders``: the answer graders ``massgen eval`` uses.

``exact``, ``normalized`` (the default), ``numeric``, ``regex``, ``choice`` and
``llm_judge`` (see ``graders``). Each is registered as a ``Lazy`` made on first
use, so loading the plugin imports nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, forward_to

GRADERS = {
    "exact": "Exact",
    "normalized": "Normalized",
    "numeric": "Numeric",
    "regex": "Regex",
    "choice": "Choice",
    "llm_judge": "LLMJudge",
}


@hookimpl
def register_graders(register: Callable[..., None]) -> None:
    for name, cls in GRADERS.items():
        register(Lazy.made_by(f"massgen_graders.graders:{cls}", name=name))


__getattr__ = forward_to(__name__, "graders")  # the grader classes: imported on first use

__all__ = ["GRADERS", "register_graders"]
