"""create_backend: type inference, fallback chains, pools with routing, the circuit breaker."""

from __future__ import annotations

import pytest

from massgen_core.backend import BackendContext
from massgen_core.backend_factory import (
    CircuitBreaker,
    FallbackBackend,
    PoolBackend,
    breaker,
    create_backend,
    reset_routing,
)
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.events import BackendFallback
from massgen_core.hookspecs import hookimpl
from massgen_core.http import OverloadedError, StreamError
from massgen_core.http.openai_chat import ChatCompletionsBackend
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.collect import ask, collect
from massgen_core.testing.openai import chat_events, chat_stream, error_response


class FakeChat(ChatCompletionsBackend):
    name = "fakechat"
    key_required = False
    model_patterns = ("fake-*",)


class _Plugin:
    @hookimpl
    def register_backends(self, register):
        register(FakeChat)


@pytest.fixture
def manager(plugin_manager):
    plugin_manager.register(_Plugin(), name="fake-plugin")
    reset_routing()
    yield plugin_manager
    reset_routing()


@pytest.fixture
def servers():
    with FakeServer() as a, FakeServer() as b, FakeServer() as c:
        yield a, b, c


def cfg(server, **kw):
    return BackendConfig(type="fakechat", model=kw.pop("model", "fake-1"), base_url=server.url + "/v1",
                         max_retries=kw.pop("max_retries", 0), **kw)


def test_plain_config_gives_the_registered_backend(manager, server):
    backend = create_backend(cfg(server), BackendContext(agent_id="a"), manager)
    assert type(backend) is FakeChat and backend.context.agent_id == "a"


def test_type_is_inferred_from_the_model_name(manager, server):
    backend = create_backend(BackendConfig(model="fake-9", base_url=server.url), None, manager)
    assert type(backend) is FakeChat


def test_model_no_backend_serves_is_a_clear_error(manager):
    with pytest.raises(MassGenError, match="cannot tell the backend type of model 'mystery'"):
        create_backend(BackendConfig(model="mystery"), None, manager)
    with pytest.raises(MassGenError, match="backend has no type"):
        create_backend(BackendConfig(), None, manager)


async def test_fallback_is_tried_when_the_primary_fails_and_the_switch_is_an_event(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503, "down"))
    b.add("POST", "/v1/chat/completions", chat_stream(["from b"]))
    events = []
    backend = create_backend(cfg(a, fallback=(cfg(b, model="fake-2"),)), BackendContext(agent_id="x", emit=events.append), manager)
    assert isinstance(backend, FallbackBackend)
    got = await collect(backend)
    assert got["text"] == "from b"
    assert len(events) == 1 and isinstance(events[0], BackendFallback)
    assert (events[0].from_backend, events[0].to_backend, events[0].agent_id) == ("fakechat:fake-1", "fakechat:fake-2", "x")
    assert "down" in events[0].error


async def test_failure_after_output_began_is_not_hidden_by_a_fallback(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", Response.sse(chat_events(["half"])[:2], cut_off=True))
    b.add("POST", "/v1/chat/completions", chat_stream(["from b"]))
    backend = create_backend(cfg(a, fallback=(cfg(b),)), None, manager)
    with pytest.raises(StreamError):
        await collect(backend)
    assert b.requests == []


async def test_last_fallback_failing_raises_its_error(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503))
    b.add("POST", "/v1/chat/completions", error_response(500, "also down"))
    with pytest.raises(OverloadedError, match="also down"):
        await collect(create_backend(cfg(a, fallback=(cfg(b),)), None, manager))


async def test_round_robin_pool_spreads_requests_over_members(manager, servers):
    for s in servers:
        s.add("POST", "/v1/chat/completions", chat_stream(["ok"]))
    pool_cfg = BackendConfig(type="fakechat", model="fake-1", routing="round_robin",
                             pool=tuple(BackendConfig(base_url=s.url + "/v1", max_retries=0) for s in servers))
    backend = create_backend(pool_cfg, None, manager)
    assert isinstance(backend, PoolBackend)
    for _ in range(6):
        await collect(backend)
    assert [len(s.requests) for s in servers] == [2, 2, 2]


async def test_lowest_latency_pool_prefers_the_fastest_member_once_measured(manager, servers):
    slow, fast, _ = servers
    slow.add("POST", "/v1/chat/completions", chat_stream(["s"], first_byte_delay=0.15))
    fast.add("POST", "/v1/chat/completions", chat_stream(["f"]))
    pool_cfg = BackendConfig(type="fakechat", model="fake-1", routing="lowest_latency",
                             pool=(cfg(slow), cfg(fast)))
    backend = create_backend(pool_cfg, None, manager)
    for _ in range(5):
        await collect(backend)
    assert len(slow.requests) == 1 and len(fast.requests) == 4


async def test_least_busy_pool_sends_concurrent_requests_to_idle_members(manager, servers):
    import asyncio

    for s in servers:
        s.add("POST", "/v1/chat/completions", chat_stream(["x", "y"], chunk_delay=0.1))
    pool_cfg = BackendConfig(type="fakechat", model="fake-1", routing="least_busy", pool=tuple(cfg(s) for s in servers))
    backend = create_backend(pool_cfg, None, manager)
    await asyncio.gather(*(collect(backend) for _ in range(3)))
    assert [len(s.requests) for s in servers] == [1, 1, 1]


async def test_pool_member_failing_falls_over_to_the_next_member(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503))
    b.add("POST", "/v1/chat/completions", chat_stream(["b"]))
    events = []
    pool_cfg = BackendConfig(type="fakechat", model="fake-1", pool=(cfg(a), cfg(b)))
    got = await collect(create_backend(pool_cfg, BackendContext(emit=events.append), manager))
    assert got["text"] == "b" and len(events) == 1


async def test_pool_with_a_fallback_uses_it_when_every_member_fails(manager, servers):
    a, b, c = servers
    a.add("POST", "/v1/chat/completions", error_response(503))
    b.add("POST", "/v1/chat/completions", error_response(503))
    c.add("POST", "/v1/chat/completions", chat_stream(["c"]))
    conf = BackendConfig(type="fakechat", model="fake-1", pool=(cfg(a), cfg(b)), fallback=(cfg(c),))
    got = await collect(create_backend(conf, None, manager))
    assert got["text"] == "c"


def test_unknown_routing_is_an_error(manager, server):
    with pytest.raises(MassGenError, match="unknown routing 'fastest'"):
        create_backend(BackendConfig(type="fakechat", routing="fastest", pool=(cfg(server),)), None, manager)


async def test_circuit_breaker_skips_a_backend_that_keeps_failing(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503))
    b.add("POST", "/v1/chat/completions", chat_stream(["b"]))
    backend = create_backend(cfg(a, fallback=(cfg(b, model="fake-2"),)), None, manager)
    for _ in range(5):
        assert (await collect(backend))["text"] == "b"
    assert len(a.requests) == breaker.threshold
    assert len(b.requests) == 5


def test_circuit_breaker_opens_at_the_threshold_and_half_opens_after_the_cooldown():
    now = [0.0]
    cb = CircuitBreaker(threshold=2, cooldown_s=10, clock=lambda: now[0])
    cb.failure(("k",))
    assert not cb.is_open(("k",))
    cb.failure(("k",))
    assert cb.is_open(("k",))
    now[0] = 11
    assert not cb.is_open(("k",))
    cb.failure(("k",))
    assert cb.is_open(("k",))
    cb.success(("k",))
    assert not cb.is_open(("k",))


async def test_wrappers_delegate_health_and_close(manager, servers):
    a, b, _ = servers
    a.add("GET", "/v1/models", Response.json({"data": [{"id": "fake-1"}]}))
    backend = create_backend(cfg(a, fallback=(cfg(b),)), None, manager)
    health = await backend.health_check()
    assert health.ok and health.models == ("fake-1",)
    await backend.aclose()


async def test_stream_of_a_wrapper_is_an_async_iterator(manager, server):
    server.add("POST", "/v1/chat/completions", chat_stream(["z"]))
    backend = create_backend(cfg(server, fallback=(cfg(server),)), None, manager)
    chunks = [c async for c in backend.stream(ask())]
    assert chunks


# -- pools shared by every agent that names them --------------------------------------------------


def pool_of(servers, routing):
    return BackendConfig(type="fakechat", model="fake-1", routing=routing,
                         pool=tuple(BackendConfig(base_url=s.url + "/v1", max_retries=0) for s in servers))


@pytest.mark.parametrize("routing", ["round_robin", "least_busy", "lowest_latency"])
async def test_three_agents_on_one_pool_spread_their_sequential_requests(manager, servers, routing):
    for s in servers:
        s.add("POST", "/v1/chat/completions", chat_stream(["ok"]))
    agents = [create_backend(pool_of(servers, routing), BackendContext(agent_id=f"a{i}"), manager) for i in range(3)]
    for _turn in range(4):
        for backend in agents:
            await collect(backend)
    counts = [len(s.requests) for s in servers]
    assert sum(counts) == 12 and min(counts) >= 1
    if routing != "lowest_latency":  # which member measures fastest is up to the machine
        assert counts == [4, 4, 4]


async def test_least_busy_counts_the_requests_of_every_agent_on_the_pool(manager, servers):
    import asyncio

    for s in servers:
        s.add("POST", "/v1/chat/completions", chat_stream(["x", "y"], chunk_delay=0.05))
    agents = [create_backend(pool_of(servers, "least_busy"), BackendContext(agent_id=f"a{i}"), manager) for i in range(3)]
    for _turn in range(2):
        await asyncio.gather(*(collect(b) for b in agents))
    assert [len(s.requests) for s in servers] == [2, 2, 2]


async def test_usage_is_labelled_with_the_backend_and_model_that_served(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503, "down"))
    b.add("POST", "/v1/chat/completions", chat_stream(["from b"]))
    backend = create_backend(cfg(a, fallback=(cfg(b, model="fake-2"),)), None, manager)
    usage = [c for c in (await collect(backend))["chunks"] if type(c).__name__ == "UsageChunk"]
    assert [(u.backend, u.model) for u in usage] == [("fakechat", "fake-2")]


async def test_a_member_skipped_by_its_open_breaker_is_an_event(manager, servers):
    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(503))
    b.add("POST", "/v1/chat/completions", chat_stream(["b"]))
    events = []
    backend = create_backend(cfg(a, fallback=(cfg(b, model="fake-2"),)), BackendContext(agent_id="x", emit=events.append),
                             manager)
    for _ in range(breaker.threshold):
        await collect(backend)
    events.clear()
    assert (await collect(backend))["text"] == "b"
    assert len(a.requests) == breaker.threshold
    assert [(e.from_backend, e.to_backend) for e in events] == [("fakechat:fake-1", "fakechat:fake-2")]
    assert "skipped" in events[0].error and "cool-down" in events[0].error


async def test_when_every_member_is_cooling_down_they_are_tried_anyway(manager, servers):
    a, b, _ = servers
    for s in (a, b):
        s.add("POST", "/v1/chat/completions", error_response(503))
    backend = create_backend(cfg(a, fallback=(cfg(b),)), None, manager)
    for _ in range(breaker.threshold + 1):
        with pytest.raises(OverloadedError):
            await collect(backend)
    assert len(a.requests) == breaker.threshold + 1


async def test_a_retry_after_beyond_the_cap_moves_to_the_fallback_at_once(manager, servers):
    import asyncio

    a, b, _ = servers
    a.add("POST", "/v1/chat/completions", error_response(429, "quota", retry_after="3600"))
    b.add("POST", "/v1/chat/completions", chat_stream(["from b"]))
    events = []
    backend = create_backend(cfg(a, max_retries=3, fallback=(cfg(b, model="fake-2"),)),
                             BackendContext(agent_id="x", emit=events.append), manager)
    async with asyncio.timeout(30):  # a safety net: the old code waited the hour
        assert (await collect(backend))["text"] == "from b"
        assert (await collect(backend))["text"] == "from b"  # the hold fails the primary without a request
    assert len(a.requests) == 1
    assert [type(e).__name__ for e in events] == ["BackendFallback", "BackendFallback"]
    assert "max_retry_wait" in events[0].error


async def test_a_rate_limited_pool_member_hands_over_to_the_next(manager, servers):
    import asyncio

    a, b, c = servers
    a.add("POST", "/v1/chat/completions", error_response(429, "quota", retry_after="3600"))
    for s in (b, c):
        s.add("POST", "/v1/chat/completions", chat_stream(["ok"]))
    backend = create_backend(pool_of(servers, "round_robin"), None, manager)
    async with asyncio.timeout(30):  # the fourth request starts at the held member again
        for _ in range(4):
            assert (await collect(backend))["text"] == "ok"
    assert len(a.requests) == 1


def test_wrappers_list_every_member_they_may_send_to(manager, servers):
    a, b, c = servers
    conf = BackendConfig(type="fakechat", model="fake-1", pool=(cfg(a), cfg(b)), fallback=(cfg(c),))
    backend = create_backend(conf, None, manager)
    assert [(where, m.base_url) for where, m in backend.leaves()] == [
        ("pool 1", a.url + "/v1"), ("pool 2", b.url + "/v1"), ("fallback 1", c.url + "/v1")]
