"""``--executor ray``: the same questions as Ray tasks on a local Ray this test starts, the same results."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from massgen_core.errors import MassGenError
from massgen_core.executors import make_executor

from .conftest import ArithmeticModel, questions_file, team_config
from .conftest import run_massgen as run

VOLATILE = ("session_id", "duration_s", "conversation_id")

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed: the README's test command (uv run --all-groups pytest) installs it",
)


def run_massgen(args: list[str], home: Path):
    # A local Ray started for the run (its files under this HOME), never a cluster this machine knows.
    return run(args, home, env={"HOME": str(home)}, unset=("RAY_ADDRESS",))


def stable(path: Path) -> dict[str, dict]:
    rows = {}
    for line in path.read_text().splitlines():
        data = json.loads(line)
        rows[data["id"]] = {k: v for k, v in data.items() if k not in VOLATILE}
    return rows


def test_an_unknown_executor_is_named():
    with pytest.raises(MassGenError, match="choose local or ray"):
        make_executor("dask", None)  # type: ignore[arg-type]


@pytest.mark.slow
@needs_ray
def test_ray_tasks_give_the_results_the_local_executor_gives(tmp_path, fake_server):
    ArithmeticModel(fake_server, wrong_when=lambda a, b: a == 3)
    # One agent: its answer, vote and presentation follow one order, so every field can be compared
    # (with two, which agent answers first is a race, here as on any executor).
    config = team_config(tmp_path / "team.yaml", fake_server, agents=1)
    path = questions_file(tmp_path / "qs.jsonl", [(1, 2), (3, 4), (5, 6), (7, 8)])
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ["--config", str(config), "--no-logs", "-q", "-j", "2"]
    assert run_massgen(["batch", str(path), "-o", str(local), *common], tmp_path).returncode == 0
    run = run_massgen(["batch", str(path), "-o", str(ray_out), *common, "--executor", "ray"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert stable(ray_out) == stable(local)
    assert stable(ray_out)["q1"]["final_answer"] == "The answer is 8."  # 3 + 4, answered wrongly on purpose

    # An evaluation through Ray: the same report as the local one.
    dataset = questions_file(tmp_path / "ds.jsonl", [(1, 2), (3, 4)], grader="numeric")
    reports = []
    for executor in ("local", "ray"):
        out = run_massgen(["eval", str(dataset), "--config", str(config), "--out", str(tmp_path / executor),
                           "--json", "--no-logs", "--executor", executor], tmp_path)
        assert out.returncode == 0, out.stderr
        reports.append({c["label"]: (c["correct"], c["n"], c["input_tokens"]) for c in json.loads(out.stdout)["configs"]})
    assert reports[0] == reports[1] == {"team": (1, 2, reports[0]["team"][2])}


def test_the_ray_task_builds_the_team_in_the_worker_and_reports_errors_as_text(tmp_path, fake_server):
    from massgen_core.config import loader
    from massgen_core.executors import _answer

    ArithmeticModel(fake_server)
    config = loader.load_config(team_config(tmp_path / "team.yaml", fake_server, agents=1))
    result = _answer(config, False, "What is 20 + 1?", ())
    assert result.final_answer == "The answer is 21."
    nokey = loader.config_from_dict({"agent": {"id": "a", "backend": {"type": "openai", "model": "gpt-4o-mini"}}})
    assert "OPENAI_API_KEY" in _answer(nokey, False, "q", ())["error"]


async def test_a_task_error_becomes_a_massgen_error_and_no_ray_is_a_clear_one(monkeypatch):
    import asyncio

    from massgen_core.batch import Item
    from massgen_core.executors import RayExecutor

    class Remote:
        def remote(self, *args):
            future = asyncio.get_running_loop().create_future()
            future.set_result({"error": "agent a: no API key"})
            return future

    executor = RayExecutor(team=type("T", (), {"config": None, "record": False})())
    executor._remote = Remote()
    with pytest.raises(MassGenError, match="no API key"):
        await executor.ask(Item(id="1", question="q"))
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MassGenError, match="uv sync --group ray"):
        executor.start()
