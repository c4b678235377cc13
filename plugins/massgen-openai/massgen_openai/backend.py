"""The ``openai`` backend: OpenAI, through the Responses API (default) or Chat Completions.

``type: openai`` serves ``gpt-*``, ``o1*``, ``o3*``, ``o4*`` and ``chatgpt-*``.
With ``api: responses`` (the default) requests go to ``POST /responses`` with
function tools, ``function_call_output`` items for tool results, reasoning
summaries, ``web_search`` and ``code_interpreter`` tools; with
``api: chat_completions`` they go through the shared Chat Completions wire
format. Parameters a model family rejects (``temperature`` for o-series and
gpt-5) are left out. Retries, keys, pooling and errors come from
``massgen_core.http``; this module only speaks OpenAI's formats.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from massgen_core.backend import (
    BuiltinToolChunk,
    Chunk,
    Done,
    ReasoningDelta,
    Request,
    TextDelta,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from massgen_core.content import Content, render_parts, text_of
from massgen_core.http.assembly import ToolCallAssembler
from massgen_core.http.base import HttpCall
from massgen_core.http.errors import BackendError, error_for_status
from massgen_core.http.openai_chat import ChatCompletionsBackend, is_reasoning_model
from massgen_core.http.pricing import Price, usage_from_openai
from massgen_openai.options import OpenAIOptions

if TYPE_CHECKING:  # httpx-sse loads only when a stream is read (see massgen_core/http/__init__.py)
    from massgen_core.http.sse import ServerSentEvent

PRICES: dict[str, Price] = {
    "gpt-4o*": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini*": Price(0.15, 0.60, 0.075),
    "gpt-4.1*": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini*": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano*": Price(0.10, 0.40, 0.025),
    "gpt-5*": Price(1.25, 10.00, 0.125),
    "gpt-5-mini*": Price(0.25, 2.00, 0.025),
    "gpt-5-nano*": Price(0.05, 0.40, 0.005),
    "o1*": Price(15.00, 60.00, 7.50),
    "o1-mini*": Price(1.10, 4.40, 0.55),
    "o3*": Price(2.00, 8.00, 0.50),
    "o3-mini*": Price(1.10, 4.40, 0.55),
    "o4-mini*": Price(1.10, 4.40, 0.275),
    "chatgpt-4o*": Price(5.00, 15.00),
}

BUILTIN_ITEMS = {"web_search_call": "web_search", "code_interpreter_call": "code_interpreter"}


async def _response_events(response: Mapping[str, Any]) -> AsyncIterator[Any]:
    """A complete ``response`` object as the output-item events that would have streamed it."""
    from massgen_core.http.sse import ServerSentEvent

    def event(kind: str, **data: Any) -> ServerSentEvent:
        return ServerSentEvent(event=kind, data=json.dumps({"type": kind, **data}))

    for item in response.get("output") or []:
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    yield event("response.output_text.delta", delta=part.get("text", ""))
                elif part.get("type") == "refusal":
                    yield event("response.refusal.delta", delta=part.get("refusal", ""))
        elif item.get("type") == "reasoning":
            for part in item.get("summary") or []:
                yield event("response.reasoning_summary_text.delta", delta=part.get("text", ""))
        else:
            yield event("response.output_item.done", item=item)
    status = response.get("status")
    kind = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(status or "", "response.completed")
    yield event(kind, response=dict(response))


def _collect(chunks: AsyncIterator[Chunk]) -> list[Chunk]:
    """Run an async chunk parser over in-memory events to the end (nothing in it awaits I/O)."""
    out: list[Chunk] = []
    iterator = chunks.__aiter__()
    while True:
        try:
            iterator.__anext__().send(None)  # type: ignore[attr-defined]  # an async generator's step is a coroutine
        except StopIteration as stop:
            out.append(stop.value)
        except StopAsyncIteration:
            return out


def responses_content(content: Content) -> str | list[dict[str, Any]]:
    """A message's content for the Responses API: ``input_text``, ``input_image`` and ``input_file`` (PDF) parts."""
    if isinstance(content, str):
        return content
    return render_parts(
        content,
        text=lambda text: {"type": "input_text", "text": text},
        image=lambda part: {"type": "input_image", "image_url": part.data_url},
        pdf=lambda part: {"type": "input_file", "filename": part.name, "file_data": part.data_url},
    )


class OpenAIBackend(ChatCompletionsBackend):
    name: ClassVar[str] = "openai"
    required_keys: ClassVar[tuple[str, ...]] = ("model",)
    model_patterns: ClassVar[tuple[str, ...]] = ("gpt-*", "o1*", "o3*", "o4*", "chatgpt-*")
    Options = OpenAIOptions
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    description: ClassVar[str] = "OpenAI (Responses API; api: chat_completions for Chat Completions)"
    price_table = PRICES
    token_limit_field: ClassVar[str] = "max_completion_tokens"
    accepts_parts: ClassVar[frozenset[str]] = frozenset({"image", "pdf", "text"})
    text_only_models: ClassVar[tuple[str, ...]] = ("gpt-3.5*", "o1-mini*", "o1-preview*", "o3-mini*")

    def sends_temperature(self) -> bool:
        return not is_reasoning_model(self.model)

    # -- Chat Completions flavour ------------------------------------------------

    def extra_body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {}
        reasoning = self.options.reasoning or {}
        if reasoning.get("effort") and is_reasoning_model(self.model):
            body["reasoning_effort"] = reasoning["effort"]
        if (self.options.text or {}).get("verbosity"):
            body["verbosity"] = self.options.text["verbosity"]
        if self.options.enable_web_search:
            body["web_search_options"] = {}
        if self.options.parallel_tool_calls is not None and request.tools:
            body["parallel_tool_calls"] = self.options.parallel_tool_calls
        return body

    # -- Responses API -------------------------------------------------------

    @property
    def uses_responses(self) -> bool:
        return self.options.api == "responses"

    def build_http_request(self, request: Request) -> HttpCall:
        if not self.uses_responses:
            return super().build_http_request(request)
        instructions = [text_of(m.content) for m in request.messages if m.role == "system" and m.content]
        items: list[dict[str, Any]] = []
        for m in request.messages:
            if m.role == "system":
                continue
            if m.role == "tool":
                items.append({"type": "function_call_output", "call_id": m.tool_call_id or "", "output": text_of(m.content)})
                continue
            if m.content or not m.tool_calls:
                items.append({"role": m.role, "content": responses_content(m.content)})
            for c in m.tool_calls:
                args = c.arguments_raw if c.arguments_raw is not None else json.dumps(dict(c.arguments or {}))
                items.append({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": args})
        body: dict[str, Any] = {"model": self.model, "input": items, "stream": self.streams()}
        if instructions:
            body["instructions"] = "\n\n".join(instructions)
        tools: list[dict[str, Any]] = [
            {"type": "function", "name": t.name, "description": t.description, "parameters": dict(t.parameters)}
            for t in request.tools
        ]
        if self.options.enable_web_search:
            tools.append({"type": "web_search"})
        if self.options.enable_code_interpreter:
            tools.append({"type": "code_interpreter", "container": {"type": "auto"}})
        if tools:
            body["tools"] = tools
            body["tool_choice"] = request.tool_choice
        if self.config.temperature is not None and self.sends_temperature():
            body["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            body["max_output_tokens"] = self.config.max_tokens
        if self.options.text:
            body["text"] = dict(self.options.text)
        if request.response_schema is not None:  # structured output (the json workflow transport)
            schema = request.response_schema
            body["text"] = {
                **body.get("text", {}),
                "format": {"type": "json_schema", "name": schema.name, "schema": dict(schema.schema), "strict": False},
            }
        if is_reasoning_model(self.model):
            reasoning = {"summary": "auto", **dict(self.options.reasoning or {})}
            body["reasoning"] = reasoning
        if self.options.store is not None:
            body["store"] = self.options.store
        if self.options.parallel_tool_calls is not None and request.tools:
            body["parallel_tool_calls"] = self.options.parallel_tool_calls
        return HttpCall(path="/responses", json=body, stream=body["stream"])

    def parse_body(self, data: Any) -> list[Chunk]:
        """A complete answer: a Chat Completion, or a Responses ``response`` object replayed as its events."""
        if not self.uses_responses:
            return super().parse_body(data)
        if not isinstance(data, Mapping):
            raise self.stream_error("the answer is not a JSON object")
        if data.get("error") and data.get("status") != "failed":
            raise self._response_error(data["error"])
        return _collect(self._parse_responses(_response_events(data)))

    def parse_events(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        if not self.uses_responses:
            return super().parse_events(events)
        return self._parse_responses(events)

    def _response_error(self, err: Mapping[str, Any] | None, status: int | None = None) -> BackendError:
        err = err or {}
        code = err.get("code")
        message = err.get("message") or "the response failed"
        cls = error_for_status(status, err.get("type"), str(code) if code else None, message)
        return cls(str(message), context=self.error_context, status=status, code=str(code) if code else None)

    async def _parse_responses(self, events: AsyncIterator[ServerSentEvent]) -> AsyncIterator[Chunk]:
        tools = ToolCallAssembler()
        usage: Usage | None = None
        model: str | None = None
        finish: str | None = None
        refusal: list[str] = []
        async for event in events:
            if not event.data.strip():
                continue
            try:
                data = json.loads(event.data)
            except ValueError:
                raise self.stream_error(f"malformed event: {event.data[:80]!r}") from None
            if not isinstance(data, Mapping):
                raise self.stream_error(f"malformed event: {event.data[:80]!r}")
            kind = data.get("type") or event.event
            if kind == "response.output_text.delta":
                yield TextDelta(data.get("delta", ""))
            elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
                yield ReasoningDelta(data.get("delta", ""))
            elif kind == "response.refusal.delta":
                refusal.append(data.get("delta", ""))
            elif kind == "response.function_call_arguments.delta":
                piece = tools.add(data.get("item_id"), arguments=data.get("delta", ""))
                if piece is not None:
                    yield piece
            elif kind == "response.function_call_arguments.done":
                tools.set_arguments(data.get("item_id"), data.get("arguments", ""))
            elif kind in ("response.output_item.added", "response.output_item.done"):
                item = data.get("item") or {}
                itype = item.get("type")
                if itype == "function_call":
                    tools.add(item.get("id") or item.get("call_id"), id=item.get("call_id"), name=item.get("name"))
                    if kind.endswith(".done") and item.get("arguments") is not None:
                        tools.set_arguments(item.get("id") or item.get("call_id"), item["arguments"])
                elif itype in BUILTIN_ITEMS:
                    status = "started" if kind.endswith(".added") else item.get("status", "completed")
                    payload = {k: v for k, v in item.items() if k in ("id", "action", "code", "outputs", "status")}
                    yield BuiltinToolChunk(tool=BUILTIN_ITEMS[itype], status=status, data=payload)
            elif kind in ("response.created", "response.in_progress"):
                model = (data.get("response") or {}).get("model") or model
            elif kind in ("response.completed", "response.incomplete"):
                resp = data.get("response") or {}
                model = resp.get("model") or model
                usage = usage_from_openai(resp.get("usage"))
                if kind == "response.completed":
                    finish = resp.get("status") or "completed"
                else:
                    finish = (resp.get("incomplete_details") or {}).get("reason") or "incomplete"
                break
            elif kind == "response.failed":
                resp = data.get("response") or {}
                if resp.get("usage"):
                    yield UsageChunk(usage_from_openai(resp["usage"]))
                raise self._response_error(resp.get("error"))
            elif kind == "error":
                raise self._response_error(data.get("error") if isinstance(data.get("error"), Mapping) else data)
        if finish is None:
            raise self.stream_error("the stream ended before response.completed")
        for call in tools.calls():
            yield ToolCallChunk(call)
        if refusal:
            yield BuiltinToolChunk(tool="refusal", status="completed", data={"text": "".join(refusal)})
        if usage is not None:
            yield UsageChunk(usage)
        yield Done(finish_reason=finish, model=model)
