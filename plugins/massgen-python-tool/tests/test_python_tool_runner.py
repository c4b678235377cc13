"""The python tool: runs code in a child under time, memory and output limits, without secrets."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from massgen_python_tool.runner import (
    Limits,
    MiB,
    RunResult,
    _kill_group,
    run_snippet,
    scrubbed_environment,
)


def _gone_or_zombie(pid: int) -> bool:
    """True once ``pid`` no longer runs (a killed orphan may stay a zombie until init reaps it)."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


async def test_runs_code_and_returns_its_stdout_and_exit_status() -> None:
    result = await run_snippet("print(sum(range(10)))")
    assert result.exit_status == 0
    assert result.stdout == "45\n"
    assert result.to_text() == "exit status 0\n--- stdout ---\n45\n"


async def test_reports_a_failing_snippet_with_its_traceback_and_status() -> None:
    result = await run_snippet("import sys\nprint('before')\nraise SystemExit(3)")
    assert result.exit_status == 3
    result = await run_snippet("1 / 0")
    assert result.exit_status == 1
    assert "ZeroDivisionError" in result.stderr
    assert "--- stderr ---" in result.to_text()


async def test_kills_a_snippet_that_outlives_the_time_limit() -> None:
    started = time.monotonic()
    result = await run_snippet(
        "import time\nprint('going', flush=True)\ntime.sleep(60)", Limits(timeout_s=0.5)
    )
    assert time.monotonic() - started < 5
    assert result.timed_out
    assert result.exit_status is None
    assert result.stdout == "going\n"
    assert result.to_text().startswith("timed out after")


async def test_the_timeout_also_kills_processes_the_snippet_started() -> None:
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(p.pid, flush=True)\n"
        "p.wait()\n"
    )
    result = await run_snippet(code, Limits(timeout_s=1.0))
    assert result.timed_out
    grandchild = int(result.stdout.split()[0])
    assert _gone_or_zombie(grandchild)


async def test_a_memory_hog_fails_with_memory_error_instead_of_taking_the_machine() -> None:
    result = await run_snippet(
        "x = bytearray(200 * 1024 * 1024)\nprint('allocated')", Limits(memory_bytes=64 * MiB)
    )
    assert result.exit_status != 0
    assert "MemoryError" in result.stderr
    assert "allocated" not in result.stdout


async def test_the_same_allocation_succeeds_under_a_larger_limit() -> None:
    result = await run_snippet(
        "x = bytearray(20 * 1024 * 1024)\nprint('allocated')", Limits(memory_bytes=256 * MiB)
    )
    assert result.stdout == "allocated\n"


async def test_api_keys_and_other_secrets_are_not_passed_to_the_snippet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-should-not-leak")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    code = (
        "import os\nprint(sorted(k for k in os.environ))\nprint(os.environ.get('HARMLESS_SETTING'))"
    )
    result = await run_snippet(code)
    assert "OPENAI_API_KEY" not in result.stdout
    assert "MY_SERVICE_TOKEN" not in result.stdout
    assert result.stdout.splitlines()[-1] == "visible"


def test_scrubbed_environment_drops_names_that_look_like_credentials() -> None:
    env = {
        "ANTHROPIC_API_KEY": "a",
        "gemini_api_key": "b",
        "GITHUB_TOKEN": "c",
        "DB_PASSWORD": "d",
        "AWS_SECRET_ACCESS_KEY": "e",
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
    }
    assert scrubbed_environment(env) == {"PATH": "/usr/bin", "LANG": "C.UTF-8"}


async def test_runs_in_a_fresh_temporary_directory_that_is_removed_afterwards() -> None:
    result = await run_snippet("import os\nopen('scratch.txt', 'w').write('x')\nprint(os.getcwd())")
    workdir = result.stdout.strip()
    assert workdir != os.getcwd()
    assert os.path.basename(workdir).startswith("massgen-python-")
    assert not os.path.exists(workdir)


async def test_huge_output_is_truncated_to_the_limit_and_says_how_much_was_dropped() -> None:
    result = await run_snippet(
        "import sys\nsys.stdout.write('a' * 1_000_000)", Limits(max_output_bytes=1000)
    )
    assert result.stdout == "a" * 1000
    assert result.stdout_dropped == 999_000
    assert result.to_text().endswith("[... output truncated: 999000 more bytes not shown]")


async def test_stderr_is_truncated_independently_of_stdout() -> None:
    result = await run_snippet(
        "import sys\nprint('ok')\nsys.stderr.write('e' * 5000)", Limits(max_output_bytes=100)
    )
    assert result.stdout == "ok\n"
    assert result.stderr == "e" * 100
    assert result.stderr_dropped == 4900


async def test_cancelling_the_call_kills_the_child(tmp_path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    task = asyncio.create_task(run_snippet(code, Limits(timeout_s=30)))
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    child = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone_or_zombie(child)


def test_a_child_killed_by_a_signal_is_reported_as_such() -> None:
    result = RunResult(exit_status=-9, stdout="", stderr="")
    assert result.to_text() == "killed by signal 9"


def test_limits_come_from_the_environment_when_set() -> None:
    limits = Limits.from_env(
        {
            "MASSGEN_PYTHON_TOOL_TIMEOUT": "2.5",
            "MASSGEN_PYTHON_TOOL_MEMORY_MB": "128",
            "MASSGEN_PYTHON_TOOL_MAX_OUTPUT": "500",
        }
    )
    assert limits == Limits(timeout_s=2.5, memory_bytes=128 * MiB, max_output_bytes=500)
    assert Limits.from_env({}) == Limits(
        timeout_s=10.0, memory_bytes=256 * MiB, max_output_bytes=20_000
    )


def test_limits_reject_non_positive_values() -> None:
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        Limits(timeout_s=0)


def test_killing_the_group_of_a_finished_process_is_harmless() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    proc.wait()
    _kill_group(proc.pid)  # must not raise ProcessLookupError
