"""The ``python`` function tool.

Registers one tool that runs a Python snippet in a resource-limited
subprocess (see ``runner``) and returns its exit status, stdout and stderr as
text. It is a convenience with limits, not a security sandbox; the README
says what it does not protect against.
"""

from __future__ import annotations

from typing import Any

from massgen_core.tools import Tool
from massgen_python_tool.runner import Limits, RunResult, run_snippet, scrubbed_environment

DESCRIPTION = (
    "Run a Python 3 snippet in a fresh subprocess and get its exit status, stdout and stderr. "
    "Print what you want to see. Limits: {timeout:g} s wall clock, {memory} MiB of memory, "
    "{output} bytes of output per stream; no network guarantees, no state kept between calls."
)


def make_tool(limits: Limits | None = None, name: str = "python") -> Tool:
    """A ``python`` tool bound to ``limits`` (default: Limits.from_env())."""
    limits = limits or Limits.from_env()

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
    "make_tool",
    "run_snippet",
    "scrubbed_environment",
]
