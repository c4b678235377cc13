"""The OpenAI Chat Completions wire format, shared by every OpenAI-style backend.

``ChatCompletionsBackend`` maps a ``Request`` to ``POST {base}/chat/completions``
(messages, function tools, tool results as ``tool`` messages) and reads the
``chat.completion.chunk`` stream: content, ``reasoning_content``/``reasoning``
deltas as reasoning, tool-call fragments assembled by index, usage from the
last usage object, in-band ``error`` objects raised as typed errors, and a
stream ending without ``[DONE]`` or a finish reason raised as ``StreamError``.
Only choice 0 is read. Subclasses adjust the body with ``extra_body`` and
``token_limit_field``; this module registers no backend. A user message
with attachments becomes a list of content parts (``chat_content``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from massgen_core.backend import (
    BuiltinToolChunk,
    Chunk,
    Done,
    Message,
    ReasoningDelta,
    Request,
    ResponseSchema,
    TextDelta,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from massgen_core.content import Content, render_parts, text_of
from massgen_core.http.assembly import ToolCallAssembler
from massgen_core.http.base import HttpBackend, HttpCall
from massgen_core.http.errors import BackendError, error_for_status
from massgen_core.http.pricing import usage_from_openai

if TYPE_CHECKING:  # httpx-sse loads only when a stream is read (see massgen_core/http/__init__.py)
    from massgen_core.http.sse import ServerSentEvent


def chat_content(content: Content) -> str | list[dict[str, Any]]:
    """A message's content: a string as is; parts as ``text``, ``image_url`` (data: or http URL) and ``file`` (PDF)."""
    if isinstance(content, str):
        return content
    return render_parts(
        content,
        text=lambda text: {"type": "text", "text": text},
        image=lambda part: {"type": "image_url", "image_url": {"url": part.data_url}},
        pdf=lambda part: {"type": "file", "file": {"filename": part.name, "file_data": part.data_url}},
    )


def chat_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Messages in Chat Completions shape (assistant ``tool_calls``, ``tool`` results)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": text_of(m.content)})
            continue
        item: dict[str, Any] = {"role": m.role, "content": chat_content(m.content)}
        if m.tool_calls:
            item["content"] = m.content or None
            item["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {
                        "name": c.name,
                        "arguments": c.arguments_raw
                        if c.arguments_raw is not None
                        else json.dumps(dict(c.arguments or {})),
                    },
                }
                for c in m.tool_calls
            ]
        out.append(item)
    return out


def chat_tools(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
        }
        for t in request.tools
    ]


def is_reasoning_model(model: str | None) -> bool:
    """Models that reject ``temperature`` (OpenAI o-series and gpt-5 family)."""
    m = (model or "").lower().rsplit("/", 1)[-1]
    return m.startswith(("o1", "o3", "o4", "gpt-5"))


class ChatCompletionsBackend(HttpBackend):
    """An OpenAI-style Chat Completions backend (see the module docstring)."""

    token_limit_field: ClassVar[str] = "max_tokens"
    chat_path: ClassVar[str] = "/chat/completions"
    workflow_transports: ClassVar[tuple[str, ...]] = ("tools", "json")
    # Images as ``image_url`` parts (data: URLs or http URLs) and text files as text; PDF ``file``
    # parts only where the provider takes them (OpenAI).
    accepts_parts: ClassVar[frozenset[str]] = frozenset({"image", "text"})
    accepts_urls: ClassVar[bool] = True
    # How ``Request.response_schema`` is sent: OpenAI's ``json_schema`` (OpenAI, vLLM, Ollama,
    # LM Studio, SGLang, llama-server) or ``json_object`` with ``schema`` (llama-cpp-python and
    # llama-server, which compile it to a grammar).
    json_format: ClassVar[str] = "json_schema"

    def extra_body(self, request: Request) -> dict[str, Any]:
        """Provider-specific body keys (Live Search, reasoning effort...)."""
        return {}

    def sends_temperature(self) -> bool:
        return True

    def streams(self) -> bool:
        """Whether to ask for a stream (``stream: false`` in config asks for one JSON answer)."""
        return self.config.stream is not False and getattr(self.options, "stream", True) is not False

    def response_format(self, schema: ResponseSchema, json_format: str | None = None) -> dict[str, Any]:
        if (json_format or self.json_format) == "json_object":
            return {"type": "json_object", "schema": dict(schema.schema)}
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.name, "schema": dict(schema.schema), "strict": False},
        }

    def build_http_request(self, request: Request) -> HttpCall:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            body["tools"] = chat_tools(request)
            body["tool_choice"] = request.tool_choice
        if request.response_schema is not None:
            body["response_format"] = self.response_format(request.response_schema)
        if self.config.temperature is not None and self.sends_temperature():
            body["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            body[self.token_limit_field] = self.config.max_tokens
        body.update(self.extra_body(request))
        if not self.streams():
            body["stream"] = False
            body.pop("stream_options", None)
        return HttpCall(path=self.chat_path, json=body, stream=bool(body.get("stream", True)))

    def inband_error(self, payload: Mapping[str, Any]) -> BackendError:
        err = payload.get("error")
        if not isinstance(err, Mapping):
            err = {"message": str(err)}
        raw_code = err.get("status_code", err.get("code"))
        status = raw_code if isinstance(raw_code, int) else None
        code = err.get("code")
        message = err.get("message")
        cls = error_for_status(status, err.get("type"), str(code) if code is not None else None, message)
        return cls(
            str(message) if message is not None else json.dumps(dict(err))[:300],
            context=self.error_context,
            status=status,
            code=str(code) if code is not None else err.get("type"),
        )

    async def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        state = _ChatState()
        async for event in events:
            data = event.data
            if data.strip() == "[DONE]":
                state.done = True
                break
            if not data.strip():
                continue
            try:
                payload = json.loads(data)
            except ValueError:
                raise self.stream_error(f"malformed event: {data[:80]!r}") from None
            if not isinstance(payload, Mapping):
                raise self.stream_error(f"malformed event: {data[:80]!r}")
            if event.event == "error" or payload.get("error"):
                if payload.get("usage"):
                    yield UsageChunk(usage_from_openai(payload["usage"]))
                raise self.inband_error(payload)
            for chunk in state.feed(payload):
                yield chunk
        if not state.done and state.finish_reason is None:
            raise self.stream_error("the stream ended before the answer was complete")
        for chunk in state.finish():
            yield chunk

    def parse_body(self, data: Any) -> list[Chunk]:
        """A non-streamed ``chat.completion`` (or Ollama's compatible) answer."""
        if not isinstance(data, Mapping):
            raise self.stream_error("the answer is not a JSON object")
        if data.get("error"):
            raise self.inband_error(data)
        state = _ChatState()
        choices = data.get("choices") or []
        message = choices[0].get("message", {}) if choices else {}
        delta = {
            "content": message.get("content"),
            "reasoning_content": message.get("reasoning_content") or message.get("reasoning"),
            "refusal": message.get("refusal"),
            "tool_calls": [dict(tc, index=i) for i, tc in enumerate(message.get("tool_calls") or [])],
        }
        fake = {
            "model": data.get("model"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": choices[0].get("finish_reason") if choices else None}],
            "usage": data.get("usage"),
            "citations": data.get("citations"),
        }
        chunks = list(state.feed(fake))
        return chunks + list(state.finish())


class _ChatState:
    """What one chat stream has said so far."""

    def __init__(self) -> None:
        self.tools = ToolCallAssembler()
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.citations: list[Any] = []
        self.refusal: list[str] = []
        self.done = False

    def feed(self, payload: Mapping[str, Any]) -> list[Chunk]:
        out: list[Chunk] = []
        if payload.get("model"):
            self.model = payload["model"]
        if payload.get("usage"):
            self.usage = usage_from_openai(payload["usage"])
        if payload.get("citations"):
            self.citations = list(payload["citations"])
        for choice in payload.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                out.append(ReasoningDelta(reasoning))
            content = delta.get("content")
            if content:
                out.append(TextDelta(content))
            if delta.get("refusal"):
                self.refusal.append(delta["refusal"])
            for tc in delta.get("tool_calls") or []:
                fn = tc.get("function") or {}
                args = fn.get("arguments")
                if isinstance(args, Mapping):  # some local servers send an object
                    args = json.dumps(args)
                piece = self.tools.add(tc.get("index", 0), id=tc.get("id"), name=fn.get("name"), arguments=args)
                if piece is not None:
                    out.append(piece)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return out

    def finish(self) -> list[Chunk]:
        out: list[Chunk] = [ToolCallChunk(call) for call in self.tools.calls()]
        if self.refusal:
            out.append(BuiltinToolChunk(tool="refusal", status="completed", data={"text": "".join(self.refusal)}))
        if self.usage is not None:
            out.append(UsageChunk(self.usage))
        citations = tuple(c if isinstance(c, Mapping) else {"url": str(c)} for c in self.citations)
        out.append(Done(finish_reason=self.finish_reason, model=self.model, citations=citations))
        return out
