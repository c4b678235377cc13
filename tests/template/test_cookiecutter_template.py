"""The cookiecutter plugin template, tested the way a plugin author uses it.

For each kind the template is rendered with the cookiecutter library, the
result is installed together with the core into a fresh virtual environment
(uv, offline: the locked wheels `uv sync` left in the shared uv cache), and
then `massgen plugins --json` must list it and its own tests must pass with
that environment's pytest. The generated backend also plays a real session,
through the orchestrator and through the `massgen` command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "cookiecutter-plugin"


@attrs.frozen
class Kind:
    name: str  # what the plugin registers
    registry: str  # field of `massgen plugins --json`
    module_file: str
    test_suffix: str


KINDS = {
    "backend": Kind("echo-back", "backends", "backend.py", "backend"),
    "voting_strategy": Kind("unanimous-or-first", "voting_strategies", "voting.py", "voting"),
    "exporter": Kind("votes-csv", "exporters", "exporter.py", "exporter"),
    "tool": Kind("word_count", "tools", "tool.py", "tool"),
    "grader": Kind("keywords", "graders", "grader.py", "grader"),
}


def render(kind: str, out_dir: Path, **extra: str) -> Path:
    context = {"kind": kind, "plugin_name": KINDS[kind].name, "author_name": "Ada Tester", **extra}
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out_dir), extra_context=context)
    )


def clean_env(home: Path) -> dict[str, str]:
    """The parent's environment minus what would leak this venv or coverage into the child."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MASSGEN_LOAD_PLUGINS", "PYTHONHOME")
        and not k.startswith(("COV_CORE_", "COVERAGE_"))
    }
    env["MASSGEN_HOME"] = str(home)
    return env


def run(
    args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@attrs.frozen
class Installed:
    kind: str
    project: Path
    python: Path
    env: dict[str, str]


def make_venv(venv: Path, editables: list[Path], env: dict[str, str]) -> Path:
    """A fresh venv: the locked core dependencies, pytest and ``editables``; returns its python."""
    python = venv / "bin" / "python"
    uv = shutil.which("uv")
    if uv:
        # Offline: the test suite never reaches the internet. A frozen sync reads
        # exact wheels from uv.lock, which `uv sync` has already put in the cache
        # (a plain `uv pip install --offline` would need index pages it lacks).
        # --no-install-workspace keeps first-party plugins out of the venv.
        sync_env = {**env, "UV_PROJECT_ENVIRONMENT": str(venv)}
        editable_args = [arg for path in editables for arg in ("-e", path)]
        steps = [
            ([uv, "venv", "--quiet", "--python", sys.executable, venv], env),
            (
                [uv, "sync", "--quiet", "--frozen", "--offline", "--inexact", "--no-default-groups"]
                + ["--no-install-workspace", "--group", "dev"],
                sync_env,
            ),
            (
                [uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--python", python]
                + editable_args,
                env,
            ),
            ([uv, "pip", "check", "--quiet", "--python", python], env),
        ]
    else:  # pragma: no cover - uv is part of the documented install
        pip_args = [arg for path in editables for arg in ("-e", path)]
        steps = [
            ([sys.executable, "-m", "venv", venv], env),
            ([python, "-m", "pip", "install", "--quiet", "pytest", *pip_args], env),
        ]
    for step, step_env in steps:
        result = run(step, cwd=REPO, env=step_env, timeout=300)
        assert result.returncode == 0, f"{step[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return python


@pytest.fixture(scope="module")
def installed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Installed:
    """One fresh venv per kind with the core and the rendered plugin (shared by its tests)."""
    kind: str = request.param
    base = tmp_path_factory.mktemp(f"template-{kind}")
    project = render(kind, base / "src")
    env = clean_env(base / "massgen_home")
    editables = [REPO, project]
    if kind == "backend":  # a session needs the default voting strategy
        editables.append(REPO / "plugins" / "massgen-voting-majority")
    if kind == "grader":  # massgen eval runs the offline demo team
        editables += [REPO / "plugins" / "massgen-voting-majority", REPO / "plugins" / "massgen-scripted"]
    python = make_venv(base / "venv", editables, env)
    return Installed(kind=kind, project=project, python=python, env=env)


# -- rendering --------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_rendered_package_holds_only_the_chosen_kind(kind: str, tmp_path: Path) -> None:
    project = render(kind, tmp_path)
    module = project.name.replace("-", "_")
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert files == {
        "README.md",
        "pyproject.toml",
        f"{module}/__init__.py",
        f"{module}/{KINDS[kind].module_file}",
        f"tests/test_{module}_{KINDS[kind].test_suffix}.py",
        f"tests/test_{module}_entry_point.py",
    }
    init = (project / module / "__init__.py").read_text()
    assert f"def register_{KINDS[kind].registry}(" in init
    assert init.count("@hookimpl") == 1


def test_the_prompts_name_the_distribution_module_and_entry_point(tmp_path: Path) -> None:
    project = render(
        "voting_strategy", tmp_path, plugin_name="Coin Flip", description="Flips a coin"
    )
    assert project.name == "massgen-coin-flip"
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "massgen-coin-flip"' in pyproject
    assert 'description = "Flips a coin"' in pyproject
    assert '[project.entry-points.massgen]\ncoin-flip = "massgen_coin_flip"' in pyproject
    assert 'name = "Ada Tester"' in pyproject
    assert (project / "massgen_coin_flip" / "voting.py").is_file()


def test_a_tool_name_is_made_a_valid_function_name(tmp_path: Path) -> None:
    project = render("tool", tmp_path, plugin_name="char-count")
    assert 'name="char_count"' in (project / "massgen_char_count" / "tool.py").read_text()


def test_a_name_that_cannot_be_a_python_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FailedHookException):
        render("tool", tmp_path, plugin_name="9 lives!")
    assert not list(tmp_path.iterdir())


# -- installed into a fresh virtual environment ---------------------------


@pytest.mark.slow
@pytest.mark.parametrize("installed", sorted(KINDS), indirect=True)
def test_massgen_plugins_lists_the_installed_plugin_and_what_it_registers(
    installed: Installed,
) -> None:
    result = run(
        [installed.python, "-m", "massgen_core", "plugins", "--json"],
        installed.project,
        installed.env,
    )
    assert result.returncode == 0, result.stderr
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    entry = listed[installed.project.name]
    kind = KINDS[installed.kind]
    assert entry["version"] == "0.1.0"
    assert entry["error"] is None
    assert entry[kind.registry] == [kind.name]
    for other in {"backends", "voting_strategies", "exporters", "tools", "graders"} - {kind.registry}:
        assert entry[other] == []


@pytest.mark.slow
@pytest.mark.parametrize("installed", sorted(KINDS), indirect=True)
def test_the_installed_plugin_passes_its_own_tests(installed: Installed) -> None:
    result = run(
        [installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        installed.project,
        installed.env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        " passed" in result.stdout
        and "failed" not in result.stdout
        and "skipped" not in result.stdout
    )


SESSION_SCRIPT = """
import asyncio, json, sys
from massgen_core.config.schema import (
    AgentConfig, BackendConfig, Config, TimeoutConfig, VotingConfig
)
from massgen_core.events import event_to_dict
from massgen_core.orchestrator import build_orchestrator

backend_type, question = sys.argv[1], sys.argv[2]
config = Config(
    agents=tuple(
        AgentConfig(id=agent_id, backend=BackendConfig(type=backend_type, model=backend_type))
        for agent_id in ("alice", "bob")
    ),
    voting=VotingConfig(strategy="majority"),
    # a stuck session fails the test instead of hanging it
    timeout_settings=TimeoutConfig(orchestrator_timeout_seconds=30),
)

async def main():
    orchestrator = build_orchestrator(config)
    try:
        events = [event_to_dict(event) async for event in orchestrator.run(question)]
    finally:
        await orchestrator.aclose()
    print(json.dumps(events))

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize("installed", ["backend"], indirect=True)
def test_the_installed_backend_plays_a_whole_session_to_consensus(installed: Installed) -> None:
    script = installed.project.parent / "session.py"
    script.write_text(SESSION_SCRIPT)
    question = "What is the capital of France?"
    result = run(
        [installed.python, script, KINDS["backend"].name, question],
        installed.project,
        installed.env,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert by_type["answer_submitted"][0]["text"] == question
    assert {vote["voter"] for vote in by_type["vote_cast"]} == {"alice", "bob"}
    assert by_type["usage_reported"][0]["output_tokens"] > 0
    (finished,) = by_type["session_finished"]
    assert finished["ended_by"] == "consensus"
    assert finished["winner"] in ("alice", "bob")
    assert finished["final_answer"] == question


@pytest.mark.slow
@pytest.mark.parametrize("installed", ["backend"], indirect=True)
def test_the_massgen_command_finds_the_installed_backend_by_model_name(
    installed: Installed,
) -> None:
    question = "Is the sky blue?"
    result = run(
        [
            installed.python,
            "-m",
            "massgen_core",
            "--model",
            KINDS["backend"].name,
            "--no-display",
            question,
        ],
        installed.project,
        installed.env,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == question


@pytest.mark.slow
@pytest.mark.parametrize("installed", ["grader"], indirect=True)
def test_massgen_eval_grades_with_the_installed_grader(installed: Installed) -> None:
    dataset = installed.project.parent / "dataset.jsonl"
    dataset.write_text(
        json.dumps({"id": "review", "question": "What makes a good code review?",
                    "expected": ["review", "zebra"], "grader": KINDS["grader"].name,
                    "grader_options": {"min_share": 0.5}}) + "\n"
    )
    result = run(
        [installed.python, "-m", "massgen_core", "eval", str(dataset), "--config", "offline-demo.yaml",
         "--out", str(installed.project.parent / "eval"), "--json", "--no-logs"],
        installed.project,
        installed.env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcome = report["per_item"][0]["results"]["offline-demo"]
    assert outcome["correct"] and outcome["score"] == 0.5 and outcome["detail"] == "found 1 of 2: ['review']"
