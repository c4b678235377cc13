"""Every recorded Gemini response (SSE with CRLF, and the JSON-array framing), served in small
uneven pieces, parses to what its sidecar expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from massgen_core.backend import Done
from massgen_core.testing.collect import collect as collect_summary
from massgen_core.testing.server import Response

RECORDINGS = Path(__file__).resolve().parents[3].parent / "shared" / "provider-recordings" / "gemini"
NAMES = sorted(p.name.removesuffix(".expect.json") for p in RECORDINGS.glob("*.expect.json"))
PIECES = [(13, 7, 29, 3, 61, 1, 17), (1,), (5, 2, 11)]


@pytest.fixture
def recording(shared_dir: Path, request: pytest.FixtureRequest) -> tuple[bytes, dict[str, Any]]:
    folder = shared_dir / "provider-recordings" / "gemini"
    expect = json.loads((folder / f"{request.param}.expect.json").read_text())
    body_file = folder / expect["provider_fixture"].split("/", 1)[1]
    return body_file.read_bytes(), expect


def test_every_gemini_recording_is_replayed(shared_dir: Path) -> None:
    """The parametrised replays below cover every sidecar in the folder (skips plainly without ../shared)."""
    on_disk = sorted(p.name.removesuffix(".expect.json") for p in (shared_dir / "provider-recordings" / "gemini").glob("*.expect.json"))
    assert NAMES == on_disk and len(on_disk) == 7


@pytest.mark.parametrize("sizes", PIECES, ids=["uneven", "bytewise", "small"])
@pytest.mark.parametrize("recording", NAMES, indirect=True)
async def test_recording_replays_to_its_expectation(
    recording: tuple[bytes, dict[str, Any]], sizes: tuple[int, ...], server: Any, make_backend: Any
) -> None:
    body, expect = recording
    expected = expect["expected"]
    json_array = expect["framing"] == "json_array"
    model = "gemini-2.5-flash"
    content_type = "application/json" if json_array else "text/event-stream"
    server.stream(model, Response.pieces(body, sizes, content_type=content_type))
    options = {"stream_format": "json_array"} if json_array else {}
    got = await collect_summary(make_backend(model=model, options=options))
    text, reasoning, calls, usage, done = (got[k] for k in ("text", "reasoning", "calls", "usage", "done"))
    assert got["chunks"][-1] is done  # the stream ends with Done

    assert text == expected["text"]
    assert reasoning == expected.get("reasoning_text", "")
    assert [(c.name, c.arguments) for c in calls] == [(t["name"], t["arguments"]) for t in expected["tool_calls"]]
    assert [c.id for c in calls if not c.id.startswith("gemini_call")] == [
        t["id"] for t in expected["tool_calls"] if t["id"]
    ]
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (
        expected["usage"]["input_tokens"],
        expected["usage"]["output_tokens"],
        expected["usage"].get("reasoning_tokens", 0),
    )
    assert isinstance(done, Done)
    assert (done.finish_reason, done.model) == (expected["finish_reason"], expected["model"])
    assert server.requests[-1].query.get("alt") == (None if json_array else ["sse"])
