"""Building Gemini ``streamGenerateContent`` requests from MassGen requests.

Owns the translation of a normalized
``Request`` into the JSON body: ``contents`` with roles user/model, system
messages as ``systemInstruction``, function tools as ``functionDeclarations``
(schemas reduced to the OpenAPI subset Gemini accepts), tool results as
``functionResponse`` parts, attachments as ``inline_data`` (base64) or
``file_data`` (a URL) parts, and ``googleSearch`` / ``codeExecution`` tools when
enabled. Pure data: no I/O, and the key is only ever put in the header map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from massgen_core.backend import Message, Request
from massgen_core.content import Content, TextPart, file_text_block, text_of
from massgen_gemini.options import GeminiOptions

CALL_ID_PREFIX = "gemini_call"  # ids we invent for calls Gemini sent without one

# The OpenAPI-subset keys Gemini's Schema accepts; anything else is rejected with 400.
_SCHEMA_KEYS = {
    "type", "format", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
    "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum", "title",
}


_MODE = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def auth_headers(api_key: str | None) -> dict[str, str]:
    return {"x-goog-api-key": api_key} if api_key else {}


def clean_schema(schema: Any) -> Any:
    """``schema`` reduced to what Gemini's function-declaration Schema accepts."""
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: clean_schema(sub) for name, sub in value.items()}
        elif key == "type" and isinstance(value, list):
            # JSON Schema ["string", "null"] is Gemini's type + nullable.
            kinds = [v for v in value if v != "null"]
            out["type"] = kinds[0] if kinds else "string"
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = clean_schema(value)
    return out


def build_body(
    request: Request,
    *,
    options: GeminiOptions,
    model: str = "",
    max_tokens: int | None = None,
    temperature: float | None = None,
    signatures: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON body of a ``streamGenerateContent`` request.

    ``signatures`` maps tool-call ids to the ``thoughtSignature`` Gemini sent
    with them; thinking models require it back when the call is replayed.
    """
    body: dict[str, Any] = {"contents": convert_messages(request.messages, signatures or {})}
    system = [text_of(m.content) for m in request.messages if m.role == "system" and m.content]
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    tools: list[dict[str, Any]] = []
    if request.tools:
        tools.append(
            {
                "functionDeclarations": [
                    _declaration(t.name, t.description, t.parameters) for t in request.tools
                ]
            }
        )
        body["toolConfig"] = {"functionCallingConfig": {"mode": _MODE[request.tool_choice]}}
    if options.enable_web_search:
        tools.append({"googleSearch": {}})
    if options.enable_code_execution:
        tools.append({"codeExecution": {}})
    if tools:
        body["tools"] = tools
    generation: dict[str, Any] = {}
    if temperature is not None:
        generation["temperature"] = temperature
    if max_tokens is not None:
        generation["maxOutputTokens"] = max_tokens
    if options.top_p is not None:
        generation["topP"] = options.top_p
    if options.top_k is not None:
        generation["topK"] = options.top_k
    if options.stop_sequences:
        generation["stopSequences"] = list(options.stop_sequences)
    if request.response_schema is not None:  # structured output (the json workflow transport)
        generation["responseMimeType"] = "application/json"
        generation["responseSchema"] = clean_schema(request.response_schema.schema)
    thinking: dict[str, Any] = {}
    if options.thinking_budget is not None:
        thinking["thinkingBudget"] = options.thinking_budget
    include = options.include_thoughts
    if include is None:
        include = thinks_by_default(model)
    if include and options.thinking_budget != 0:
        thinking["includeThoughts"] = True
    if thinking:
        generation["thinkingConfig"] = thinking
    if generation:
        body["generationConfig"] = generation
    if options.safety_settings:
        body["safetySettings"] = [dict(s) for s in options.safety_settings]
    return body


def thinks_by_default(model: str) -> bool:
    """Whether ``model`` is a thinking model; older ones reject a ``thinkingConfig`` outright."""
    name = model.lower().removeprefix("models/")
    return not name.startswith(("gemini-1.", "gemini-2.0", "gemini-pro", "gemini-exp"))


def _declaration(name: str, description: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": name, "description": description}
    schema = clean_schema(parameters)
    # An object with no properties is rejected; a function without parameters omits them.
    if schema and (schema.get("properties") or schema.get("type") not in (None, "object")):
        declaration["parameters"] = schema
    return declaration


def user_parts(content: Content) -> list[dict[str, Any]]:
    """A user turn's parts: ``text``, ``inline_data`` (base64 bytes) and ``file_data`` (a URL)."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif part.url is not None:
            file_data = {"file_uri": part.url}
            if part.media_type:
                file_data["mime_type"] = part.media_type
            parts.append({"file_data": file_data})
        elif part.kind == "text":
            parts.append({"text": file_text_block(part)})
        else:
            parts.append({"inline_data": {"mime_type": part.media_type, "data": part.base64}})
    return parts


def convert_messages(messages: tuple[Message, ...], signatures: Mapping[str, str]) -> list[dict[str, Any]]:
    """Gemini ``contents``: consecutive turns of one role share a content, tool results are user parts."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})

    for message in messages:
        if message.role == "system":
            continue
        if message.role == "user":
            add("user", user_parts(message.content))
        elif message.role == "tool":
            call_id = message.tool_call_id or ""
            response: dict[str, Any] = {
                "name": message.name or names.get(call_id, ""),
                "response": {"result": text_of(message.content)},
            }
            if call_id and not call_id.startswith(CALL_ID_PREFIX):
                response["id"] = call_id
            add("user", [{"functionResponse": response}])
        else:
            parts: list[dict[str, Any]] = [{"text": text_of(message.content)}] if message.content else []
            for call in message.tool_calls:
                names[call.id] = call.name
                function_call: dict[str, Any] = {"name": call.name, "args": dict(call.arguments or {})}
                if not call.id.startswith(CALL_ID_PREFIX):
                    function_call["id"] = call.id
                part: dict[str, Any] = {"functionCall": function_call}
                if call.id in signatures:
                    part["thoughtSignature"] = signatures[call.id]
                parts.append(part)
            add("model", parts)
    return out
