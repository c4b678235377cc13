"""Events: stamped by one factory, frozen, and JSON round-trips through the cattrs converter."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massgen_core import events as ev
from massgen_core.backend import Usage


def test_factory_stamps_session_sequence_and_time():
    clock = iter([10.0, 11.5])
    make = ev.EventFactory("s-1", clock=lambda: next(clock))
    first = make(ev.TextDelta, agent_id="a", text="hi")
    second = make(ev.AgentFailed, agent_id="b", error="boom")
    assert (first.session_id, first.seq, first.ts) == ("s-1", 1, 10.0)
    assert (second.seq, second.ts) == (2, 11.5)


def test_events_are_immutable():
    make = ev.EventFactory("s")
    event = make(ev.TextDelta, agent_id="a", text="x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.text = "y"  # type: ignore[misc]


def test_every_event_type_has_a_unique_tag():
    tags = [cls.type for cls in ev.EVENT_TYPES.values()]
    assert len(tags) == len(set(tags)) == 23


texts = st.text(max_size=40)
ids = st.text(alphabet="abcdefgh123", min_size=1, max_size=8)


def _strategy_for(cls: type[ev.Event]) -> st.SearchStrategy[ev.Event]:
    fields = {}
    for field in attrs.fields(cls):
        if field.name in ("session_id",):
            fields[field.name] = ids
        elif field.name == "seq":
            fields[field.name] = st.integers(min_value=1, max_value=10**6)
        elif field.name == "ts":
            fields[field.name] = st.floats(min_value=0, max_value=2e9, allow_nan=False)
        else:
            t = field.type if isinstance(field.type, str) else str(field.type)
            if t == "Usage":
                fields[field.name] = st.builds(
                    Usage, input_tokens=st.integers(0, 10**6), output_tokens=st.integers(0, 10**6),
                    cost_usd=st.floats(0, 10, allow_nan=False),
                )
            elif "tuple[Mapping[str, Any]" in t:
                fields[field.name] = st.lists(st.dictionaries(ids, st.integers() | texts, max_size=3), max_size=2).map(tuple)
            elif "tuple[str" in t:
                fields[field.name] = st.tuples(ids, ids)
            elif "Mapping[str, float]" in t:
                fields[field.name] = st.dictionaries(ids, st.floats(0, 10, allow_nan=False), max_size=3)
            elif "Mapping[str, int]" in t:
                fields[field.name] = st.dictionaries(ids, st.integers(0, 10**6), max_size=3)
            elif "Mapping[str, Any]" in t:
                maps = st.dictionaries(ids, st.integers() | texts, max_size=3)
                fields[field.name] = st.none() | maps if "None" in t else maps
            elif "Mapping[str, str]" in t:
                fields[field.name] = st.dictionaries(ids, texts, max_size=3)
            elif t.startswith("bool"):
                fields[field.name] = st.booleans()
            elif t.startswith("int"):
                fields[field.name] = st.integers(0, 1000)
            elif t.startswith("float | None"):
                fields[field.name] = st.none() | st.floats(0, 100, allow_nan=False)
            elif t.startswith("float"):
                fields[field.name] = st.floats(0, 100, allow_nan=False)
            elif "None" in t:
                fields[field.name] = st.none() | texts
            else:
                fields[field.name] = texts
    return st.builds(cls, **fields)


any_event = st.one_of([_strategy_for(cls) for cls in ev.EVENT_TYPES.values()])


@given(any_event)
def test_any_event_round_trips_through_json(event: ev.Event):
    data = ev.event_to_dict(event)
    assert data["type"] == event.type
    back = ev.event_from_dict(json.loads(json.dumps(data)))
    assert back == event


def test_usage_adds_up():
    total = Usage(input_tokens=1, output_tokens=2, cost_usd=0.5) + Usage(input_tokens=3, reasoning_tokens=4, cached_tokens=1)
    assert total == Usage(input_tokens=4, output_tokens=2, cached_tokens=1, reasoning_tokens=4, cost_usd=0.5)
