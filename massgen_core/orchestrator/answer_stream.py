"""The answer an agent is writing, read out of one model call's chunks while they stream.

Where the answer travels depends on the launch's workflow transport
(massgen_core.orchestrator.workflow): on ``tools`` it is the ``content``
argument of a ``new_answer`` call, streamed as ``ToolCallDelta`` fragments
(providers that send whole arguments, such as Gemini, give it only in the
complete call); on ``json`` it is the ``content`` field of the JSON reply,
streamed as text (or as the fragments of a structured-output tool, as the
Claude plugin sends it); on ``text`` the reply is the answer itself.
``AnswerStream.feed`` returns the new answer text a chunk carries, which the
session emits as ``AnswerDelta``; a complete ``new_answer`` call returns the
rest of its content (all of it when nothing streamed), so the pieces of a
call add up to its answer. Pure: one instance per model call, no I/O.
"""

from __future__ import annotations

from massgen_core import backend as bk
from massgen_core.orchestrator.prompts import NEW_ANSWER
from massgen_core.orchestrator.workflow import JSON, SCHEMA_NAME, TEXT, TOOLS
from massgen_core.partial_json import StringFieldReader


class AnswerStream:
    """Turns one coordination call's chunks into the growing text of the answer it writes."""

    def __init__(self, offer: bk.WorkflowOffer) -> None:
        self.transport = offer.transport if offer.may_answer else ""
        self._readers: dict[str, StringFieldReader] = {}
        self._via_tool = False  # json: the reply streams as a structured-output tool's arguments

    def feed(self, chunk: bk.Chunk) -> str:
        """The answer text ``chunk`` adds ('' for most chunks)."""
        kind = type(chunk)
        if kind is bk.ToolCallDelta:
            return self._fragment(chunk)  # type: ignore[arg-type]
        if kind is bk.TextDelta:
            if self.transport == TEXT:
                return chunk.text  # type: ignore[union-attr]
            if self.transport == JSON and not self._via_tool:
                return self._reader("").feed(chunk.text)  # type: ignore[union-attr]
            return ""
        if kind is bk.ToolCallChunk:
            return self._complete(chunk.call)  # type: ignore[union-attr]
        return ""

    def _reader(self, key: str) -> StringFieldReader:
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = StringFieldReader("content")
        return reader

    def _fragment(self, delta: bk.ToolCallDelta) -> str:
        if self.transport == TOOLS and delta.name == NEW_ANSWER:
            return self._reader(delta.id).feed(delta.arguments)
        if self.transport == JSON and delta.name == SCHEMA_NAME:
            self._via_tool = True
            return self._reader("").feed(delta.arguments)
        return ""

    def _complete(self, call: bk.ToolCall) -> str:
        if self.transport != TOOLS or call.name != NEW_ANSWER:
            return ""
        content = (call.arguments or {}).get("content")
        if not isinstance(content, str):
            return ""
        reader = self._readers.get(call.id)
        sent = reader.text if reader is not None else ""
        return content[len(sent) :] if content.startswith(sent) else ""
