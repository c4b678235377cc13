"""Every recorded Chat Completions / OpenAI-compatible stream, replayed in uneven pieces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from massgen_core.config.schema import BackendConfig
from massgen_core.http import BackendError
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import Response
from massgen_core.testing.collect import collect

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "provider-recordings"
CASES = sorted(
    f"{folder}/{p.name}" for folder in ("openai_chat", "openai_compat") for p in (RECORDINGS / folder).glob("*")
    if not p.name.endswith(".expect.json")
) if RECORDINGS.is_dir() else []


class ReplayBackend(ChatCompletionsBackend):
    name = "replay"
    key_required = False


@pytest.mark.parametrize("case", CASES)
async def test_recording_replays_to_its_expectation(case, server, shared_dir):
    raw = (shared_dir / "provider-recordings" / case).read_bytes()
    expect = json.loads((shared_dir / "provider-recordings" / case).with_suffix(".expect.json").read_text())["expected"]
    streamed = case.endswith(".sse")
    if streamed:
        server.add("POST", "/v1/chat/completions", Response.pieces(raw, sizes=(11, 3, 37, 5, 64, 1, 19)))
    else:
        server.add("POST", "/v1/chat/completions", Response.json(json.loads(raw)))
    backend = ReplayBackend(BackendConfig(type="replay", model="m", base_url=server.url + "/v1", max_retries=0), None)
    if not streamed:
        backend.build_http_request = _non_stream(backend.build_http_request)  # type: ignore[method-assign]
    if "error" in expect:
        with pytest.raises(BackendError) as info:
            await collect(backend)
        assert expect["error"]["message"] in str(info.value)
        return
    got = await collect(backend)
    assert got["text"] == expect["text"]
    assert [(c.name, c.arguments) for c in got["calls"]] == [
        (c["name"], c["arguments"]) for c in expect["tool_calls"]
    ]
    assert [c.id for c in got["calls"]] == [c["id"] for c in expect["tool_calls"]]
    assert (got["usage"].input_tokens, got["usage"].output_tokens) == (
        expect["usage"]["input_tokens"], expect["usage"]["output_tokens"])
    assert got["usage"].reasoning_tokens == expect["usage"].get("reasoning_tokens", 0)
    assert got["done"].finish_reason == expect["finish_reason"]
    assert got["done"].model == expect["model"]
    if "reasoning_text" in expect:
        assert got["reasoning"] == expect["reasoning_text"]
    else:
        assert got["reasoning"] == ""


def _non_stream(build):
    import attrs

    def wrapped(request):
        call = build(request)
        return attrs.evolve(call, stream=False, json={**call.json, "stream": False})

    return wrapped
