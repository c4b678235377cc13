"""UsageReported carries a ``Usage`` value, and its JSON stays flat, key for key, as before."""

from __future__ import annotations

import json

from massgen_core import events as ev
from massgen_core.backend import Usage

# The wire shape every consumer (store, --jsonl, webhooks, exports, the server) has always seen.
WIRE = (
    '{"session_id": "s", "seq": 1, "ts": 2.0, "agent_id": "a", "backend": "openai", "model": "gpt-4o-mini", '
    '"input_tokens": 10, "output_tokens": 4, "cached_tokens": 2, "reasoning_tokens": 1, "cost_usd": 0.5, '
    '"latency_s": 1.5, "ttft_s": null, "ttfb_s": 0.25, "tokens_per_s": null, "retries": 1, "status": "ok", '
    '"estimated": false, "type": "usage_reported"}'
)
USAGE = Usage(input_tokens=10, output_tokens=4, cached_tokens=2, reasoning_tokens=1, cost_usd=0.5)


def _event() -> ev.UsageReported:
    make = ev.EventFactory("s", clock=lambda: 2.0)
    return make(
        ev.UsageReported, agent_id="a", backend="openai", model="gpt-4o-mini", usage=USAGE,
        latency_s=1.5, ttfb_s=0.25, retries=1,
    )


def test_usage_reported_holds_a_usage_value():
    event = _event()
    assert event.usage == USAGE
    assert event.usage + event.usage == Usage(
        input_tokens=20, output_tokens=8, cached_tokens=4, reasoning_tokens=2, cost_usd=1.0
    )


def test_its_json_is_flat_and_unchanged():
    assert json.dumps(ev.event_to_dict(_event())) == WIRE


def test_the_flat_json_reads_back_into_the_value():
    assert ev.event_from_dict(json.loads(WIRE)) == _event()


def test_a_document_without_some_usage_keys_reads_back_with_zeros():
    data = json.loads(WIRE)
    del data["cached_tokens"], data["cost_usd"]
    assert ev.event_from_dict(data).usage == Usage(input_tokens=10, output_tokens=4, reasoning_tokens=1)
