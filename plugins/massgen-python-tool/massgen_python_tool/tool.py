"""The ``python`` function tool.

Runs a Python snippet in the sandbox (see ``runner`` and ``sandbox``) and
returns its exit status, stdout and stderr as text. The description the model
(and ``massgen sandbox``) reads states the limits, the sandbox level this
machine allows, what holds at that level and what does not.
"""

from __future__ import annotations

from typing import Any

from massgen_core.tools import Tool
from massgen_python_tool.runner import Limits, RunResult, run_snippet
from massgen_python_tool.sandbox import Sandbox, choose, scrubbed_environment

DESCRIPTION = (
    "Run a Python 3 snippet in a fresh sandboxed subprocess and get its exit status, stdout and "
    "stderr. Print what you want to see. Limits: {timeout:g} s wall clock, {memory} MiB of memory, "
    "{output} bytes of output per stream; no state kept between calls. {sandbox}"
)


def make_tool(limits: Limits | None = None, name: str = "python") -> Tool:
    """A ``python`` tool bound to ``limits`` (default: Limits.from_env())."""
    limits = limits or Limits.from_env()
    box = choose(limits.sandbox, limits)

    async def python(code: Any = None, **_ignored: Any) -> str:
        # Models sometimes omit or mistype arguments; say so instead of raising.
        if not isinstance(code, str) or not code.strip():
            return "error: pass the Python source to run as the string argument `code`"
        result = await run_snippet(code, limits)
        return result.to_text()

    return Tool(
        name=name,
        description=DESCRIPTION.format(
            timeout=limits.timeout_s,
            memory=limits.memory_bytes // (1024 * 1024),
            output=limits.max_output_bytes,
            sandbox=box.summary(limits),
        ),
        parameters={
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "The Python source to run, as a script."}
            },
            "required": ["code"],
        },
        func=python,
    )


__all__ = [
    "Limits",
    "RunResult",
    "Sandbox",
    "make_tool",
    "run_snippet",
    "scrubbed_environment",
]
