"""Every recorded Responses API stream, replayed in uneven pieces through the openai backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from massgen_openai import OpenAIBackend

from massgen_core.config.schema import BackendConfig
from massgen_core.testing import Response
from massgen_core.testing.collect import collect

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "provider-recordings" / "openai_responses"
CASES = sorted(p.name for p in RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else []


@pytest.mark.parametrize("case", CASES)
async def test_responses_recording_replays_to_its_expectation(case, server, shared_dir):
    path = shared_dir / "provider-recordings" / "openai_responses" / case
    expect = json.loads(path.with_suffix(".expect.json").read_text())["expected"]
    server.add("POST", "/v1/responses", Response.pieces(path.read_bytes(), sizes=(5, 41, 2, 17, 90, 9)))
    backend = OpenAIBackend(BackendConfig(type="openai", model="gpt-4o", api_key="sk-test-0000000000",
                                          base_url=server.url + "/v1", max_retries=0))
    got = await collect(backend)
    assert got["text"] == expect["text"]
    assert [(c.id, c.name, c.arguments, c.arguments_raw) for c in got["calls"]] == [
        (c["id"], c["name"], c["arguments"], c["arguments_raw"]) for c in expect["tool_calls"]
    ]
    assert (got["usage"].input_tokens, got["usage"].output_tokens) == (
        expect["usage"]["input_tokens"], expect["usage"]["output_tokens"])
    assert got["usage"].reasoning_tokens == expect["usage"].get("reasoning_tokens", 0)
    assert got["done"].finish_reason == expect["finish_reason"]
    assert got["done"].model == expect["model"]
