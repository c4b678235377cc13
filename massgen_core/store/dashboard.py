"""What ``massgen dashboard`` shows, read from the conversation store.

``dashboard_data(conn, window)`` gathers, for the requests and turns in the
window: totals; sessions (turns), requests, tokens and cost per day; the
latency and time-to-first-token values per backend and model (for their
distributions) with failure and retry rates; how turns ended; and per agent
its turns, wins, win rate, answers, votes and vote agreement (the share of its
votes that went to the turn's eventual winner). It builds on
``massgen_core.store.reports`` for the sums it already answers. Read-only; it
returns a JSON-ready dict and formats nothing.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from massgen_core.store.reports import Window, stats_report, usage_report

_REQUEST_TIME = "COALESCE(r.ts, t.started_at)"


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def dashboard_data(conn: sqlite3.Connection, window: Window = Window()) -> dict[str, Any]:
    stats = stats_report(conn, window)
    usage = usage_report(conn, by="day", window=window)
    by_model = usage_report(conn, by="model", window=window)

    turn_clauses, turn_params = window.where("t.started_at")
    turn_where = " AND ".join(turn_clauses) or "1 = 1"
    sessions_per_day: dict[str, int] = {}
    for (started,) in conn.execute(f"SELECT t.started_at FROM turns t WHERE {turn_where}", turn_params):
        day = _day(started)
        sessions_per_day[day] = sessions_per_day.get(day, 0) + 1

    days = sorted(set(sessions_per_day) | {g.key for g in usage.groups if g.key})
    per_day_usage = {g.key: g for g in usage.groups}
    per_day = [
        {
            "day": day,
            "sessions": sessions_per_day.get(day, 0),
            "requests": per_day_usage[day].requests if day in per_day_usage else 0,
            "input_tokens": per_day_usage[day].input_tokens if day in per_day_usage else 0,
            "output_tokens": per_day_usage[day].output_tokens if day in per_day_usage else 0,
            "cost_usd": per_day_usage[day].cost_usd if day in per_day_usage else 0.0,
        }
        for day in days
    ]

    clauses, params = window.where(_REQUEST_TIME)
    where = " AND ".join(clauses) or "1 = 1"
    backends: dict[str, dict[str, Any]] = {}
    for backend, model, latency, ttft, status, retries in conn.execute(
        "SELECT r.backend, r.model, r.latency_s, r.ttft_s, r.status, r.retries "
        f"FROM requests r JOIN turns t ON t.id = r.turn_id WHERE {where}",
        params,
    ):
        key = f"{backend} · {model or '-'}"
        entry = backends.setdefault(key, {"backend": backend, "model": model, "requests": 0, "failed": 0,
                                          "retries": 0, "latencies_s": [], "ttfts_s": []})
        entry["requests"] += 1
        entry["failed"] += status != "ok"
        entry["retries"] += retries or 0
        if latency is not None:
            entry["latencies_s"].append(latency)
        if ttft is not None:
            entry["ttfts_s"].append(ttft)
    for entry in backends.values():
        entry["failure_rate"] = entry["failed"] / entry["requests"]
        entry["retry_rate"] = entry["retries"] / entry["requests"]

    agreement: dict[str, list[int]] = {}  # voter -> [votes for the eventual winner, votes]
    for voter, agreed in conn.execute(
        "SELECT v.voter, v.target = t.winner FROM votes v JOIN turns t ON t.id = v.turn_id "
        f"WHERE v.discarded = 0 AND t.winner IS NOT NULL AND {turn_where}",
        turn_params,
    ):
        counts = agreement.setdefault(voter, [0, 0])
        counts[0] += bool(agreed)
        counts[1] += 1
    agents = []
    for a in stats.agents:
        agreed, cast = agreement.get(a.agent_id, [0, 0])
        agents.append({**a.to_dict(), "votes_for_winner": agreed,
                       "vote_agreement": agreed / cast if cast else None})

    total = usage.total
    return {
        "since": window.since,
        "until": window.until,
        "totals": {
            "conversations": stats.conversations, "sessions": stats.turns, "unfinished": stats.unfinished,
            "requests": total.requests, "input_tokens": total.input_tokens, "output_tokens": total.output_tokens,
            "cost_usd": total.cost_usd, "retries": total.retries, "failed": total.failed,
            "median_latency_s": total.median_latency_s, "median_ttft_s": total.median_ttft_s,
        },
        "per_day": per_day,
        "backends": dict(sorted(backends.items())),
        "models": [g.to_dict() for g in by_model.groups],
        "ended_by": stats.ended_by,
        "agents": agents,
    }


__all__ = ["dashboard_data"]
