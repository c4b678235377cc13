"""``massgen batch`` and ``massgen_core.batch``: input checks, concurrency, resuming, kills, budgets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core.batch import BatchInputError, done_ids, parse_item, read_items, run_batch
from massgen_core.http import aclose_all
from massgen_core.team import Team

from .conftest import ArithmeticModel, questions_file, run_massgen, team_config


@pytest.fixture(autouse=True)
async def _close_pool():
    yield
    await aclose_all()


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- the input file ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"question": "q"}', "'id' is missing"),
    ('{"id": true, "question": "q"}', "'id' is missing"),
    ('{"id": "a", "question": "  "}', "'question' is missing or empty"),
    ('{"id": "a", "question": "q", "history": [["only one"]]}', "'history' must be"),
])
def test_a_bad_line_is_named_by_file_and_line(text, message):
    with pytest.raises(BatchInputError, match=rf"qs.jsonl:7: .*{message}"):
        parse_item(text, path="qs.jsonl", line=7)


def test_items_keep_history_and_extra_fields():
    item = parse_item('{"id": 3, "question": "q", "history": [["a", "b"]], "expected": 4}', path="f", line=1)
    assert (item.id, item.history, dict(item.extra)) == ("3", (("a", "b"),), {"expected": 4})


def test_repeated_ids_and_non_utf8_are_refused(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n\n{"id": "a", "question": "r"}\n')
    with pytest.raises(BatchInputError, match=r"qs.jsonl:3: id 'a' appears twice \(first on line 1\)"):
        list(read_items(path))
    path.write_bytes(b'{"id": "a", "question": "\xff"}\n')
    with pytest.raises(BatchInputError, match="not UTF-8"):
        list(read_items(path))
    with pytest.raises(BatchInputError, match="cannot read"):
        list(read_items(tmp_path / "missing.jsonl"))


def test_items_are_read_lazily(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "q"}\nbroken\n')
    items = read_items(path)
    assert next(items).id == "a"  # the broken second line is not read before it is needed
    with pytest.raises(BatchInputError, match=":2:"):
        next(items)


def test_done_ids_cuts_a_torn_last_line(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "final_ans')
    assert done_ids(out) == {"a", "b"}
    assert out.read_text() == '{"id": "a"}\n{"id": "b"}\n'
    assert done_ids(tmp_path / "none.jsonl") == set()


# -- running -------------------------------------------------------------------------


async def test_concurrency_bounds_the_turns_in_flight_and_every_result_is_written(tmp_path, fake_server):
    ArithmeticModel(fake_server, delay_s=0.05)
    config = team_config(tmp_path / "team.yaml", fake_server)
    live = {"now": 0, "most": 0}

    def watch(event: ev.Event) -> None:
        if isinstance(event, ev.SessionStarted):
            live["now"] += 1
            live["most"] = max(live["most"], live["now"])
        elif isinstance(event, ev.SessionFinished):
            live["now"] -= 1

    path = questions_file(tmp_path / "qs.jsonl", [(i, i) for i in range(9)])
    team = Team.from_config(config, record=False, observers=[watch])
    out = tmp_path / "out.jsonl"
    progress = await run_batch(team, read_items(path), out, concurrency=3, total=9)
    assert live["most"] == 3
    results = {r["id"]: r for r in lines(out)}
    assert sorted(results) == sorted(f"q{i}" for i in range(9)) and progress.done == 9 and progress.failed == 0
    assert results["q4"]["final_answer"] == "The answer is 8."
    assert results["q4"]["votes"] and results["q4"]["winner"] in ("agent1", "agent2")
    assert results["q4"]["usage"]["input_tokens"] > 0 and results["q4"]["cost_usd"] > 0


async def test_a_rerun_skips_what_is_done(tmp_path, fake_server):
    ArithmeticModel(fake_server)
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1)
    path = questions_file(tmp_path / "qs.jsonl", [(1, 2), (3, 4), (5, 6)])
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "q1", "final_answer": "kept"}) + "\n")
    progress = await run_batch(Team.from_config(config, record=False), read_items(path), out, total=3)
    assert (progress.skipped, progress.done) == (1, 2)
    assert [r["id"] for r in lines(out)].count("q1") == 1 and lines(out)[0]["final_answer"] == "kept"
    asked = [r for r in fake_server.requests if "3 + 4" in r.body.decode()]
    assert asked == []


async def test_the_budget_stops_starting_questions(tmp_path, fake_server):
    ArithmeticModel(fake_server)
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1, price=1000.0)  # $0.42 a question (3 calls)
    path = questions_file(tmp_path / "qs.jsonl", [(i, 1) for i in range(6)])
    out = tmp_path / "out.jsonl"
    progress = await run_batch(Team.from_config(config, record=False), read_items(path), out, concurrency=1,
                               total=6, max_cost_usd=0.5)
    assert progress.stopped_by == "budget" and progress.done == 2 and len(lines(out)) == 2
    assert progress.remaining == 4


async def test_a_failing_question_is_a_result_with_its_error(tmp_path, fake_server):
    from massgen_core.testing.openai import error_response

    fake_server.add("POST", "/v1/chat/completions", error_response(400, "model arith-1 does not exist"))
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1)
    path = questions_file(tmp_path / "qs.jsonl", [(1, 1)])
    out = tmp_path / "out.jsonl"
    progress = await run_batch(Team.from_config(config, record=False), read_items(path), out, total=1)
    [result] = lines(out)
    assert progress.failed == 1 and result["final_answer"] is None and "does not exist" in result["error"]


async def test_concurrency_must_be_positive(tmp_path):
    with pytest.raises(Exception, match="at least 1"):
        await run_batch(None, iter(()), tmp_path / "o.jsonl", concurrency=0)  # type: ignore[arg-type]


# -- the command ---------------------------------------------------------------------


def test_batch_command_answers_resumes_and_reports(tmp_path, fake_server):
    ArithmeticModel(fake_server)
    config = team_config(tmp_path / "team.yaml", fake_server)
    path = questions_file(tmp_path / "qs.jsonl", [(2, 2), (10, 5)])
    out = tmp_path / "out.jsonl"
    first = run_massgen(["batch", str(path), "-o", str(out), "--config", str(config), "-j", "2"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "2 answered now, 0 already" in first.stderr
    assert {r["id"]: r["final_answer"] for r in lines(out)} == {"q0": "The answer is 4.", "q1": "The answer is 15."}
    again = run_massgen(["batch", str(path), "-o", str(out), "--config", str(config)], tmp_path)
    assert again.returncode == 0 and "0 answered now, 2 already" in again.stderr
    assert len(lines(out)) == 2


def test_batch_command_bad_input_is_exit_1_with_the_line(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n{"id": "b"}\n')
    run = run_massgen(["batch", str(path), "-o", str(tmp_path / "o.jsonl"), "--config", "offline-demo.yaml"], tmp_path)
    assert run.returncode == 1 and f"{path}:2: 'question' is missing" in run.stderr


def test_a_killed_batch_loses_only_what_was_in_flight_and_resumes(tmp_path, fake_server):
    ArithmeticModel(fake_server, delay_s=0.2)
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1)
    pairs = [(i, 100) for i in range(12)]
    path = questions_file(tmp_path / "qs.jsonl", pairs)
    out = tmp_path / "out.jsonl"
    args = ["batch", str(path), "-o", str(out), "--config", str(config), "-j", "2", "--no-logs"]
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "massgen_core", *args], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    kept = lines(out)  # every line written before the kill is whole
    assert 3 <= len(kept) < 12
    resumed = run_massgen(args, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} already in" in resumed.stderr
    final = lines(out)
    assert sorted(r["id"] for r in final) == sorted(f"q{i}" for i in range(12))
    assert all(r["final_answer"] == f"The answer is {int(r['id'][1:]) + 100}." for r in final)


def test_batch_progress_lines_without_a_terminal(tmp_path):
    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "x\\u001b]0;pwned\\u0007", "question": "What makes a good review?"}\n')
    run = run_massgen(["batch", str(path), "-o", str(tmp_path / "o.jsonl"), "--config", "offline-demo.yaml"],
                      tmp_path)
    assert run.returncode == 0, run.stderr
    assert "[1/1] x\\x1b]0;pwned\\x07: ok" in run.stderr and "\x1b" not in run.stderr


def test_team_results_and_guarded_observers(tmp_path, fake_server):
    ArithmeticModel(fake_server)
    config = team_config(tmp_path / "team.yaml", fake_server)
    reported: list[str] = []

    def broken(event: ev.Event) -> None:
        raise RuntimeError("observer bug")

    async def main():
        async with Team.from_config(config, observers=[broken], on_observer_error=lambda n, e: reported.append(n)) as t:
            assert t.agent_ids == ["agent1", "agent2"]
            first = await t.ask("What is 20 + 22?")
            second = await t.ask("What is 1 + 1?", history=[("What is 20 + 22?", first.final_answer)],
                                 conversation_id=first.conversation_id)
            return first, second

    first, second = asyncio.run(main())
    assert first.ok and first.final_answer == "The answer is 42." and first.ended_by == "consensus"
    assert first.answers and set(first.answers.values()) == {"The answer is 42."}
    assert first.to_dict()["votes"] and first.cost_usd > 0 and first.session_id
    assert second.conversation_id == first.conversation_id and second.final_answer == "The answer is 2."
    assert reported == ["observer test_team_results_and_guarded_observers.<locals>.broken"]  # reported once
    from massgen_core.store import Store

    with Store() as store:
        assert [q for q, _a in store.history(first.conversation_id)] == ["What is 20 + 22?", "What is 1 + 1?"]


def test_a_result_file_with_a_foreign_line_is_refused_not_truncated(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "a"}\nhand-written note\n{"id": "b"}\n')
    with pytest.raises(BatchInputError, match=r"out.jsonl:2: not a result line"):
        done_ids(out)
    assert out.read_text().count("\n") == 3


def test_progress_eta_and_counting(tmp_path):
    from massgen_core.batch import Progress, count_items

    progress = Progress(total=10, skipped=2)
    assert progress.eta_s() is None and progress.remaining == 8
    progress.done = 4
    assert progress.eta_s() >= 0 and progress.remaining == 4
    assert count_items(tmp_path / "missing.jsonl") == 0


async def test_a_question_whose_team_cannot_start_is_a_result_with_the_reason(tmp_path):
    config = tmp_path / "team.yaml"
    config.write_text("agent: {id: a, backend: {type: openai, model: gpt-4o-mini}}\n")
    path = questions_file(tmp_path / "qs.jsonl", [(1, 1)])
    out = tmp_path / "out.jsonl"
    progress = await run_batch(Team.from_config(config, record=False), read_items(path), out, total=1)
    [result] = lines(out)
    assert progress.failed == 1 and result["ended_by"] == "error" and "OPENAI_API_KEY" in result["error"]


async def test_cancelling_a_batch_cancels_what_is_in_flight(tmp_path, fake_server):
    ArithmeticModel(fake_server, delay_s=5)
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1)
    path = questions_file(tmp_path / "qs.jsonl", [(i, 1) for i in range(4)])
    out = tmp_path / "out.jsonl"
    task = asyncio.ensure_future(run_batch(Team.from_config(config, record=False), read_items(path), out, total=4,
                                           concurrency=2))
    while len(fake_server.requests) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert out.read_text() == ""  # nothing half-written; a rerun answers all four


def test_ctrl_c_stops_a_batch_with_exit_130_and_the_budget_with_exit_1(tmp_path, fake_server):
    ArithmeticModel(fake_server, delay_s=0.3)
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1, price=1000.0)
    path = questions_file(tmp_path / "qs.jsonl", [(i, 1) for i in range(6)])
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, "-m", "massgen_core", "batch", str(path), "-o", str(out), "--config",
                             str(config), "-j", "1", "--no-logs"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not fake_server.requests:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "rerun the same command" in stderr
    budget = run_massgen(["batch", str(path), "-o", str(out), "--config", str(config), "-j", "1", "--max-cost",
                          "0.5", "--no-logs"], tmp_path)
    assert budget.returncode == 1 and "stopped at the budget (--max-cost 0.5)" in budget.stderr


def test_a_terminal_gets_a_progress_bar(tmp_path):
    import pty

    path = tmp_path / "qs.jsonl"
    path.write_text('{"id": "a", "question": "Why?"}\n{"id": "b", "question": "How?"}\n')
    env = {**os.environ, "MASSGEN_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8", "COLUMNS": "100",
           "TERM": "xterm"}
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "massgen_core", "batch", str(path), "-o", str(tmp_path / "o.jsonl"),
                             "--config", "offline-demo.yaml", "--no-logs"], env=env, cwd=tmp_path,
                            stdin=secondary, stdout=secondary, stderr=secondary)
    os.close(secondary)
    screen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    proc.wait(timeout=60)
    os.close(primary)
    text = screen.decode("utf-8", "replace")
    assert proc.returncode == 0 and "questions" in text and "2/2" in text and "0 failed" in text


async def test_a_team_from_a_mapping(tmp_path):
    team = Team.from_config({"agent": {"id": "solo", "backend": {"type": "scripted", "model": "s",
                                                                   "script": [{"answer": "four"}, {"vote": "best"}]}}},
                            record=False)
    result = await team.ask("What is 2 + 2?")
    assert team.agent_ids == ["solo"] and result.final_answer == "four"
