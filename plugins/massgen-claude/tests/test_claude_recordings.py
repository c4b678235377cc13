"""Every recorded Anthropic stream, served in small uneven pieces, parses to what its sidecar expects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from massgen_core.backend import Done
from massgen_core.testing.collect import collect as collect_summary
from massgen_core.testing.server import Response

RECORDINGS = Path(__file__).resolve().parents[3].parent / "shared" / "provider-recordings" / "anthropic"
NAMES = sorted(p.name.removesuffix(".expect.json") for p in RECORDINGS.glob("*.expect.json"))
PIECES = [(13, 7, 29, 3, 61, 1, 17), (1,), (5, 2, 11)]


@pytest.fixture
def recording(shared_dir: Path, request: pytest.FixtureRequest) -> tuple[bytes, dict[str, Any]]:
    folder = shared_dir / "provider-recordings" / "anthropic"
    name = request.param
    expect = json.loads((folder / f"{name}.expect.json").read_text())
    return (folder / f"{name}.sse").read_bytes(), expect["expected"]


def test_every_anthropic_recording_is_replayed(shared_dir: Path) -> None:
    """The parametrised replays below cover every sidecar in the folder (skips plainly without ../shared)."""
    on_disk = sorted(p.name.removesuffix(".expect.json") for p in (shared_dir / "provider-recordings" / "anthropic").glob("*.expect.json"))
    assert NAMES == on_disk and len(on_disk) == 5


@pytest.mark.parametrize("sizes", PIECES, ids=["uneven", "bytewise", "small"])
@pytest.mark.parametrize("recording", NAMES, indirect=True)
async def test_recording_replays_to_its_expectation(
    recording: tuple[bytes, dict[str, Any]], sizes: tuple[int, ...], server: Any, make_backend: Any
) -> None:
    body, expected = recording
    server.messages(Response.pieces(body, sizes))
    got = await collect_summary(make_backend(model=expected["model"]))
    text, reasoning, calls, usage, done = (got[k] for k in ("text", "reasoning", "calls", "usage", "done"))
    assert got["chunks"][-1] is done  # the stream ends with Done

    assert text == expected["text"]
    assert reasoning == expected.get("reasoning_text", "")
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        (t["id"], t["name"], t["arguments"]) for t in expected["tool_calls"]
    ]
    assert [c.arguments_raw for c in calls] == [t["arguments_raw"] for t in expected["tool_calls"]]
    assert (usage.input_tokens, usage.output_tokens) == (
        expected["usage"]["input_tokens"],
        expected["usage"]["output_tokens"],
    )
    assert usage.cached_tokens == expected["usage"].get("cache_read_input_tokens", 0)
    assert isinstance(done, Done)
    assert (done.finish_reason, done.model) == (expected["finish_reason"], expected["model"])
