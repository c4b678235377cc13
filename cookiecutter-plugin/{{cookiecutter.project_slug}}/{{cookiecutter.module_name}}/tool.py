"""The {{ cookiecutter.registered_name|tojson }} tool: counts the words, lines and characters of a text.

A function tool agents may call. Its parameters are a JSON schema the model
sees; its function is async and returns text for the model to read. It has
no side effects and touches neither files nor network.
"""

from __future__ import annotations

from typing import Any

from massgen_core.tools import Tool


async def word_count(text: str, **_ignored: Any) -> str:
    """Count ``text``; models sometimes add arguments of their own, which are ignored."""
    words = len(text.split())
    lines = len(text.splitlines())
    return f"words: {words}, lines: {lines}, characters: {len(text)}"


WORD_COUNT = Tool(
    name={{ cookiecutter.registered_name|tojson }},
    description="Count the words, lines and characters of a text.",
    parameters={
        "type": "object",
        "properties": {"text": {"type": "string", "description": "The text to count"}},
        "required": ["text"],
    },
    func=word_count,
)
