"""--profile: every phase's wall time and CPU at the end of a run, and in --json."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core import profiling

PHASES = ("startup", "config", "plugins", "engine", "recording", "presentation")


def _config(home: Path) -> Path:
    config = {
        "agents": [
            {"id": "alice", "backend": {"type": "scripted", "script": [
                {"text": "thinking it over", "answer": "Paris."}, {"vote": {"for": "self", "reason": "mine"}}],
                "final": "Paris is the capital of France."}},
            {"id": "bob", "backend": {"type": "scripted", "script": [
                {"delay": 0.05, "vote": {"for": "first", "reason": "right"}}]}},
        ],
        "ui": {"display_type": "simple"},
    }
    path = home / "two.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_profile_prints_each_phase_and_each_agents_first_byte(cli, _isolated_home):
    done = cli(["--config", str(_config(_isolated_home)), "--profile", "Capital of France?"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Paris is the capital of France."  # the report is on stderr only
    report = done.stderr[done.stderr.index("profile "):]
    for label in profiling.LABELS.values():
        assert f"\n  {label} " in report
    assert "\n  total " in report
    assert "agent alice: 3 request(s), first byte" in report and "agent bob: " in report


def test_json_carries_the_profile(cli, _isolated_home):
    done = cli(["--config", str(_config(_isolated_home)), "--profile", "--json", "Capital of France?"])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    profile = result["profile"]
    assert set(PHASES) <= set(profile["phases"])
    for timing in profile["phases"].values():
        assert timing["wall_s"] >= 0 and timing["cpu_s"] >= 0
    assert profile["phases"]["startup"]["cpu_s"] > 0  # the interpreter and imports cost something
    assert profile["total"]["cpu_s"] >= profile["phases"]["config"]["cpu_s"]
    assert set(profile["agents"]) == {"alice", "bob"}
    assert profile["agents"]["alice"]["requests"] == 3  # answer, vote, final presentation
    assert profile["agents"]["alice"]["first_byte_s"] is not None


def test_without_profile_nothing_is_measured_or_printed(cli, _isolated_home):
    done = cli(["--config", str(_config(_isolated_home)), "--json", "Capital of France?"])
    assert "profile" not in json.loads(done.stdout) and "profile " not in done.stderr
    assert profiling.current() is None
    assert profiling.timed("x", print) is print


def test_the_engine_is_the_session_less_what_its_consumers_took():
    profile = profiling.Profile()
    profile.timings["session"] = profiling.Timing(wall_s=2.0, cpu_s=1.0, count=1)
    profile.timing("recording").add(0.5, 0.25)
    profile.timing("presentation").add(0.25, 0.25)
    assert profile.phases()["engine"] == profiling.Timing(wall_s=1.25, cpu_s=0.5, count=1)
    assert list(profile.phases()) == ["engine", "recording", "presentation"]  # no start-up marked


def test_a_timed_consumer_counts_even_when_it_raises():
    profile = profiling.Profile()

    def boom(event):
        raise ValueError(event)

    timed = profile.timed("recording", boom)
    with pytest.raises(ValueError):
        timed("x")
    assert profile.timings["recording"].count == 1


def test_requests_without_a_first_byte_count_as_requests_only():
    profile = profiling.Profile()
    f = ev.EventFactory("s")
    profile.observe(f(ev.TextDelta, agent_id="a", text="x"))
    profile.observe(f(ev.UsageReported, agent_id="a", backend="b", model="m", latency_s=0.5, ttfb_s=None, status="failed"))
    profile.observe(f(ev.UsageReported, agent_id="a", backend="b", model="m", latency_s=0.3, ttfb_s=0.1))
    data = profile.as_dict()["agents"]["a"]
    assert data["requests"] == 2 and data["first_byte_s"] == 0.1 and data["total_s"] == 0.8
    assert abs(data["streaming_s"] - 0.2) < 1e-9
    only_failed = profiling.Profile()
    only_failed.observe(f(ev.UsageReported, agent_id="z", backend="b", model="m", ttfb_s=None))
    assert only_failed.as_dict()["agents"]["z"]["first_byte_s"] is None
    assert "first byte n/a" in only_failed.format()


def test_start_up_without_proc_is_counted_from_cpu_alone(monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr("builtins.open", no_proc)
    assert profiling.process_age_s() is None
    profile = profiling.Profile()
    profile.mark_startup()
    monkeypatch.undo()
    assert profile.startup is not None and profile.startup.wall_s == 0.0 and profile.startup.cpu_s > 0


def test_start_up_age_is_read_from_proc():
    age = profiling.process_age_s()
    assert age is not None and 0 <= age < time.monotonic() + 1
