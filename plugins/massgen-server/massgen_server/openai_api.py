"""The OpenAI-compatible part of ``massgen serve``: ``POST /v1/chat/completions`` and ``GET /v1/models``.

A client that speaks the OpenAI API (the official SDKs, LibreChat, Open WebUI,
LangChain...) asks a *team* as if it were a model: ``model`` names one of the
server's teams (``GET /v1/models`` lists them), the ``messages`` become the
conversation (earlier user/assistant pairs are the history, the last user
message is the question, system messages instruct every agent; ``image_url``
parts (data: or http(s) URLs) and ``file`` parts (base64 ``file_data``) of the
user messages go to every agent as attachments, typed from their bytes), and the
winner's final answer comes back as the assistant message — in one
``chat.completion`` body, or streamed as ``chat.completion.chunk`` events
ending with ``data: [DONE]`` (with a usage chunk when
``stream_options.include_usage`` asks). Errors use OpenAI's error shape and
status codes. Coordination is visible to clients that ask for it and to no
other: the ``massgen`` field of a completion (winner, votes, how it ended,
cost), and with the ``X-MassGen-Events: 1`` header every event as an extra
chunk with no choices and a ``massgen_event`` field. Nothing here binds a
socket or reads a config file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from massgen_core.events import (
    FinalAnswerDelta,
    SessionFinished,
    UsageReported,
    VoteCast,
    event_to_dict,
)

if TYPE_CHECKING:
    from massgen_core.content import Attachment

# Fields OpenAI's API defines that a team has no use for: accepted and ignored, so that clients
# which always send them work. Anything else is refused with the field's name.
IGNORED_FIELDS = frozenset({
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty",
    "logit_bias", "user", "seed", "stop", "metadata", "store", "parallel_tool_calls", "service_tier",
    "logprobs", "top_logprobs", "reasoning_effort", "response_format", "modalities", "prediction",
})
KNOWN_FIELDS = IGNORED_FIELDS | {"model", "messages", "stream", "stream_options", "n"}


class ChatError(Exception):
    """A request the endpoint refuses, with OpenAI's status, type, param and code."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}},
            status_code=self.status, headers=self.headers,
        )


@attrs.frozen(kw_only=True)
class ChatRequest:
    model: str
    question: str
    history: tuple[tuple[str, str], ...]
    system: str | None
    stream: bool
    include_usage: bool
    attachments: tuple[Attachment, ...] = ()  # the image_url and file parts of the user messages


def _bad_part(index: int, message: str, code: str | None = None) -> ChatError:
    return ChatError(400, f"messages[{index}].content: {message}", param=f"messages[{index}].content", code=code)


def _data_url(url: str, index: int, name: str, expect_image: bool) -> Attachment:
    """An attachment from a ``data:<type>;base64,...`` URL, typed and size-checked from its bytes."""
    import base64
    import binascii

    from massgen_core.content import AttachmentError, from_bytes

    head, _, payload = url.partition(",")
    if not head.endswith(";base64"):
        raise _bad_part(index, f"{name}: a data: URL must be base64 (data:<type>;base64,...)")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_part(index, f"{name}: the data: URL is not valid base64") from None
    try:
        attachment = from_bytes(data, name=name)
    except AttachmentError as exc:
        raise _bad_part(index, str(exc), code="unsupported_content") from None
    if expect_image and attachment.kind != "image":
        raise _bad_part(index, f"{name}: an image_url part must hold a PNG, JPEG, GIF or WebP image",
                        code="unsupported_content")
    return attachment


def _attachment(part: Mapping[str, Any], index: int, number: int) -> Attachment:
    """An ``image_url`` part (a data: or http(s) URL) or a ``file`` part (base64 ``file_data``)."""
    from massgen_core.content import AttachmentError, is_url, url_attachment

    if part["type"] == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str):
            raise _bad_part(index, "an image_url part needs image_url.url (a data: or https: URL)")
        if is_url(url):
            try:
                return url_attachment(url)
            except AttachmentError as exc:  # no host, spaces, a non-image file: the client's mistake
                raise _bad_part(index, str(exc), code="unsupported_content") from None
        if url.startswith("data:"):
            return _data_url(url, index, f"image{number}", expect_image=True)
        raise _bad_part(index, "image_url.url must be a data: URL or an http(s) URL", code="unsupported_content")
    file = part.get("file")
    file = file if isinstance(file, Mapping) else {}
    data = file.get("file_data")
    if not isinstance(data, str) or not data.startswith("data:"):
        raise _bad_part(index, "a file part needs file.file_data as a data: URL (file ids are not supported)",
                        code="unsupported_content")
    name = file["filename"] if isinstance(file.get("filename"), str) else f"file{number}"
    return _data_url(data, index, name, expect_image=False)


def _content(content: Any, index: int, attachments: list[Attachment] | None) -> str:
    """A message's text: a string, or the text parts of a content list; its image and file parts
    go to ``attachments`` (None: this message may hold text only)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or "type" not in part:
                raise _bad_part(index, "each part must be an object with a type")
            if part["type"] in ("image_url", "file"):
                if attachments is None:
                    raise _bad_part(index, f"{part['type']!r} parts are taken in user messages only",
                                    code="unsupported_content")
                attachments.append(_attachment(part, index, len(attachments) + 1))
                continue
            if part["type"] != "text":
                raise _bad_part(index, f"{part['type']!r} parts are not supported; send text, image_url or file parts",
                                code="unsupported_content")
            if not isinstance(part.get("text"), str):
                raise _bad_part(index, "a text part needs a string 'text'")
            texts.append(part["text"])
        return "\n".join(texts)
    if content is None:
        return ""
    raise ChatError(400, f"messages[{index}].content must be a string or a list of parts",
                    param=f"messages[{index}].content")


def parse_chat_request(data: Any) -> ChatRequest:
    """The validated request; ``ChatError`` (400) naming the field otherwise."""
    if not isinstance(data, Mapping):
        raise ChatError(400, "the body must be a JSON object")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise ChatError(400, f"unsupported field(s): {', '.join(unknown)}", param=unknown[0])
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise ChatError(400, "'model' is required: the name of one of this server's teams (GET /v1/models)",
                        param="model")
    if data.get("n", 1) != 1:
        raise ChatError(400, "only n=1 is supported: a team gives one final answer", param="n")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ChatError(400, "'messages' must be a non-empty list", param="messages")
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    attachments: list[Attachment] = []  # of every user message: they stay with the conversation
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise ChatError(400, f"messages[{i}] must be an object", param=f"messages[{i}]")
        role = message.get("role")
        text = _content(message.get("content"), i, attachments if role == "user" else None)
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            turns.append((role, text))
        else:
            raise ChatError(400, f"messages[{i}].role {role!r} is not supported (system, user, assistant)",
                            param=f"messages[{i}].role")
    if not turns or turns[-1][0] != "user":
        raise ChatError(400, "the last message must be the user's question", param="messages")
    question = turns[-1][1]
    if not question.strip():
        raise ChatError(400, "the question (the last user message) is empty", param="messages")
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            if pending is not None:  # two user messages in a row: one question
                pending = f"{pending}\n{text}"
            else:
                pending = text
        else:
            history.append((pending or "", text))
            pending = None
    if pending is not None:
        question = f"{pending}\n{question}"
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise ChatError(400, "'stream' must be true or false", param="stream")
    options = data.get("stream_options") or {}
    if not isinstance(options, Mapping):
        raise ChatError(400, "'stream_options' must be an object", param="stream_options")
    return ChatRequest(model=model, question=question, history=tuple(history),
                       system="\n\n".join(system) if system else None, stream=stream,
                       include_usage=bool(options.get("include_usage", False)), attachments=tuple(attachments))


def usage_of(finished: SessionFinished | None) -> dict[str, Any]:
    usage = dict(finished.usage) if finished is not None else {}
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": int(usage.get("cached_tokens", 0))},
        "completion_tokens_details": {"reasoning_tokens": int(usage.get("reasoning_tokens", 0))},
    }


def coordination(finished: SessionFinished, votes: list[dict[str, str]], conversation_id: str | None) -> dict[str, Any]:
    """The ``massgen`` extra field: how the team reached the answer."""
    return {"winner": finished.winner, "ended_by": finished.ended_by, "votes": votes,
            "cost_usd": finished.cost_usd, "duration_s": finished.duration_s, "session_id": finished.session_id,
            "conversation_id": conversation_id}


class Completion:
    """One chat completion: runs the team's turn and shapes it as OpenAI's objects."""

    def __init__(self, team: Any, request: ChatRequest, *, events: bool) -> None:
        self.team, self.request, self.events = team, request, events
        self.id = "chatcmpl-" + uuid.uuid4().hex
        self.created = int(time.time())
        self.votes: dict[str, dict[str, str]] = {}
        self.finished: SessionFinished | None = None

    def _watch(self, event: Any) -> None:
        if isinstance(event, VoteCast):
            self.votes[event.voter] = {"voter": event.voter, "target": event.target, "reason": event.reason}
        elif isinstance(event, SessionFinished):
            self.finished = event

    def _chunk(self, delta: Mapping[str, Any] | None, finish: str | None = None, **extra: Any) -> bytes:
        body: dict[str, Any] = {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                                "model": self.request.model, "system_fingerprint": None,
                                "choices": [] if delta is None else [
                                    {"index": 0, "delta": dict(delta), "logprobs": None, "finish_reason": finish}]}
        body.update(extra)
        return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"

    def _failure(self) -> ChatError:
        f = self.finished
        reason = (f.error or "no agent answered") if f is not None else "the session ended without a result"
        ended = f.ended_by if f is not None else "cancelled"
        return ChatError(502, f"the team produced no answer ({ended}): {reason}", type="server_error",
                         code="no_answer")

    async def body(self) -> dict[str, Any]:
        """The whole ``chat.completion`` (``ChatError`` when the team produced no answer)."""
        async for event in self.team.stream(self.request.question, history=self.request.history,
                                            attachments=self.request.attachments):
            self._watch(event)
        f = self.finished
        if f is None or f.final_answer is None:
            raise self._failure()
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.request.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f.final_answer, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage_of(f),
            "massgen": coordination(f, list(self.votes.values()), None),
        }

    async def chunks(self) -> AsyncIterator[bytes]:
        """The streamed answer: role, content deltas, the finish, usage if asked, ``[DONE]``."""
        yield self._chunk({"role": "assistant", "content": ""})
        streamed = False
        async for event in self.team.stream(self.request.question, history=self.request.history,
                                            attachments=self.request.attachments):
            self._watch(event)
            if self.events and not isinstance(event, FinalAnswerDelta | UsageReported):
                yield self._chunk(None, massgen_event=event_to_dict(event))
            if isinstance(event, FinalAnswerDelta) and event.text:
                streamed = True
                yield self._chunk({"content": event.text})
        f = self.finished
        if f is None or f.final_answer is None:
            error = self._failure()
            payload = {"error": {"message": error.message, "type": error.type, "param": None, "code": error.code}}
            yield b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"
        else:
            if not streamed:  # no presentation call (final_presentation: false): the answer in one piece
                yield self._chunk({"content": f.final_answer})
            yield self._chunk({}, "stop", massgen=coordination(f, list(self.votes.values()), None))
            if self.request.include_usage:
                yield self._chunk(None, usage=usage_of(f))
        yield b"data: [DONE]\n\n"


def models_body(names: list[str], created: int) -> dict[str, Any]:
    return {"object": "list",
            "data": [{"id": name, "object": "model", "created": created, "owned_by": "massgen"} for name in names]}


def stream_response(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(chunks, media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


async def with_heartbeat(chunks: AsyncIterator[bytes], interval_s: float) -> AsyncIterator[bytes]:
    """``chunks``, with an SSE comment (``: ping``) whenever nothing was sent for ``interval_s``.

    Proxies and clients close a stream that stays silent, and a team may think
    for minutes before the first word of its final answer.
    """
    iterator = chunks.__aiter__()
    pending: asyncio.Future[bytes] = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=interval_s)
            if not done:
                yield b": ping\n\n"
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
            pending = asyncio.ensure_future(iterator.__anext__())
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


# -- the endpoints (on the server's Api: its settings, plugin manager, session slots, metrics) -----


async def models(api: Any, request: Request) -> Response:
    if not api.authorized(request):
        return _unauthorized()
    return JSONResponse(models_body(api.team_names(), api.started))


def _unauthorized() -> Response:
    return ChatError(401, "this server needs an API token: send the header Authorization: Bearer <token>",
                     code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"}).response()


async def chat_completions(api: Any, request: Request) -> Response:
    from massgen_core.config.loader import apply_cli_overrides
    from massgen_core.errors import MassGenError
    from massgen_core.team import Team
    from massgen_server.body import BadRequest, loads_strict, read_capped

    if not api.authorized(request):
        return _unauthorized()
    raw = await read_capped(request, api.max_body_bytes)
    if raw is None:
        return ChatError(413, f"the body must be at most {api.max_body_bytes} bytes").response()
    try:
        chat = parse_chat_request(loads_strict(raw))
    except BadRequest as exc:
        return ChatError(400, str(exc)).response()
    except ChatError as exc:
        return exc.response()
    try:
        config = api.team_config(chat.model)
    except MassGenError as exc:
        return ChatError(503, f"the preset {chat.model!r} does not load: {exc}", type="server_error",
                         code="config_error").response()
    if config is None:
        return ChatError(404, f"the model {chat.model!r} does not exist: this server's teams are "
                         f"{', '.join(api.team_names())} (GET /v1/models)", param="model",
                         code="model_not_found").response()
    if chat.system:
        config = apply_cli_overrides(config, system_message=chat.system)
    if api.active >= api.settings.max_sessions:
        return ChatError(429, f"{api.active} sessions are running, the most this server runs at once; retry later",
                         type="requests", code="rate_limit_exceeded",
                         headers={"Retry-After": str(api.settings.retry_after_s)}).response()
    team = Team(config, manager=api.manager, record=api.settings.record, observers=[api.metrics.observe])
    try:
        team.preflight()
    except MassGenError as exc:
        return ChatError(503, str(exc), type="server_error", code="backend_unavailable").response()
    events = request.headers.get("x-massgen-events", "").strip().lower() in ("1", "true", "yes")
    completion = Completion(team, chat, events=events)
    api.active += 1
    if chat.stream:
        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in with_heartbeat(completion.chunks(), api.settings.heartbeat_s):
                    yield chunk
            finally:
                api.release()

        return stream_response(body())
    try:
        return JSONResponse(await completion.body())
    except ChatError as exc:
        return exc.response()
    finally:
        api.release()


__all__ = [
    "ChatError",
    "ChatRequest",
    "Completion",
    "chat_completions",
    "models",
    "models_body",
    "parse_chat_request",
    "stream_response",
    "with_heartbeat",
]
