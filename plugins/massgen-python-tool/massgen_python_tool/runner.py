"""Running one Python snippet in a sandboxed child process, under time, memory and output limits.

The child is ``jail.py`` in a new session and process group: it confines
itself at the level ``sandbox.choose`` found this machine allows (namespaces,
else Landlock, else seccomp, else limits only) and execs the snippet in a
fresh temporary directory with a scrubbed environment. Here: the limits, the
wall-clock kill of the whole group (and whatever is left of it when the
snippet exits), and reading the output without ever waiting on a pipe that a
leftover process keeps open. This module must not import anything from the
MassGen core, so it can be reused and tested on its own. Linux gives every
protection; elsewhere only the limits hold (``sandbox`` says which).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from massgen_python_tool.sandbox import scrubbed_environment

if TYPE_CHECKING:
    import asyncio

MiB = 1024 * 1024
# After the snippet is gone, how long its output may still take to arrive before the pipes are closed.
OUTPUT_GRACE_S = 0.5


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class Limits:
    """What one snippet may use; the defaults are the tool's documented defaults."""

    timeout_s: float = attrs.field(default=10.0, validator=_positive)
    memory_bytes: int = attrs.field(default=256 * MiB, validator=_positive)
    max_output_bytes: int = attrs.field(default=20_000, validator=_positive)
    disk_bytes: int = attrs.field(default=64 * MiB, validator=_positive)  # /tmp size, largest file
    max_processes: int = attrs.field(default=32, validator=_positive)
    sandbox: str = "auto"  # auto, or one level of sandbox.LEVELS exactly

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Limits overridden by MASSGEN_PYTHON_TOOL_TIMEOUT / _MEMORY_MB / _MAX_OUTPUT / _SANDBOX."""
        environ = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        if value := environ.get("MASSGEN_PYTHON_TOOL_TIMEOUT"):
            kwargs["timeout_s"] = float(value)
        if value := environ.get("MASSGEN_PYTHON_TOOL_MEMORY_MB"):
            kwargs["memory_bytes"] = int(float(value) * MiB)
        if value := environ.get("MASSGEN_PYTHON_TOOL_MAX_OUTPUT"):
            kwargs["max_output_bytes"] = int(value)
        if value := environ.get("MASSGEN_PYTHON_TOOL_SANDBOX"):
            kwargs["sandbox"] = value.strip().lower()
        return cls(**kwargs)


@attrs.frozen(kw_only=True)
class RunResult:
    """What happened to one snippet."""

    exit_status: int | None  # None when it was killed for running too long
    stdout: str
    stderr: str
    timed_out: bool = False
    stdout_dropped: int = 0  # bytes beyond the output limit that were discarded
    stderr_dropped: int = 0
    duration_s: float = 0.0

    def to_text(self) -> str:
        """The result as the model sees it: status line, then stdout and stderr."""
        if self.timed_out:
            status = f"timed out after {self.duration_s:.1f} s (killed)"
        elif self.exit_status is not None and self.exit_status < 0:
            status = f"killed by signal {-self.exit_status}"
        else:
            status = f"exit status {self.exit_status}"
        parts = [status]
        for label, text, dropped in (
            ("stdout", self.stdout, self.stdout_dropped),
            ("stderr", self.stderr, self.stderr_dropped),
        ):
            if text or dropped:
                section = f"--- {label} ---\n{text}"
                if dropped:
                    section += f"\n[... output truncated: {dropped} more bytes not shown]"
                parts.append(section)
        return "\n".join(parts)


class _Sink:
    """What one stream delivered: the first ``keep`` bytes, and how many more were dropped."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.kept = bytearray()
        self.dropped = 0

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            room = self.keep - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
                self.dropped += max(0, len(chunk) - room)
            else:
                self.dropped += len(chunk)


def _kill_group(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # already gone
        pass


async def run_snippet(code: str, limits: Limits | None = None) -> RunResult:
    """Run ``code`` in the sandbox, in a fresh temp dir, under ``limits``."""
    # asyncio is imported here, not at the top: every massgen command loads this plugin to
    # register the tool, and only running a snippet needs it.
    import asyncio
    import tempfile

    from massgen_python_tool import sandbox

    limits = limits or Limits()
    # The first call probes the machine (a few short subprocesses); off the event loop.
    box = await asyncio.to_thread(sandbox.choose, limits.sandbox, limits)
    with tempfile.TemporaryDirectory(prefix="massgen-python-") as workdir:
        drop_root = box.drop_root
        sandbox.prepare_workdir(workdir, code, drop_root=drop_root and box.level != "namespaces")
        spec = sandbox.spec_for(box.level, limits, workdir, drop_root=drop_root)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *sandbox.jail_command(spec),
            cwd=workdir,
            env=scrubbed_environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own session and process group, killed whole
        )
        assert proc.stdout is not None and proc.stderr is not None
        sinks = (_Sink(limits.max_output_bytes), _Sink(limits.max_output_bytes))
        drains = [
            asyncio.ensure_future(sinks[0].drain(proc.stdout)),
            asyncio.ensure_future(sinks[1].drain(proc.stderr)),
        ]
        timed_out = False
        try:
            try:
                status = await asyncio.wait_for(_exit_status(proc), limits.timeout_s)
            except TimeoutError:
                timed_out = True
                _kill_group(proc.pid)
                status = await _exit_status(proc)
            _kill_group(proc.pid)  # whatever the snippet left running in its group
            await _finish_reading(drains, proc)
        except BaseException:  # cancelled: leave no child behind
            _kill_group(proc.pid)
            for task in drains:
                task.cancel()
            await _exit_status(proc)
            _close_pipes(proc)
            raise
        return RunResult(
            exit_status=None if timed_out else status,
            stdout=sinks[0].kept.decode("utf-8", errors="replace"),
            stderr=sinks[1].kept.decode("utf-8", errors="replace"),
            timed_out=timed_out,
            stdout_dropped=sinks[0].dropped,
            stderr_dropped=sinks[1].dropped,
            duration_s=time.monotonic() - started,
        )


async def _finish_reading(drains: Sequence[asyncio.Future[None]], proc: asyncio.subprocess.Process) -> None:
    """Let the output arrive; a pipe that a leftover process still holds open is closed, not waited on."""
    import asyncio

    _done, pending = await asyncio.wait(drains, timeout=OUTPUT_GRACE_S)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
        _close_pipes(proc)


def _close_pipes(proc: asyncio.subprocess.Process) -> None:
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


async def _exit_status(proc: asyncio.subprocess.Process) -> int:
    """The exit status as soon as the process is gone (``proc.wait()`` also waits for its pipes)."""
    import asyncio

    loop = asyncio.get_running_loop()
    pidfd_open = getattr(os, "pidfd_open", None)  # Linux 5.3+; elsewhere the loop below polls
    try:
        fd = pidfd_open(proc.pid) if pidfd_open else None
    except OSError:  # already gone, or no pidfd in this kernel: the loop below sees it
        fd = None
    if fd is not None:
        gone = loop.create_future()
        loop.add_reader(fd, lambda: None if gone.done() else gone.set_result(None))
        try:
            await gone
        finally:
            loop.remove_reader(fd)
            os.close(fd)
    while proc.returncode is None:  # the child watcher reaps it a moment later
        await asyncio.sleep(0.005)
    return proc.returncode
