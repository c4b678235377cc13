"""Usage/cost reports and statistics over the conversation store (``massgen usage``, ``massgen stats``).

Read-only queries on an open connection: usage sums per request grouped by
day, model, backend, agent or conversation, and per-turn statistics (how
turns ended, per-agent participation, wins and votes). SQLite has no median,
so medians are taken here from the raw values. Values are NamedTuples, as in
massgen_core.store, to keep the commands' start-up light. Nothing here
prints, formats for a terminal or changes the schema.
"""

from __future__ import annotations

import sqlite3
import statistics
from typing import Any, NamedTuple

GROUPS = ("day", "model", "backend", "agent", "conversation")
ENDINGS = ("consensus", "timeout", "budget", "answer_cap", "all_agents_failed", "cancelled", "single_agent")

# A request counts at the time it was made; an imported request without one at its turn's start.
_REQUEST_TIME = "COALESCE(r.ts, t.started_at)"
_GROUP_KEYS = {
    # Local calendar day, like the local times that --since/--until accept.
    "day": f"date({_REQUEST_TIME}, 'unixepoch', 'localtime')",
    "model": "r.model",
    "backend": "r.backend",
    "agent": "r.agent_id",
    "conversation": "t.conversation_id",
}


class Window(NamedTuple):
    """A half-open time range [since, until) in Unix seconds; None leaves that side open."""

    since: float | None = None
    until: float | None = None

    def where(self, column: str) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            clauses.append(f"{column} >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{column} < ?")
            params.append(self.until)
        return clauses, params

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None


class UsageRow(NamedTuple):
    """Usage of one group of requests (or of all of them: the total row)."""

    key: str | None
    title: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_usd: float
    median_latency_s: float | None
    median_ttft_s: float | None
    retries: int
    failed: int
    median_ttfb_s: float | None = None  # time to the first byte of any content
    median_tokens_per_s: float | None = None
    estimated: int = 0  # requests whose tokens are estimates (no provider usage arrived)

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class UsageReport(NamedTuple):
    by: str
    window: Window
    groups: list[UsageRow]
    total: UsageRow  # always over every group, including those a limit left out
    omitted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "since": self.window.since,
            "until": self.window.until,
            "groups": [g.to_dict() for g in self.groups],
            "omitted": self.omitted,
            "total": self.total.to_dict(),
        }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def usage_report(
    conn: sqlite3.Connection, by: str = "model", window: Window = Window(), limit: int | None = None
) -> UsageReport:
    """Requests, tokens, cost, median latency, time to first token / byte and tokens/s, retries and failures per group.

    ``failed`` counts requests that ended in an error; cancelled ones (a
    restart, a budget) are counted as requests but not as failures.
    ``estimated`` counts requests whose tokens are estimates.

    With ``limit``, at most that many groups: the most recent days, or the
    costliest of the other groupings; the total still covers every request.
    """
    if by not in _GROUP_KEYS:
        raise ValueError(f"cannot group usage by {by!r}; choose one of {', '.join(GROUPS)}")
    key = _GROUP_KEYS[by]
    clauses, params = window.where(_REQUEST_TIME)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(
        f"SELECT {key}, COUNT(*), SUM(r.input_tokens), SUM(r.output_tokens), SUM(r.cached_tokens), "
        "SUM(r.reasoning_tokens), SUM(r.cost_usd), SUM(r.retries), SUM(CASE WHEN r.status NOT IN ('ok', 'cancelled') THEN 1 ELSE 0 END), SUM(r.estimated) "
        f"FROM requests r JOIN turns t ON t.id = r.turn_id{where} GROUP BY 1",
        params,
    ).fetchall()
    if by == "day":
        rows.sort(key=lambda row: row[0] or "")
    else:
        # The most expensive first; among free ones (scripted, local) the busiest.
        rows.sort(key=lambda row: (-row[6], -row[1], row[0] or ""))
    total_row = [sum(row[i] for row in rows) for i in range(1, 10)]
    omitted = 0
    if limit is not None and len(rows) > limit:
        omitted = len(rows) - limit
        rows = rows[omitted:] if by == "day" else rows[:limit]

    # Medians need every value; per group only for the groups shown (by conversation there may be thousands).
    shown = {row[0] for row in rows}
    timings = ("latency_s", "ttft_s", "ttfb_s", "tokens_per_s")
    per_group: dict[str | None, list[list[float]]] = {}
    overall: list[list[float]] = [[] for _ in timings]
    timed = " AND ".join([*clauses, "(" + " OR ".join(f"r.{t} IS NOT NULL" for t in timings) + ")"])
    for group, *values in conn.execute(
        f"SELECT {key}, {', '.join('r.' + t for t in timings)} FROM requests r JOIN turns t ON t.id = r.turn_id "
        f"WHERE {timed}",
        params,
    ):
        lists = per_group.setdefault(group, [[] for _ in timings]) if group in shown else None
        for i, value in enumerate(values):
            if value is not None:
                overall[i].append(value)
                if lists is not None:
                    lists[i].append(value)

    titles: dict[str, str] = {}
    if by == "conversation" and rows:
        ids = [row[0] for row in rows]
        titles = dict(conn.execute(f"SELECT id, title FROM conversations WHERE id IN ({', '.join('?' * len(ids))})", ids))

    def usage_row(group: str | None, title: str | None, sums: Any, measured: list[list[float]]) -> UsageRow:
        lat, ttft, ttfb, rate = (_median(values) for values in measured)
        return UsageRow(
            key=group, title=title, requests=sums[0], input_tokens=sums[1], output_tokens=sums[2],
            cached_tokens=sums[3], reasoning_tokens=sums[4], cost_usd=sums[5], median_latency_s=lat,
            median_ttft_s=ttft, retries=sums[6], failed=sums[7], median_ttfb_s=ttfb, median_tokens_per_s=rate,
            estimated=sums[8],
        )  # fmt: skip

    none: list[list[float]] = [[] for _ in timings]
    groups = [usage_row(row[0], titles.get(row[0]), row[1:], per_group.get(row[0], none)) for row in rows]
    total = usage_row(None, None, total_row, overall)
    return UsageReport(by=by, window=window, groups=groups, total=total, omitted=omitted)


class AgentStats(NamedTuple):
    agent_id: str
    turns: int  # turns taken part in
    wins: int
    win_rate: float
    answers: int
    votes_cast: int
    votes_received: int

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class Stats(NamedTuple):
    window: Window
    conversations: int
    turns: int
    finished: int
    unfinished: int
    ended_by: dict[str, int]
    agents: list[AgentStats]
    mean_duration_s: float | None
    median_duration_s: float | None
    mean_cost_usd: float | None
    median_cost_usd: float | None
    total_cost_usd: float
    decided_turns: int  # turns with a winner and at least one answer
    winner_first: int  # ... whose winner gave the first answer

    @property
    def winner_first_rate(self) -> float | None:
        return self.winner_first / self.decided_turns if self.decided_turns else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.window.since,
            "until": self.window.until,
            "conversations": self.conversations,
            "turns": self.turns,
            "finished": self.finished,
            "unfinished": self.unfinished,
            "ended_by": dict(self.ended_by),
            "agents": [a.to_dict() for a in self.agents],
            "turn_duration_s": {"mean": self.mean_duration_s, "median": self.median_duration_s},
            "turn_cost_usd": {"mean": self.mean_cost_usd, "median": self.median_cost_usd, "total": self.total_cost_usd},
            "winner_first": {"turns": self.decided_turns, "count": self.winner_first, "rate": self.winner_first_rate},
        }


def _final_votes(conn: sqlite3.Connection, window: Window) -> list[tuple[str, str]]:
    """(voter, target) of the vote each voter left standing in each turn of the window.

    A new answer clears the votes cast before it (PROTOCOL.md §5) and the voter
    votes again, so only a voter's last valid vote of a turn counted.
    """
    clauses, params = window.where("t.started_at")
    if clauses:
        # From the few turns in the window to their votes, not from every vote to its turn.
        sql = (
            "SELECT v.turn_id, v.voter, v.target FROM turns t CROSS JOIN votes v ON v.turn_id = t.id "
            f"WHERE v.discarded = 0 AND {' AND '.join(clauses)} ORDER BY v.id"
        )
    else:
        sql = "SELECT v.turn_id, v.voter, v.target FROM votes v WHERE v.discarded = 0 ORDER BY v.id"
    standing: dict[tuple[int, str], str] = {}
    for turn_id, voter, target in conn.execute(sql, params):
        standing[turn_id, voter] = target  # a later vote replaces an earlier one
    return [(voter, target) for (_, voter), target in standing.items()]


def stats_report(conn: sqlite3.Connection, window: Window = Window()) -> Stats:
    """How turns ended, who took part, won, answered and voted, and what turns took and cost."""
    clauses, params = window.where("t.started_at")
    cond = " AND ".join(clauses) or "1 = 1"

    def query(sql: str) -> sqlite3.Cursor:
        return conn.execute(sql.replace("{cond}", cond), params)

    conversations, turns, finished = query(
        "SELECT COUNT(DISTINCT t.conversation_id), COUNT(*), COUNT(t.finished_at) FROM turns t WHERE {cond}"
    ).fetchone()
    ended_by = dict.fromkeys(ENDINGS, 0)
    ended_by.update(
        query(
            "SELECT COALESCE(t.ended_by, 'unknown'), COUNT(*) FROM turns t "
            "WHERE t.finished_at IS NOT NULL AND {cond} GROUP BY 1"
        )
    )
    durations = [
        d
        for (d,) in query(
            "SELECT t.duration_s FROM turns t WHERE t.finished_at IS NOT NULL AND t.duration_s IS NOT NULL AND {cond}"
        )
    ]
    costs = [c for (c,) in query("SELECT t.cost_usd FROM turns t WHERE {cond}")]
    # The recorder lists every agent of a turn (the winner included) in agent_ids.
    taken_part = dict(query("SELECT j.value, COUNT(*) FROM turns t, json_each(t.agent_ids) j WHERE {cond} GROUP BY 1"))
    wins = dict(query("SELECT t.winner, COUNT(*) FROM turns t WHERE t.winner IS NOT NULL AND {cond} GROUP BY 1"))
    # Answer ids grow in submission order, so the smallest of a turn is its first answer.
    decided, winner_first = query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN a.agent_id = t.winner THEN 1 ELSE 0 END), 0) FROM turns t "
        "JOIN answers a ON a.id = (SELECT MIN(id) FROM answers WHERE turn_id = t.id) "
        "WHERE t.winner IS NOT NULL AND {cond}"
    ).fetchone()
    # Without a window, counting an index is enough; with one, go from the turns in it to their answers.
    source = "turns t CROSS JOIN answers a ON a.turn_id = t.id" if clauses else "answers a"
    answers = dict(query(f"SELECT a.agent_id, COUNT(*) FROM {source} WHERE {{cond}} GROUP BY 1"))
    cast: dict[str, int] = {}
    received: dict[str, int] = {}
    for voter, target in _final_votes(conn, window):
        cast[voter] = cast.get(voter, 0) + 1
        received[target] = received.get(target, 0) + 1  # a counted vote always names its target
    agents = [
        AgentStats(
            agent_id=agent, turns=count, wins=wins.get(agent, 0), win_rate=wins.get(agent, 0) / count,
            answers=answers.get(agent, 0), votes_cast=cast.get(agent, 0), votes_received=received.get(agent, 0),
        )  # fmt: skip
        for agent, count in taken_part.items()
    ]
    agents.sort(key=lambda a: (-a.wins, -a.turns, a.agent_id))
    return Stats(
        window=window,
        conversations=conversations,
        turns=turns,
        finished=finished,
        unfinished=turns - finished,
        ended_by=ended_by,
        agents=agents,
        mean_duration_s=statistics.fmean(durations) if durations else None,
        median_duration_s=_median(durations),
        mean_cost_usd=statistics.fmean(costs) if costs else None,
        median_cost_usd=_median(costs),
        total_cost_usd=sum(costs),
        decided_turns=decided,
        winner_first=winner_first,
    )


__all__ = ["ENDINGS", "GROUPS", "AgentStats", "Stats", "UsageReport", "UsageRow", "Window", "stats_report", "usage_report"]
