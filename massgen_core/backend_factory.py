"""Turning a ``BackendConfig`` into a ``Backend``: plain, with fallbacks, or a routed pool.

``create_backend(config, context, manager)`` looks the type up in the plugin
registry (inferring it from the model name when absent). A config with
``fallback`` entries becomes a ``FallbackBackend`` that tries them in order
when a backend fails before any output; one with ``pool`` entries becomes a
``PoolBackend`` whose routing (round_robin, least_busy, lowest_latency)
chooses the member to try first, the others following as fallbacks. Pool
members inherit ``type`` and ``model`` from the pool.

Routing state is per process, not per agent: every agent that names the same
pool shares its cursor, and every wrapper shares each member's in-flight count
and latency estimate (keyed by type, model and base URL), as it shares the
circuit breaker that keeps a backend that failed repeatedly out for a
cool-down. Ties in ``least_busy`` and unmeasured members in ``lowest_latency``
take turns, so sequential requests spread too. Every switch, and every member
skipped because its breaker is open, is a ``BackendFallback`` event. Nothing
here speaks HTTP or retries a single backend (that is ``massgen_core.http``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, ClassVar

import attrs

from massgen_core.backend import Backend, BackendContext, Chunk, HealthResult, Request
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError
from massgen_core.events import BackendFallback
from massgen_core.plugins import PluginManager, get_plugin_manager

ROUTINGS = ("round_robin", "least_busy", "lowest_latency")


def _emit(context: BackendContext, cls: type, **fields: Any) -> None:
    from massgen_core.http.base import emit_event

    emit_event(context, cls, **fields)


def _label(backend: Backend) -> str:
    model = getattr(backend.config, "model", None)
    return f"{backend.name}:{model}" if model else backend.name


def _breaker_key(config: BackendConfig) -> tuple[Any, ...]:
    return (config.type, config.model, config.base_url)


@attrs.define
class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures and stays open for ``cooldown_s``."""

    threshold: int = 3
    cooldown_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[tuple[Any, ...], int] = attrs.Factory(dict)
    _opened: dict[tuple[Any, ...], float] = attrs.Factory(dict)

    def is_open(self, key: tuple[Any, ...]) -> bool:
        opened = self._opened.get(key)
        if opened is None:
            return False
        if self.clock() - opened >= self.cooldown_s:  # half-open: let one attempt through
            del self._opened[key]
            self._failures[key] = self.threshold - 1
            return False
        return True

    def success(self, key: tuple[Any, ...]) -> None:
        self._failures.pop(key, None)
        self._opened.pop(key, None)

    def failure(self, key: tuple[Any, ...]) -> None:
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        if count >= self.threshold:
            self._opened[key] = self.clock()

    def reset(self) -> None:
        self._failures.clear()
        self._opened.clear()


breaker = CircuitBreaker()


class _Stats:
    """What the router knows about one member: requests in flight and a latency estimate."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.latency: float | None = None  # seconds to the first chunk, smoothed

    def observe(self, seconds: float) -> None:
        self.latency = seconds if self.latency is None else 0.7 * self.latency + 0.3 * seconds


# Process-wide routing state (see the module docstring): per member, and a cursor per pool.
_stats: dict[tuple[Any, ...], _Stats] = {}
_cursors: dict[tuple[Any, ...], itertools.count[int]] = {}


def stats_for(config: BackendConfig) -> _Stats:
    """The shared statistics of the backend ``config`` describes."""
    return _stats.setdefault(_breaker_key(config), _Stats())


def reset_routing() -> None:
    """Forget every pool cursor, member statistic and breaker state (tests, long-lived servers)."""
    _stats.clear()
    _cursors.clear()
    breaker.reset()


class FallbackBackend(Backend):
    """Tries its members in order; moves on when one fails before producing output."""

    name: ClassVar[str] = "fallback"

    def __init__(self, members: Sequence[Backend], config: BackendConfig, context: BackendContext) -> None:
        super().__init__(config, context)
        self.members = list(members)
        self.stats = {id(m): stats_for(m.config) for m in self.members}
        # Only what every member carries: any of them may serve a request.
        self.workflow_transports = tuple(  # type: ignore[misc]
            t for t in members[0].workflow_transports if all(t in m.workflow_transports for m in members)
        )

    def order(self) -> list[Backend]:
        return list(self.members)

    def _candidates(self) -> list[Backend]:
        """The members to try, in order, without those whose breaker is open (each skip is an event)."""
        order = self.order()
        skipped = [m for m in order if breaker.is_open(_breaker_key(m.config))]
        candidates = [m for m in order if m not in skipped]
        if not candidates:
            return order  # everything is cooling down: trying beats failing unasked
        why = f"skipped: {breaker.threshold} consecutive failures, out for a {breaker.cooldown_s:g} s cool-down"
        for member in skipped:
            _emit(self.context, BackendFallback, agent_id=self.context.agent_id, from_backend=_label(member),
                  to_backend=_label(candidates[0]), error=why)
        return candidates

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        from massgen_core.http.errors import BackendError

        candidates = self._candidates()
        last_error: BaseException | None = None
        for i, member in enumerate(candidates):
            key = _breaker_key(member.config)
            stats = self.stats[id(member)]
            started = False
            stats.in_flight += 1
            t0 = time.monotonic()
            try:
                async for chunk in member.stream(request):
                    if not started:
                        started = True
                        stats.observe(time.monotonic() - t0)
                    yield chunk
                breaker.success(key)
                return
            except (BackendError, MassGenError) as exc:
                breaker.failure(key)
                last_error = exc
                if started or i == len(candidates) - 1:
                    raise
                nxt = candidates[i + 1]
                _emit(self.context, BackendFallback, agent_id=self.context.agent_id,
                      from_backend=_label(member), to_backend=_label(nxt), error=str(exc))
            finally:
                stats.in_flight -= 1
        raise last_error or MassGenError("no backend available")  # pragma: no cover - loop always returns/raises

    def preflight(self) -> None:
        """Ready when any member is: a fallback exists for the members that are not."""
        errors: list[Exception] = []
        for member in self.members:
            try:
                member.preflight()
            except Exception as exc:
                errors.append(exc)
            else:
                return
        if errors:
            raise errors[0]

    async def health_check(self) -> HealthResult:
        """The first member's health; ``massgen backends check`` probes every member (``leaves``)."""
        return await self.members[0].health_check()

    def leaves(self) -> list[tuple[str, Backend]]:
        """``(where, backend)`` for every backend this may send to; where is ``""``, ``pool 2``, ``fallback 1``..."""
        out: list[tuple[str, Backend]] = []
        for i, member in enumerate(self.members):
            where = f"pool {i + 1}" if isinstance(self, PoolBackend) else (f"fallback {i}" if i else "")
            inner = member.leaves() if isinstance(member, FallbackBackend) else [("", member)]
            out.extend((" ".join(part for part in (where, sub) if part), leaf) for sub, leaf in inner)
        return out

    async def aclose(self) -> None:
        for m in self.members:
            await m.aclose()


class PoolBackend(FallbackBackend):
    """Equivalent backends; routing picks the first to try, the rest are fallbacks."""

    name: ClassVar[str] = "pool"

    def __init__(self, members: Sequence[Backend], config: BackendConfig, context: BackendContext) -> None:
        super().__init__(members, config, context)
        if config.routing not in ROUTINGS:
            raise MassGenError(
                f"agent {context.agent_id}: unknown routing {config.routing!r}; use one of {', '.join(ROUTINGS)}"
            )
        self.routing = config.routing
        pool_key = (config.routing, *(_breaker_key(m.config) for m in self.members))
        self._rr = _cursors.setdefault(pool_key, itertools.count())  # shared by every agent on this pool

    def order(self) -> list[Backend]:
        start = next(self._rr) % len(self.members)
        turn = self.members[start:] + self.members[:start]  # ties below keep this rotation (stable sort)
        if self.routing == "round_robin":
            return turn
        if self.routing == "least_busy":
            return sorted(turn, key=lambda m: self.stats[id(m)].in_flight)
        # lowest_latency: members never measured go first, so every member gets measured
        return sorted(
            turn,
            key=lambda m: (self.stats[id(m)].latency is not None, self.stats[id(m)].latency or 0.0),
        )


def _inherit(parent: BackendConfig, child: BackendConfig) -> BackendConfig:
    return attrs.evolve(
        child,
        type=child.type or parent.type,
        model=child.model or parent.model,
    )


def resolve_type(config: BackendConfig, manager: PluginManager, agent_id: str) -> str:
    if config.type:
        return config.type
    if config.model:
        for name, cls in manager.backends.items():
            if getattr(cls, "serves_model", None) and cls.serves_model(config.model):
                return name
        raise MassGenError(
            f"agent {agent_id}: cannot tell the backend type of model {config.model!r}; set backend.type"
        )
    raise MassGenError(f"agent {agent_id}: backend has no type")


def _refuse_unrunnable(cls: Any, type_name: str, config: BackendConfig, agent_id: str) -> None:
    """The rules ``config validate`` reports (``config.backend_rules``), applied where a run starts."""
    from massgen_core.config.backend_rules import requirement_problems

    problems = requirement_problems(cls, type_name, attrs.asdict(config, recurse=False))
    if problems:
        raise MassGenError(f"agent {agent_id}: " + "; ".join(message for _, message in problems))


def create_backend(
    config: BackendConfig, context: BackendContext | None = None, manager: PluginManager | None = None
) -> Backend:
    manager = manager or get_plugin_manager()
    context = context or BackendContext()
    if config.pool:
        members = [create_backend(_inherit(config, m), context, manager) for m in config.pool]
        pool = PoolBackend(members, config, context)
        if not config.fallback:
            return pool
        primary: Backend = pool
    else:
        type_name = resolve_type(config, manager, context.agent_id)
        cls = manager.backends.get(type_name)
        _refuse_unrunnable(cls, type_name, config, context.agent_id)
        primary = cls(attrs.evolve(config, fallback=(), type=resolve_type(config, manager, context.agent_id)), context)
        if not config.fallback:
            return primary
    fallbacks = [create_backend(f, context, manager) for f in config.fallback]
    return FallbackBackend([primary, *fallbacks], config, context)
