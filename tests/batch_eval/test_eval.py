"""``massgen eval``: datasets, statistics, a team against a weaker baseline, reports, resuming, judges."""

from __future__ import annotations

import json
import re
import textwrap
from html.parser import HTMLParser
from typing import Any

import pytest

from massgen_core import evaluation as evl
from massgen_core.batch import BatchInputError
from massgen_core.errors import MassGenError
from massgen_core.testing import FakeServer, Response
from massgen_core.testing.openai import chat_events

from .conftest import ArithmeticModel, browser_dom, questions_file, run_massgen, team_config

PAIRS = [(1, 2), (2, 2), (3, 5), (4, 4), (5, 0), (6, 1)]  # odd first operand: the baseline errs (3 items)


# -- statistics ----------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values():
    lo, hi = evl.wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert evl.wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert evl.wilson(0, 0) == (0.0, 0.0)


def test_sign_test():
    assert evl.sign_test(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert evl.sign_test(0, 0) == 1.0 and evl.sign_test(3, 3) == 1.0


def test_config_labels():
    assert evl.config_label("fast=configs/a.yaml", []) == ("fast", "configs/a.yaml")
    assert evl.config_label("configs/team.yaml", ["x"]) == ("team", "configs/team.yaml")
    assert evl.config_label("team.yaml", ["team", "team-2"]) == ("team-3", "team.yaml")


# -- datasets ------------------------------------------------------------------------


def test_the_bundled_sample_dataset_loads_with_the_installed_graders(installed_plugins):
    items = evl.load_dataset(evl.dataset_path("sample"), graders=installed_plugins.graders)
    assert len(items) >= 20 and {i.grader for i in items} == {"numeric", "normalized", "choice"}
    assert all(i.expected not in (None, "") for i in items)
    with pytest.raises(MassGenError, match="no bundled dataset"):
        evl.dataset_path("nonesuch")


def test_dataset_problems_are_named(tmp_path, installed_plugins):
    path = tmp_path / "ds.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n')
    with pytest.raises(BatchInputError, match=r"ds.jsonl:1: item 'a' has no 'expected'"):
        evl.load_dataset(path, graders=installed_plugins.graders)
    path.write_text('{"id": "a", "question": "q", "expected": 1, "grader": "numerc"}\n')
    with pytest.raises(MassGenError, match="numeric"):  # did you mean
        evl.load_dataset(path, graders=installed_plugins.graders)
    path.write_text('{"id": "a", "question": "q", "expected": 1, "grader_options": [1]}\n')
    with pytest.raises(BatchInputError, match="grader_options"):
        evl.load_dataset(path, graders=installed_plugins.graders)
    path.write_text('{"id": "a", "question": "q", "expected": 1, "grader": 3}\n')
    with pytest.raises(BatchInputError, match="'grader' must be"):
        evl.load_dataset(path, graders=installed_plugins.graders)
    path.write_text("\n")
    with pytest.raises(MassGenError, match="no items"):
        evl.load_dataset(path, graders=installed_plugins.graders)


# -- a team against a baseline, end to end ---------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.csp = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values.get("content") or ""


@pytest.fixture
def setup(tmp_path):
    with FakeServer() as team_server, FakeServer() as base_server:
        ArithmeticModel(team_server)
        ArithmeticModel(base_server, wrong_when=lambda a, b: a % 2 == 1)
        team = team_config(tmp_path / "team.yaml", team_server, agents=2)
        base = team_config(tmp_path / "base.yaml", base_server, agents=1, price=0.5)
        dataset = questions_file(tmp_path / "ds.jsonl", PAIRS, grader="numeric")
        with dataset.open("a") as handle:
            handle.write(json.dumps({"id": "hostile<b>", "question": "What is 9 + 9? <img src=x onerror=alert(1)>",
                                     "expected": 18, "grader": "numeric"}) + "\n")
        yield {"team": team, "base": base, "dataset": dataset, "team_server": team_server,
               "base_server": base_server}


def test_a_team_beats_a_weaker_baseline_and_the_report_says_where(tmp_path, setup):
    out = tmp_path / "eval"
    html_path = tmp_path / "report.html"
    args = ["eval", str(setup["dataset"]), "--config", f"duo={setup['team']}", "--baseline", f"solo={setup['base']}",
            "--out", str(out), "--json", "--html", str(html_path), "--no-logs"]
    run = run_massgen(args, tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    duo, solo = report["configs"]
    assert (duo["label"], duo["role"], duo["correct"], duo["n"]) == ("duo", "team", 7, 7)
    assert (solo["label"], solo["role"], solo["correct"]) == ("solo", "baseline", 3)  # wrong on 1, 3, 5, 9
    assert duo["accuracy"] == 1.0 and duo["ci95"][0] == pytest.approx(evl.wilson(7, 7)[0])
    assert duo["cost_usd"] > solo["cost_usd"] > 0 and duo["input_tokens"] > solo["input_tokens"]
    [comparison] = report["comparisons"]
    assert (comparison["wins"], comparison["losses"], comparison["ties"]) == (4, 0, 3)
    assert comparison["win_items"] == ["q0", "q2", "q4", "hostile<b>"]
    row = next(r for r in report["per_item"] if r["id"] == "q2")
    assert row["results"]["solo"]["detail"] == "9 ≠ 8" and row["results"]["duo"]["answer"] == "The answer is 8."
    assert json.loads((out / "report.json").read_text()) == report
    assert {p.name for p in out.iterdir()} == {"duo.jsonl", "solo.jsonl", "report.json"}

    page = html_path.read_text()
    tags = _Tags()
    tags.feed(page)
    assert "script" not in tags.tags and "img" not in tags.tags and tags.tags.count("svg") == 3
    assert "default-src 'none'" in tags.csp
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "hostile&lt;b&gt;" in page

    served = len(setup["team_server"].requests) + len(setup["base_server"].requests)
    again = run_massgen([*args[:-4], "--json", "--no-logs"], tmp_path)  # same --out: resumes, asks nothing
    assert again.returncode == 0, again.stderr
    assert len(setup["team_server"].requests) + len(setup["base_server"].requests) == served
    assert json.loads(again.stdout)["configs"] == report["configs"]

    refused = run_massgen([*args, "--html", str(html_path)], tmp_path)
    assert refused.returncode == 1 and "exists: pass --force" in refused.stderr


def test_the_table_report_on_stdout(tmp_path, setup):
    run = run_massgen(["eval", str(setup["dataset"]), "--config", str(setup["team"]), "--out",
                       str(tmp_path / "e"), "-q"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert re.search(r"team\s.*100\.0%", run.stdout) and "results and report.json in" in run.stdout


def test_eval_needs_a_config_and_a_judge_for_llm_judge(tmp_path, setup):
    run = run_massgen(["eval", str(setup["dataset"])], tmp_path)
    assert run.returncode == 1 and "--config TEAM" in run.stderr
    judged = tmp_path / "judged.jsonl"
    judged.write_text(json.dumps({"id": "a", "question": "What is 1 + 1?", "expected": 2, "grader": "llm_judge"}) + "\n")
    run = run_massgen(["eval", str(judged), "--config", str(setup["team"])], tmp_path)
    assert run.returncode == 1 and "--judge CONFIG" in run.stderr


def test_an_llm_judge_grades_through_its_own_model(tmp_path, setup):
    verdicts: list[str] = []

    def judge(request: Any) -> Response:
        prompt = request.json()["messages"][-1]["content"]
        reference = re.search(r"Reference answer:\n(.*)\n", prompt)[1]
        answer = re.search(r"Answer to grade:\n(.*)\n", prompt)[1]
        verdicts.append(answer)
        return Response.sse(chat_events(["CORRECT" if reference in answer else "INCORRECT"]))

    with FakeServer() as judge_server:
        judge_server.add("POST", "/v1/chat/completions", judge)
        judge_config = tmp_path / "judge.yaml"
        judge_config.write_text(textwrap.dedent(f"""\
            agent:
              id: judge
              backend: {{type: chatcompletion, model: judge-1, base_url: "{judge_server.url}/v1", max_retries: 0}}
            ui: {{use_orchestrator_for_single_agent: false}}
            """))
        judged = tmp_path / "judged.jsonl"
        with judged.open("w") as handle:
            for i, (a, b) in enumerate(PAIRS[:3]):
                handle.write(json.dumps({"id": f"j{i}", "question": f"What is {a} + {b}?", "expected": a + b,
                                         "grader": "llm_judge"}) + "\n")
        run = run_massgen(["eval", str(judged), "--config", str(setup["base"]), "--judge", str(judge_config),
                           "--out", str(tmp_path / "j"), "--json", "--no-logs"], tmp_path)
    assert run.returncode == 0, run.stderr
    [solo] = json.loads(run.stdout)["configs"]
    assert solo["correct"] == 1 and len(verdicts) == 3  # 1+2 -> 4 and 3+5 -> 9 are wrong


@pytest.mark.slow
def test_the_html_report_renders_in_a_real_browser(tmp_path, setup):
    html_path = tmp_path / "report.html"
    run = run_massgen(["eval", str(setup["dataset"]), "--config", str(setup["team"]), "--baseline",
                       str(setup["base"]), "--out", str(tmp_path / "e"), "--html", str(html_path), "-q", "--no-logs"],
                      tmp_path)
    assert run.returncode == 0, run.stderr
    dom = browser_dom(html_path, tmp_path / "profile")
    assert dom.count("<svg") == 3 and dom.count("<rect") >= 2 * 7 and "Against the baseline" in dom
    assert "onerror=alert(1)&gt;" in dom and "<img" not in dom


def test_a_named_evaluation_lives_in_the_data_folder_and_never_writes_through_a_link(tmp_path, setup):
    target = tmp_path / "elsewhere.html"
    link = tmp_path / "link.html"
    link.symlink_to(target)
    args = ["eval", str(setup["dataset"]), "--config", str(setup["team"]), "--name", "nightly", "-q", "--no-logs"]
    run = run_massgen([*args, "--html", str(link), "--force"], tmp_path)
    assert run.returncode == 1 and "symbolic link" in run.stderr and not target.exists()
    folder = tmp_path / "data" / "evals" / "nightly"
    assert not folder.exists()  # refused before anything ran
    done = run_massgen(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (folder / "team.jsonl").is_file() and (folder / "report.json").is_file()


def test_labels_name_files_so_they_are_plain():
    with pytest.raises(MassGenError, match="must be letters, digits"):
        evl.config_label("[red]x\x07=team.yaml", [])
    with pytest.raises(MassGenError, match="must be letters, digits"):
        evl.config_label("..=team.yaml", [])
    assert evl.config_label("odd dir/[my] team.yaml", []) == ("_my__team", "odd dir/[my] team.yaml")
