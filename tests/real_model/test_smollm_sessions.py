"""Coordination on a real small model that calls no tools: SmolLM2-135M on llama-cpp-python.

Before the workflow transports, every launch on this model answered in plain
text and the session ended ``all_agents_failed``. Questions are tiny and
``max_tokens`` low so the tier stays within a few minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from massgen_core import events as ev
from massgen_core.config.loader import load_text_with_warnings
from massgen_core.http import aclose_all
from massgen_core.orchestrator import build_orchestrator
from tests.real_model.conftest import smollm_yaml

QUESTION = "What is the capital of France?"


async def _session(text: str, question: str = QUESTION) -> list[ev.Event]:
    config, _warnings = load_text_with_warnings(text, "smollm.yaml")
    orch = build_orchestrator(config)
    try:
        return [event async for event in orch.run(question)]
    finally:
        await orch.aclose()
        await aclose_all()


def _launch_failures(events: list[ev.Event]) -> list[str]:
    """Launches that ended without a usable action. A small model at temperature 0 may repeat an
    answer that exists already: the protocol rejects the duplicate (PROTOCOL.md §4) and that is the
    enforcement at work, not a transport that failed to carry an action, so it is not counted."""
    failed = [e.error for e in events if isinstance(e, ev.AgentFailed)]
    failed += [e.reason for e in events if isinstance(e, ev.AgentRestarted) and "failed" in e.reason]
    return [f for f in failed if "duplicates an existing answer" not in f]


async def test_three_agents_on_auto_reach_a_final_answer_and_every_launch_acts(smollm_server):
    events = await _session(smollm_yaml(smollm_server))
    finished = events[-1]
    assert isinstance(finished, ev.SessionFinished)
    assert finished.final_answer and finished.final_answer.strip()
    assert finished.ended_by in ("consensus", "answer_cap"), finished.error
    assert _launch_failures(events) == []  # no launch ended without a valid action
    answers = {e.agent_id for e in events if isinstance(e, ev.AnswerSubmitted)}
    votes = [e for e in events if isinstance(e, ev.VoteCast)]
    assert answers and all(v.target in answers for v in votes)
    if finished.ended_by == "consensus":  # the answer cap ends a round that never needed a vote
        assert votes
    fallbacks = [e for e in events if isinstance(e, ev.WorkflowFallback)]
    assert [(f.from_transport, f.to_transport) for f in fallbacks][:1] == [("tools", "json")]


async def test_the_json_transport_produces_valid_votes(smollm_server):
    events = await _session(smollm_yaml(smollm_server, workflow="json"))
    votes = [e for e in events if isinstance(e, ev.VoteCast)]
    discarded = [e for e in events if isinstance(e, ev.VoteDiscarded) and not e.reason.startswith("stale")]
    assert len(votes) >= 3 and discarded == []
    labels = {e.agent_id: e.label for e in events if isinstance(e, ev.AnswerSubmitted)}
    assert all(v.target in labels and v.target_label.startswith("agent") for v in votes)
    assert events[-1].ended_by == "consensus"
    assert not [e for e in events if isinstance(e, ev.WorkflowFallback)]  # json is not auto


async def test_a_single_agent_in_direct_mode_answers(smollm_server):
    events = await _session(smollm_yaml(smollm_server, agents=1, single=False), "Say hello.")
    finished = events[-1]
    assert finished.ended_by == "single_agent"
    assert finished.final_answer and finished.final_answer.strip()
    assert "".join(e.text for e in events if isinstance(e, ev.FinalAnswerDelta)) == finished.final_answer


def _cli(args: list[str], home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"MASSGEN_HOME": str(home), "PYTHONIOENCODING": "utf-8"})
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True,
        env=env, cwd=home, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def test_backends_check_reports_the_server_ok(smollm_server, tmp_path):
    config = tmp_path / "smollm.yaml"
    config.write_text(smollm_yaml(smollm_server, agents=1))
    proc = _cli(["backends", "check", "--config", str(config), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["backends"]
    assert row["status"] == "ok" and row["backend"] == "llamacpp"
    assert any(name.endswith(".gguf") for name in row["models"])


def test_continue_carries_the_history_into_the_next_turn(smollm_server, tmp_path):
    config = tmp_path / "smollm.yaml"
    config.write_text(smollm_yaml(smollm_server, agents=1, single=False))
    first = _cli(["--config", str(config), "--no-display", "--jsonl", "Say hello."], tmp_path)
    assert first.returncode == 0, first.stderr
    second = _cli(["--config", str(config), "--no-display", "--jsonl", "--continue", "Say bye."], tmp_path)
    assert second.returncode == 0, second.stderr
    events = [json.loads(line) for line in second.stdout.splitlines() if line.startswith("{")]
    started = next(e for e in events if e["type"] == "session_started")
    finished = next(e for e in events if e["type"] == "session_finished")
    assert started["turn"] == 2 and started["question"] == "Say bye."
    assert finished["final_answer"]
    listed = _cli(["conversations", "list", "--json"], tmp_path)
    (conversation,) = json.loads(listed.stdout)  # one conversation, continued: not two
    shown = _cli(["conversations", "show", "--json", conversation["id"]], tmp_path)
    document = json.loads(shown.stdout)
    assert [turn["question"] for turn in document["turns"]] == ["Say hello.", "Say bye."]


def test_the_sample_evaluation_runs_on_the_real_model_against_a_single_agent(smollm_server, tmp_path):
    """The bundled sample dataset (its first 5 items, to keep the tier short): a 2-agent team against one
    agent, every item answered and graded."""
    from massgen_core.evaluation import dataset_path

    sample = tmp_path / "sample5.jsonl"
    sample.write_text("".join(dataset_path("sample").read_text().splitlines(keepends=True)[:5]))
    team = tmp_path / "duo.yaml"
    team.write_text(smollm_yaml(smollm_server, agents=2, workflow="json"))
    solo = tmp_path / "solo.yaml"
    solo.write_text(smollm_yaml(smollm_server, agents=1, single=False))
    proc = _cli(["eval", str(sample), "--config", f"duo={team}", "--baseline", f"solo={solo}", "--out",
                 str(tmp_path / "eval"), "--json", "--no-logs", "-j", "2"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    duo, solo_row = report["configs"]
    assert duo["n"] == solo_row["n"] == report["items"] == 5
    assert solo_row["answered"] == solo_row["n"] and duo["answered"] >= duo["n"] - 2
    assert 0 <= duo["correct"] <= duo["n"] and duo["ci95"][0] <= duo["accuracy"] <= duo["ci95"][1]
    [comparison] = report["comparisons"]
    assert comparison["wins"] + comparison["losses"] + comparison["ties"] == report["items"]
