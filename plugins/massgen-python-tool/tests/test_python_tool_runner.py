"""The python tool: runs code in a child under time, memory and output limits, without secrets."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest
from massgen_python_tool.runner import (
    Limits,
    MiB,
    RunResult,
    _kill_group,
    run_snippet,
    scrubbed_environment,
)


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


async def test_only_locale_and_time_zone_variables_reach_the_snippet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("MY_SERVICE_SECRET_URL", "https://user:pw@example.invalid")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    result = await run_snippet("import os\nprint(sorted(os.environ))\nprint(os.environ['PATH'])")
    names, path = result.stdout.splitlines()
    assert "OPENAI_API_KEY" not in names and "MY_SERVICE_SECRET_URL" not in names
    assert "'LC_ALL'" in names and "'TZ'" in names and "'HOME'" in names
    assert path == "/usr/local/bin:/usr/bin:/bin"


def test_scrubbed_environment_keeps_an_allow_list_not_a_deny_list() -> None:
    env = {
        "ANTHROPIC_API_KEY": "a",
        "DATABASE_URL": "postgres://u:p@h/db",
        "SSH_AUTH_SOCK": "/tmp/ssh-x/agent.1",
        "PATH": "/home/me/bin:/usr/bin",
        "LANG": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
    }
    assert scrubbed_environment(env) == {
        "LANG": "C.UTF-8",
        "LC_TIME": "en_GB.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }


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


async def test_cancelling_the_call_kills_the_child(running_with) -> None:
    marker = f"massgen-cancel-{uuid.uuid4().hex}"
    code = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # {marker}'])\ntime.sleep(60)"
    task = asyncio.create_task(run_snippet(code, Limits(timeout_s=30)))
    for _ in range(200):
        if running_with(marker):
            break
        await asyncio.sleep(0.05)
    assert running_with(marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert running_with(marker) == []


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
