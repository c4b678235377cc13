"""``massgen dashboard``: the store's numbers, drawn; checked on a store real sessions wrote."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from massgen_core.team import Team

from .conftest import browser_dom, run_massgen

SCRIPTED = textwrap.dedent("""\
    agents:
      - id: alice
        backend: {type: scripted, model: scripted-a, per_turn: true,
                  script: [{answer: "Alice's answer"}, {vote: {for_agent: alice, reason: "mine"}}]}
      - id: bob
        backend: {type: scripted, model: scripted-b, per_turn: true,
                  script: [{answer: "Bob's <b>answer</b>"}, {vote: {for_agent: bob, reason: "mine"}}]}
      - id: carol
        backend: {type: scripted, model: scripted-b, per_turn: true,
                  script: [{vote: {for_agent: alice, reason: "alice is right"}}]}
    """)


@pytest.fixture
def recorded(tmp_path, _isolated_home):
    config = tmp_path / "team.yaml"
    config.write_text(SCRIPTED)

    async def main():
        async with Team.from_config(config) as team:
            return [await team.ask(q) for q in ("First question?", "Second question?")]

    results = asyncio.run(main())
    assert [r.winner for r in results] == ["alice", "alice"]
    return _isolated_home


def test_the_numbers_behind_the_charts(recorded):
    from massgen_core.store import Store
    from massgen_core.store.dashboard import dashboard_data

    with Store() as store:
        data = dashboard_data(store.conn)
    totals = data["totals"]
    assert totals["sessions"] == 2 and totals["conversations"] == 2 and totals["requests"] > 0
    assert sum(d["sessions"] for d in data["per_day"]) == 2
    assert sum(d["requests"] for d in data["per_day"]) == totals["requests"]
    assert set(data["backends"]) == {"scripted · scripted-a", "scripted · scripted-b"}
    assert all(b["failure_rate"] == 0 and len(b["latencies_s"]) == b["requests"] for b in data["backends"].values())
    agents = {a["agent_id"]: a for a in data["agents"]}
    assert agents["alice"]["wins"] == 2 and agents["alice"]["win_rate"] == 1.0
    assert agents["alice"]["vote_agreement"] == 1.0 and agents["carol"]["vote_agreement"] == 1.0
    assert agents["bob"]["vote_agreement"] == 0.0 and agents["bob"]["wins"] == 0
    assert data["ended_by"]["consensus"] == 2


def test_the_command_writes_a_page_a_browser_shows(recorded, tmp_path):
    out = tmp_path / "dash.html"
    run = run_massgen(["dashboard", "-o", str(out), "--json"], recorded)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["totals"]["sessions"] == 2 and "dashboard of 2 sessions" in run.stderr
    page = out.read_text()
    assert page.count("<svg") == 10 and "<script" not in page and "default-src 'none'" in page
    again = run_massgen(["dashboard", "-o", str(out)], recorded)
    assert again.returncode == 1 and "exists: pass --force" in again.stderr
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "target.html")
    linked = run_massgen(["dashboard", "-o", str(link), "--force"], recorded)
    assert linked.returncode == 1 and "symbolic link" in linked.stderr and not (tmp_path / "target.html").exists()
    dom = browser_dom(out, tmp_path / "profile")
    assert dom.count("<svg") == 10 and "Vote agreement per agent" in dom and "scripted · scripted-a" in dom


def test_a_window_with_nothing_in_it(recorded, tmp_path):
    out = tmp_path / "empty.html"
    run = run_massgen(["dashboard", "-o", str(out), "--since", "2099-01-01", "--json"], recorded)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["totals"]["sessions"] == 0
    page = out.read_text()
    assert "No sessions recorded in this period." in page and "<svg" not in page and "2099-01-01" in page
