"""Fake OpenAI-style servers: Chat Completions and Responses API wire bodies.

Builders return ``Response`` objects for ``FakeServer`` routes, in the shapes
the real APIs send (``chat.completion.chunk`` SSE with ``[DONE]``; Responses
``event:``/``data:`` pairs ending in ``response.completed``; error bodies
``{"error": {message, type, code}}``). ``openai_server()`` starts a server
with ``/v1/models`` answered. Used by the openai, grok and compatible plugin
tests and the benchmarks; nothing here talks to a real provider.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from massgen_core.testing.server import FakeServer, Response

CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"
MODELS_PATH = "/v1/models"

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_denied", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
}


def error_body(status: int, message: str | None = None, *, type: str | None = None, code: str | None = None) -> dict[str, Any]:
    etype, ecode = ERROR_TYPES.get(status, ("server_error", None))
    return {
        "error": {
            "message": message or f"fake error {status}",
            "type": type or etype,
            "param": None,
            "code": code if code is not None else ecode,
        }
    }


def error_response(status: int, message: str | None = None, *, retry_after: str | None = None, **kw: Any) -> Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Response.json(error_body(status, message, **kw), status=status, headers=headers)


def chat_chunk(delta: Mapping[str, Any] | None = None, *, finish_reason: str | None = None,
               model: str = "gpt-4o-mini", usage: Mapping[str, Any] | None = None, choices: bool = True) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": dict(delta or {}), "logprobs": None, "finish_reason": finish_reason}]
        if choices
        else [],
    }
    if usage is not None:
        chunk["usage"] = dict(usage)
    return chunk


def chat_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def chat_events(
    text_pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[tuple[str, str, Sequence[str]]] = (),  # (id, name, argument fragments)
    reasoning_pieces: Sequence[str] = (),
    usage: tuple[int, int] | None = (10, 5),
    model: str = "gpt-4o-mini",
    finish_reason: str | None = None,
    done: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The events of one streamed Chat Completions answer."""
    events: list[Any] = [chat_chunk({"role": "assistant", "content": ""}, model=model)]
    events += [chat_chunk({"reasoning_content": r}, model=model) for r in reasoning_pieces]
    events += [chat_chunk({"content": t}, model=model) for t in text_pieces]
    for index, (call_id, name, fragments) in enumerate(tool_calls):
        events.append(chat_chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                                  "function": {"name": name, "arguments": ""}}]}, model=model))
        events += [
            chat_chunk({"tool_calls": [{"index": index, "function": {"arguments": f}}]}, model=model)
            for f in fragments
        ]
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    events.append(chat_chunk({}, finish_reason=reason, model=model))
    if usage is not None:
        events.append(chat_chunk(model=model, usage=chat_usage(*usage), choices=False))
    if extra:
        events[-1] = {**events[-1], **extra}
    if done:
        events.append("[DONE]")
    return events


def chat_stream(text_pieces: Sequence[str] = (), **kw: Any) -> Response:
    resp_kw = {k: kw.pop(k) for k in ("chunk_delay", "first_byte_delay", "cut_off", "piece_sizes") if k in kw}
    return Response.sse(chat_events(text_pieces, **kw), **resp_kw)


def chat_completion(text: str, *, model: str = "gpt-4o-mini", usage: tuple[int, int] = (10, 5),
                    tool_calls: Sequence[tuple[str, str, str]] = ()) -> Response:
    """A non-streamed ``chat.completion`` answer."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in tool_calls
        ]
    return Response.json({
        "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": chat_usage(*usage),
    })


def responses_events(
    text_pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[tuple[str, str, Sequence[str]]] = (),  # (call_id, name, argument fragments)
    reasoning_pieces: Sequence[str] = (),
    usage: tuple[int, int] = (10, 5),
    model: str = "gpt-4o-mini",
    status: str = "completed",
) -> list[Any]:
    """The events of one streamed Responses API answer."""
    resp = {"id": "resp_fake", "object": "response", "model": model, "status": "in_progress", "output": []}
    events: list[Any] = [("response.created", {"type": "response.created", "response": resp})]
    out_index = 0
    if reasoning_pieces:
        events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                                      "item": {"id": "rs_1", "type": "reasoning", "summary": []}}))
        for piece in reasoning_pieces:
            events.append(("response.reasoning_summary_text.delta",
                           {"type": "response.reasoning_summary_text.delta", "item_id": "rs_1",
                            "output_index": 0, "summary_index": 0, "delta": piece}))
        out_index += 1
    if text_pieces:
        events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": out_index,
                                                      "item": {"id": "msg_1", "type": "message", "role": "assistant",
                                                               "content": []}}))
        for piece in text_pieces:
            events.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_1",
                                                          "output_index": out_index, "content_index": 0,
                                                          "delta": piece}))
        events.append(("response.output_text.done", {"type": "response.output_text.done", "item_id": "msg_1",
                                                     "output_index": out_index, "content_index": 0,
                                                     "text": "".join(text_pieces)}))
        out_index += 1
    for call_id, name, fragments in tool_calls:
        item_id = f"fc_{call_id}"
        item = {"id": item_id, "type": "function_call", "call_id": call_id, "name": name, "arguments": "",
                "status": "in_progress"}
        events.append(("response.output_item.added", {"type": "response.output_item.added",
                                                      "output_index": out_index, "item": item}))
        for f in fragments:
            events.append(("response.function_call_arguments.delta",
                           {"type": "response.function_call_arguments.delta", "item_id": item_id,
                            "output_index": out_index, "delta": f}))
        events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": out_index,
                                                     "item": {**item, "arguments": "".join(fragments),
                                                              "status": "completed"}}))
        out_index += 1
    final = {**resp, "status": status, "usage": {
        "input_tokens": usage[0], "output_tokens": usage[1], "total_tokens": sum(usage),
        "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}
    events.append((f"response.{status}", {"type": f"response.{status}", "response": final}))
    return events


def responses_stream(text_pieces: Sequence[str] = (), **kw: Any) -> Response:
    resp_kw = {k: kw.pop(k) for k in ("chunk_delay", "first_byte_delay", "cut_off", "piece_sizes") if k in kw}
    return Response.sse(responses_events(text_pieces, **kw), **resp_kw)


def models_response(models: Iterable[str] = ("gpt-4o-mini",)) -> Response:
    return Response.json({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in models]})


def openai_server(models: Iterable[str] = ("gpt-4o-mini",)) -> FakeServer:
    """A started server answering ``GET /v1/models``; add chat/responses routes to it. Stop it when done."""
    server = FakeServer().start()
    server.add("GET", MODELS_PATH, models_response(models))
    return server


def dumps(events: Iterable[Any]) -> str:
    return json.dumps(list(events))


def _tool_names_chat(body: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for t in body.get("tools") or []:
        fn = t.get("function", t)
        if fn.get("name"):
            out[fn["name"]] = fn.get("parameters") or {}
    return out


def _arguments_for(parameters: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, schema in (parameters.get("properties") or {}).items():
        if schema.get("enum"):
            args[name] = schema["enum"][0]
        else:
            args[name] = f"fake {name}"
    return args


def coordination_handler(api: str = "chat", *, answer: str = "The answer is 42.", fragments: int = 4,
                         chunk_delay: float = 0.0, usage: Any = None) -> Any:
    """A route handler playing a cooperative agent in a MassGen session.

    With a ``vote`` tool offered and answers already on the table it votes for
    the first label; with ``new_answer`` offered it answers; with no tools
    (the final presentation) it streams ``answer`` as text. Tool arguments
    are sent in ``fragments`` pieces. ``api`` is ``chat`` or ``responses``.
    ``usage(body, output)`` (the request body, the text or arguments sent)
    gives the (prompt, completion) tokens billed; by default (10, 5).
    """

    def handler(request: Any) -> Response:
        body = request.json()
        tools = _tool_names_chat(body)
        text_blob = json.dumps(body.get("messages") or body.get("input") or [])
        model = body.get("model") or "fake-model"
        call: tuple[str, dict[str, Any]] | None = None
        if "vote" in tools and "no answers available yet" not in text_blob:
            call = ("vote", _arguments_for(tools["vote"]))
        elif "new_answer" in tools:
            call = ("new_answer", {"content": answer})
        pieces = [answer[i::1] for i in range(0)] or [answer[: len(answer) // 2], answer[len(answer) // 2 :]]
        raw = answer if call is None else json.dumps(call[1])
        billed = (10, 5) if usage is None else tuple(usage(body, raw))
        if call is None:
            build = chat_events if api == "chat" else responses_events
            return Response.sse(build(pieces, model=model, usage=billed), chunk_delay=chunk_delay)
        step = max(1, len(raw) // max(1, fragments))
        frags = [raw[i : i + step] for i in range(0, len(raw), step)]
        if api == "chat":
            return Response.sse(chat_events([], tool_calls=[("call_1", call[0], frags)], model=model, usage=billed),
                                chunk_delay=chunk_delay)
        return Response.sse(responses_events([], tool_calls=[("call_1", call[0], frags)], model=model, usage=billed),
                            chunk_delay=chunk_delay)

    return handler
