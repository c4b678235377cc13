"""Building Anthropic Messages API requests from MassGen requests.

Owns the translation of a normalized
``Request`` into the JSON body and headers of ``POST /v1/messages``: system
messages become the top-level ``system``, tool results become ``tool_result``
blocks in a user message, function tools get ``input_schema``, and the server
tools (web search, code execution) are added when enabled. Attachments become
``image`` blocks (base64 or url source) and ``document`` blocks (PDF, text). Pure data: no I/O,
and the API key is never part of anything built here except the header map.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from massgen_claude.options import ClaudeOptions
from massgen_core.backend import Message, Request
from massgen_core.content import Content, TextPart, text_of

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 8192
WEB_SEARCH_TOOL = "web_search_20250305"
CODE_EXECUTION_TOOL = "code_execution_20250522"
CODE_EXECUTION_BETA = "code-execution-2025-05-22"
# Claude 3 models (not 3.5/3.7) cap output at 4096 tokens and reject a larger max_tokens.
_SMALL_OUTPUT_MODELS = ("claude-3-haiku", "claude-3-opus", "claude-3-sonnet")

_TOOL_CHOICE = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


def auth_headers(api_key: str | None) -> dict[str, str]:
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if api_key:
        headers["x-api-key"] = api_key
    return headers


def beta_headers(options: ClaudeOptions) -> dict[str, str]:
    """The ``anthropic-beta`` header the enabled features need (code execution is a beta)."""
    betas = list(options.anthropic_beta)
    if options.enable_code_execution and CODE_EXECUTION_BETA not in betas:
        betas.append(CODE_EXECUTION_BETA)
    return {"anthropic-beta": ",".join(betas)} if betas else {}


def default_max_tokens(model: str) -> int:
    return 4096 if model.lower().startswith(_SMALL_OUTPUT_MODELS) else DEFAULT_MAX_TOKENS


def build_body(
    request: Request,
    *,
    model: str,
    options: ClaudeOptions,
    max_tokens: int | None = None,
    temperature: float | None = None,
    replay: Mapping[str, list[dict[str, Any]]] | None = None,
    stream: bool = True,
) -> dict[str, Any]:
    """The JSON body of a Messages request (streaming unless ``stream`` is false).

    ``replay`` maps a tool-call id to the thinking blocks that preceded it, so
    extended thinking can continue across tool results as the API requires.
    """
    system = [text_of(m.content) for m in request.messages if m.role == "system" and m.content]
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens or default_max_tokens(model),
        "messages": convert_messages(request.messages, replay or {}),
        "stream": True,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if options.thinking_budget:
        # The API wants max_tokens above the budget, and thinking forbids temperature/top_k.
        body["thinking"] = {"type": "enabled", "budget_tokens": options.thinking_budget}
        if body["max_tokens"] <= options.thinking_budget:
            body["max_tokens"] = options.thinking_budget + DEFAULT_MAX_TOKENS
    else:
        if temperature is not None:
            body["temperature"] = temperature
        if options.top_k is not None:
            body["top_k"] = options.top_k
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.stop_sequences:
        body["stop_sequences"] = list(options.stop_sequences)
    tools = [
        {"name": t.name, "description": t.description, "input_schema": dict(t.parameters) or {"type": "object"}}
        for t in request.tools
    ]
    if options.enable_web_search:
        search: dict[str, Any] = {"type": WEB_SEARCH_TOOL, "name": "web_search"}
        if options.web_search_max_uses is not None:
            search["max_uses"] = options.web_search_max_uses
        tools.append(search)
    if options.enable_code_execution:
        tools.append({"type": CODE_EXECUTION_TOOL, "name": "code_execution"})
    schema = request.response_schema
    if schema is not None:  # structured output: one forced tool whose input is the reply
        tools.append(
            {"name": schema.name, "description": "Record your reply.", "input_schema": reply_tool_schema(schema.schema)}
        )
    if tools:
        body["tools"] = tools
        if schema is not None:
            # forced tool use is rejected with extended thinking
            body["tool_choice"] = {"type": "auto"} if options.thinking_budget else {"type": "tool", "name": schema.name}
        elif request.tools:
            choice = dict(_TOOL_CHOICE[request.tool_choice])
            if options.thinking_budget and choice["type"] == "any":
                choice = {"type": "auto"}  # forced tool use is rejected with extended thinking
            body["tool_choice"] = choice
    if not stream:
        body["stream"] = False
    return body


REPLY_KEY = "reply"


def reply_tool_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's ``input_schema`` must be an object: a schema of alternatives is wrapped in ``reply``."""
    if schema.get("type") == "object":
        return dict(schema)
    return {"type": "object", "properties": {REPLY_KEY: dict(schema)}, "required": [REPLY_KEY]}


def reply_text(schema: Mapping[str, Any], arguments: Mapping[str, Any] | None, raw: str | None) -> str:
    """The structured reply as JSON text, from the forced tool's input (unwrapped again)."""
    if arguments is None:
        return raw or ""
    if schema.get("type") != "object" and REPLY_KEY in arguments:
        return json.dumps(arguments[REPLY_KEY])
    return json.dumps(dict(arguments))


def message_events(message: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A complete (non-streamed) Message as the events that would have streamed it."""
    start = {key: value for key, value in message.items() if key not in ("content", "stop_reason")}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"message": {**start, "content": []}})]
    for index, block in enumerate(message.get("content") or []):
        block = dict(block)
        deltas: list[dict[str, Any]] = []
        if "input" in block:  # tool_use, server_tool_use: the input arrives as JSON pieces
            deltas.append({"type": "input_json_delta", "partial_json": json.dumps(block.pop("input"))})
        if block.get("signature"):
            deltas.append({"type": "signature_delta", "signature": block.pop("signature")})
        for citation in block.pop("citations", None) or ():
            deltas.append({"type": "citations_delta", "citation": citation})
        events.append(("content_block_start", {"index": index, "content_block": block}))
        events.extend(("content_block_delta", {"index": index, "delta": delta}) for delta in deltas)
        events.append(("content_block_stop", {"index": index}))
    events.append(
        ("message_delta", {"delta": {"stop_reason": message.get("stop_reason")}, "usage": message.get("usage") or {}})
    )
    events.append(("message_stop", {}))
    return [(name, {"type": name, **payload}) for name, payload in events]


def user_blocks(content: Content) -> list[dict[str, Any]]:
    """A user message's blocks: ``text``, ``image`` (base64 or url source) and ``document`` (PDF, text)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif part.url is not None:
            blocks.append({"type": "image", "source": {"type": "url", "url": part.url}})
        elif part.kind == "image":
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": part.media_type, "data": part.base64}})
        elif part.kind == "pdf":
            source = {"type": "base64", "media_type": "application/pdf", "data": part.base64}
            blocks.append({"type": "document", "source": source, "title": part.name})
        else:
            source = {"type": "text", "media_type": "text/plain", "data": part.text}
            blocks.append({"type": "document", "source": source, "title": part.name})
    return blocks


def convert_messages(
    messages: tuple[Message, ...], replay: Mapping[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Messages API turns: consecutive user-side content (text, tool results) shares one turn."""
    out: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for message in messages:
        if message.role == "system":
            continue
        if message.role == "user":
            add("user", user_blocks(message.content))
        elif message.role == "tool":
            add(
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.tool_call_id or "",
                        "content": text_of(message.content),
                    }
                ],
            )
        else:
            blocks: list[dict[str, Any]] = []
            for call in message.tool_calls[:1]:
                blocks.extend(replay.get(call.id, ()))
            if message.content:
                blocks.append({"type": "text", "text": text_of(message.content)})
            for call in message.tool_calls:
                blocks.append(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments or {})}
                )
            add("assistant", blocks)
    return out
