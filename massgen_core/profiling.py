"""``--profile``: where one run's wall time and CPU went, phase by phase.

The CLI starts a ``Profile`` (``start``) when asked, wraps its phases in
``phase(name)`` and its event consumers in ``timed``, and ``observe`` reads
each model request's time to first byte and streaming time from the
``UsageReported`` events. The phases are: start-up and imports (process start
to the command, from ``/proc`` where there is one), config, plugins (loading
them and building the agents), the engine (the session's event loop:
orchestrator, backends and HTTP, less what its consumers took), recording,
presentation (displays) and shutdown. Wall time is ``time.perf_counter``; CPU
is ``time.process_time`` for a phase (every thread) and ``time.thread_time``
for a consumer (it runs on the loop's thread, so a consumer's share can be
taken out of the engine's). With no profile started every function here is a
no-op costing one global read, so the run path may call them unconditionally.
Nothing here prints but ``format``'s caller.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

# Phase names, in report order, with the labels a person reads.
LABELS = {
    "startup": "start-up and imports",
    "config": "config",
    "plugins": "plugin loading and agents",
    "engine": "engine",
    "recording": "recording",
    "presentation": "presentation",
    "shutdown": "shutdown",
}
_SESSION = "session"  # the event loop running questions; the engine is what its consumers did not take


@attrs.define
class Timing:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    count: int = 0

    def add(self, wall_s: float, cpu_s: float) -> None:
        self.wall_s += wall_s
        self.cpu_s += cpu_s
        self.count += 1

    def as_dict(self) -> dict[str, float]:
        return {"wall_s": round(self.wall_s, 6), "cpu_s": round(self.cpu_s, 6)}


@attrs.define
class AgentTiming:
    """One agent's model requests: time to first byte and time streaming after it."""

    requests: int = 0
    first_byte_s: list[float] = attrs.Factory(list)
    streaming_s: float = 0.0
    total_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        ttfb = self.first_byte_s
        return {
            "requests": self.requests,
            "first_byte_s": round(ttfb[0], 6) if ttfb else None,
            "mean_first_byte_s": round(sum(ttfb) / len(ttfb), 6) if ttfb else None,
            "streaming_s": round(self.streaming_s, 6),
            "total_s": round(self.total_s, 6),
        }


class Profile:
    """The timings of one run."""

    def __init__(self) -> None:
        self.created = time.perf_counter()
        self.timings: dict[str, Timing] = {}
        self.agents: dict[str, AgentTiming] = {}
        self.startup: Timing | None = None

    def timing(self, name: str) -> Timing:
        found = self.timings.get(name)
        if found is None:
            found = self.timings[name] = Timing()
        return found

    def mark_startup(self) -> None:
        """Record start-up: from the process's start (when known) to now, and all CPU used so far."""
        wall = process_age_s()
        self.startup = Timing(wall_s=wall if wall is not None else 0.0, cpu_s=time.process_time(), count=1)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.timing(name).add(time.perf_counter() - wall, time.process_time() - cpu)

    def timed(self, name: str, consume: Callable[[Any], None]) -> Callable[[Any], None]:
        """``consume`` with its wall time and loop-thread CPU added to phase ``name``."""
        timing = self.timing(name)
        perf, thread = time.perf_counter, time.thread_time

        def run(event: Any) -> None:
            wall, cpu = perf(), thread()
            try:
                consume(event)
            finally:
                timing.add(perf() - wall, thread() - cpu)

        return run

    def observe(self, event: Any) -> None:
        """Take each model request's first-byte and streaming times from its ``UsageReported``."""
        if getattr(event, "type", None) != "usage_reported":
            return
        agent = self.agents.get(event.agent_id)
        if agent is None:
            agent = self.agents[event.agent_id] = AgentTiming()
        agent.requests += 1
        latency = event.latency_s or 0.0
        agent.total_s += latency
        if event.ttfb_s is not None:
            agent.first_byte_s.append(event.ttfb_s)
            agent.streaming_s += max(0.0, latency - event.ttfb_s)

    def phases(self) -> dict[str, Timing]:
        """Every phase in report order; the engine is the session less its consumers."""
        out: dict[str, Timing] = {}
        if self.startup is not None:
            out["startup"] = self.startup
        session = self.timings.get(_SESSION)
        consumers = ("recording", "presentation")
        for name in LABELS:
            if name == "engine" and session is not None:
                inside = [self.timings[c] for c in consumers if c in self.timings]
                out["engine"] = Timing(
                    wall_s=max(0.0, session.wall_s - sum(t.wall_s for t in inside)),
                    cpu_s=max(0.0, session.cpu_s - sum(t.cpu_s for t in inside)),
                    count=session.count,
                )
            elif name in self.timings:
                out[name] = self.timings[name]
        return out

    def as_dict(self) -> dict[str, Any]:
        """The ``profile`` object of ``--json``."""
        phases = self.phases()
        return {
            "phases": {name: timing.as_dict() for name, timing in phases.items()},
            "total": {
                "wall_s": round(sum(t.wall_s for t in phases.values()), 6),
                "cpu_s": round(time.process_time(), 6),
            },
            "agents": {agent_id: timing.as_dict() for agent_id, timing in self.agents.items()},
        }

    def format(self) -> str:
        """The report printed at the end of a run."""
        phases = self.phases()
        lines = [f"profile{'':22}{'wall ms':>10}{'cpu ms':>10}"]
        for name, timing in phases.items():
            lines.append(f"  {LABELS[name]:<27}{timing.wall_s * 1000:>10.1f}{timing.cpu_s * 1000:>10.1f}")
        total_wall = sum(t.wall_s for t in phases.values())
        lines.append(f"  {'total':<27}{total_wall * 1000:>10.1f}{time.process_time() * 1000:>10.1f}")
        for agent_id, agent in self.agents.items():
            data = agent.as_dict()
            first = data["first_byte_s"]
            first_ms = f"{first * 1000:.1f} ms" if first is not None else "n/a"
            lines.append(
                f"  agent {agent_id}: {agent.requests} request(s), first byte {first_ms}, "
                f"streaming {agent.streaming_s * 1000:.1f} ms, in requests {agent.total_s * 1000:.1f} ms"
            )
        return "\n".join(lines)


def process_age_s() -> float | None:
    """Seconds since this process started, from ``/proc`` (None where there is none)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rpartition(")")[2].split()
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    started = int(fields[19]) / ticks  # field 22 of stat: start time in clock ticks after boot
    return max(0.0, uptime - started)


# -- the run's profile ----------------------------------------------------------------

_current: Profile | None = None


def start() -> Profile:
    """Begin profiling this run (start-up is measured now)."""
    global _current
    _current = Profile()
    _current.mark_startup()
    return _current


def current() -> Profile | None:
    return _current


def stop() -> Profile | None:
    """End profiling; the profile there was."""
    global _current
    profile, _current = _current, None
    return profile


def phase(name: str) -> contextlib.AbstractContextManager[None]:
    """A phase of the current profile (nothing when not profiling)."""
    return _current.phase(name) if _current is not None else contextlib.nullcontext()


def timed(name: str, consume: Callable[[Any], None]) -> Callable[[Any], None]:
    """``consume``, timed under ``name`` when profiling."""
    return _current.timed(name, consume) if _current is not None else consume


__all__ = ["LABELS", "AgentTiming", "Profile", "Timing", "current", "phase", "process_age_s", "start", "stop", "timed"]
