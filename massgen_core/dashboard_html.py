"""The ``massgen dashboard`` page: the conversation store's numbers as charts, in one self-contained file.

``render_dashboard(data)`` takes ``massgen_core.store.dashboard.dashboard_data``'s
dict and returns the page: totals; sessions, tokens and cost per day; latency
and time-to-first-token distributions per backend and model; failure and retry
rates; how sessions ended; and per agent its win rate and vote agreement. No
script and no network (``massgen_core.charts``); every name from the store is
escaped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from massgen_core.charts import bars, box_rows, e, money, page, seconds, share_rows


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts is not None else "…"


def _cards(totals: Mapping[str, Any]) -> str:
    cards = [
        ("sessions", f"{totals['sessions']:,}"), ("conversations", f"{totals['conversations']:,}"),
        ("requests", f"{totals['requests']:,}"),
        ("tokens in / out", f"{totals['input_tokens']:,} / {totals['output_tokens']:,}"),
        ("cost", money(totals["cost_usd"])),
        ("median latency", seconds(totals["median_latency_s"]) if totals["median_latency_s"] is not None else "-"),
        ("median time to first token", seconds(totals["median_ttft_s"]) if totals["median_ttft_s"] is not None else "-"),
        ("failed requests / retries", f"{totals['failed']:,} / {totals['retries']:,}"),
    ]
    return '<div class="cards">' + "".join(f'<div class="card">{e(k)}<b>{e(v)}</b></div>' for k, v in cards) + "</div>"


def _chart(title: str, svg: str) -> str:
    return f'<h2>{e(title)}</h2><div class="chart">{svg}</div>'


def _agents_table(agents: list[Mapping[str, Any]]) -> str:
    rows = ["<table><tr><th>agent</th><th>sessions</th><th>wins</th><th>win rate</th><th>answers</th>"
            "<th>votes cast</th><th>votes received</th><th>vote agreement</th></tr>"]
    for a in agents:
        agreement = "-" if a["vote_agreement"] is None else f"{100 * a['vote_agreement']:.0f}%"
        rows.append(f'<tr><td>{e(a["agent_id"])}</td><td class="num">{a["turns"]}</td><td class="num">{a["wins"]}</td>'
                    f'<td class="num">{100 * a["win_rate"]:.0f}%</td><td class="num">{a["answers"]}</td>'
                    f'<td class="num">{a["votes_cast"]}</td><td class="num">{a["votes_received"]}</td>'
                    f'<td class="num">{agreement}</td></tr>')
    rows.append("</table>")
    return "".join(rows)


def render_dashboard(data: Mapping[str, Any]) -> str:
    totals = data["totals"]
    title = "MassGen dashboard"
    period = ("every recorded session" if data["since"] is None and data["until"] is None
              else f"{_when(data['since'])} to {_when(data['until'])}")
    body = [f"<h1>{title}</h1>",
            f'<p class="meta">conversation store · {e(period)} · made {e(_when(time.time()))}</p>', _cards(totals)]
    if not totals["sessions"]:
        body.append('<p class="meta">No sessions recorded in this period.</p>')
        return page(title, body)
    days = [d["day"] for d in data["per_day"]]
    body.append(_chart("Sessions per day", bars(days, {"sessions": [d["sessions"] for d in data["per_day"]]},
                                                  fmt=lambda v: f"{v:g}", label="sessions per day")))
    body.append(_chart("Tokens per day", bars(days, {
        "input tokens": [d["input_tokens"] for d in data["per_day"]],
        "output tokens": [d["output_tokens"] for d in data["per_day"]],
    }, fmt=lambda v: f"{v:,.0f}", label="tokens per day")))
    body.append(_chart("Cost per day", bars(days, {"cost": [d["cost_usd"] for d in data["per_day"]]}, fmt=money,
                                              label="cost per day")))
    backends = data["backends"]
    body.append(_chart("Latency per request, by backend and model",
                       box_rows({k: v["latencies_s"] for k, v in backends.items()}, fmt=seconds, label="latency")))
    body.append(_chart("Time to first token, by backend and model",
                       box_rows({k: v["ttfts_s"] for k, v in backends.items()}, fmt=seconds, label="ttft")))
    body.append(_chart("Failed requests", share_rows(
        [(k, v["failure_rate"], f"{100 * v['failure_rate']:.1f}% of {v['requests']}") for k, v in backends.items()],
        label="failure rate")))
    body.append(_chart("Retries per request", share_rows(
        [(k, min(1.0, v["retry_rate"]), f"{v['retry_rate']:.2f} ({v['retries']} retries)") for k, v in backends.items()],
        label="retry rate")))
    ended = data["ended_by"]
    count = sum(ended.values()) or 1
    body.append(_chart("How sessions ended", share_rows(
        [(k, n / count, f"{n} ({100 * n / count:.0f}%)") for k, n in sorted(ended.items(), key=lambda kv: -kv[1]) if n],
        label="endings")))
    agents = data["agents"]
    body.append(_chart("Win rate per agent", share_rows(
        [(a["agent_id"], a["win_rate"], f"{100 * a['win_rate']:.0f}% of {a['turns']}") for a in agents],
        label="win rate")))
    body.append(_chart("Vote agreement per agent (votes that went to the eventual winner)", share_rows(
        [(a["agent_id"], a["vote_agreement"] or 0.0,
          "-" if a["vote_agreement"] is None else f"{100 * a['vote_agreement']:.0f}% of {a['votes_cast']}")
         for a in agents], label="vote agreement")))
    body.append("<h2>Agents</h2>" + _agents_table(agents))
    return page(title, body)


__all__ = ["render_dashboard"]
