"""Probing many backends at once: ``check_all`` runs every health check concurrently.

Each probe is bounded by its backend's own health timeout (plus a small
margin as a safety net), so one hanging server is reported as ``timeout`` and
never holds up the others. The result rows are plain values for the CLI
table and ``--json``; nothing here prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import attrs

from massgen_core.backend import Backend, HealthResult
from massgen_core.redaction import redact_text, redact_url


@attrs.frozen(kw_only=True)
class HealthRow:
    agent: str
    backend: str
    model: str | None
    endpoint: str | None
    ok: bool
    status: str
    latency_ms: float | None
    error: str | None
    models: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, value_serializer=lambda _i, _f, v: list(v) if isinstance(v, tuple) else v)


async def _probe(backend: Backend) -> HealthResult:
    limit = float(getattr(backend, "health_timeout", None) or 5.0)
    # A safety net for backends whose own check ignores its timeout; run as a separate task so
    # abandoning it never cancels the caller.
    task = asyncio.ensure_future(backend.health_check())
    done, _ = await asyncio.wait({task}, timeout=limit + 0.5)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return HealthResult(ok=False, status="timeout", latency_s=limit, error=f"no answer within {limit:g} s")
    exc = task.exception()
    if exc is not None:  # one broken backend must not hide the others' results
        return HealthResult(ok=False, status="error", error=redact_text(f"{type(exc).__name__}: {exc}"))
    return task.result()


async def check_all(entries: Sequence[tuple[str, Backend]]) -> list[HealthRow]:
    """Health of every ``(agent id, backend)``, probed concurrently, in the given order."""
    results = await asyncio.gather(*(_probe(b) for _, b in entries))
    rows = []
    for (agent, backend), result in zip(entries, results, strict=True):
        endpoint = getattr(backend, "base_url", None) or getattr(backend.config, "base_url", None)
        rows.append(
            HealthRow(
                agent=agent,
                backend=backend.name,
                model=getattr(backend.config, "model", None),
                endpoint=redact_url(endpoint) if endpoint else None,
                ok=result.ok,
                status=result.status,
                latency_ms=None if result.latency_s is None else round(result.latency_s * 1000, 1),
                error=redact_text(result.error) if result.error else None,
                models=result.models,
            )
        )
    return rows
