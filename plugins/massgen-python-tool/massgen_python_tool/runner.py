"""Running one Python snippet in a resource-limited child process.

The child gets a fresh temporary working directory, an environment without
secrets, a wall-clock timeout, an address-space limit (RLIMIT_AS) and a cap on
the output kept. This is damage limitation for honest mistakes (an endless
loop, a huge allocation, a flood of prints), NOT a security sandbox: the
snippet runs as the same user with the same file-system and network access.
This module must not import anything from the MassGen core, so it can be
reused and tested on its own. POSIX only (it relies on ``resource``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from massgen_core.redaction import is_secret_name

if TYPE_CHECKING:
    import asyncio

MiB = 1024 * 1024



def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class Limits:
    """What one snippet may use; the defaults are the tool's documented defaults."""

    timeout_s: float = attrs.field(default=10.0, validator=_positive)
    memory_bytes: int = attrs.field(default=256 * MiB, validator=_positive)
    max_output_bytes: int = attrs.field(default=20_000, validator=_positive)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Limits overridden by MASSGEN_PYTHON_TOOL_TIMEOUT / _MEMORY_MB / _MAX_OUTPUT."""
        environ = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}
        if value := environ.get("MASSGEN_PYTHON_TOOL_TIMEOUT"):
            kwargs["timeout_s"] = float(value)
        if value := environ.get("MASSGEN_PYTHON_TOOL_MEMORY_MB"):
            kwargs["memory_bytes"] = int(float(value) * MiB)
        if value := environ.get("MASSGEN_PYTHON_TOOL_MAX_OUTPUT"):
            kwargs["max_output_bytes"] = int(value)
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


def scrubbed_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` without any variable whose name looks like a credential."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if not is_secret_name(k)}


def _limit_child(limits: Limits) -> Callable[[], None]:
    # resource, signal and tempfile are imported where used: every massgen command loads this
    # plugin to register the tool, and only running a snippet needs them.
    import resource

    # Runs in the forked child before exec, so it only calls into C: no
    # imports (another thread may have held the import lock at fork time).
    def apply() -> None:  # pragma: no cover - runs in the forked child, out of coverage's sight
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        # A CPU ceiling a little above the wall clock catches a child that
        # somehow survives the kill; no core files for a crash in a temp dir.
        cpu = int(limits.timeout_s) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


async def _drain(stream: asyncio.StreamReader, keep: int) -> tuple[bytes, int]:
    """Read ``stream`` to its end keeping ``keep`` bytes; return them and the count dropped."""
    kept = bytearray()
    dropped = 0
    while chunk := await stream.read(65536):
        room = keep - len(kept)
        if room > 0:
            kept += chunk[:room]
            dropped += max(0, len(chunk) - room)
        else:
            dropped += len(chunk)
    return bytes(kept), dropped


def _kill_group(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # already gone
        pass


async def run_snippet(code: str, limits: Limits | None = None) -> RunResult:
    """Run ``code`` with ``sys.executable -I`` in a temp dir under ``limits``."""
    # asyncio is imported here, not at the top: every massgen command loads this plugin to
    # register the tool, and only running a snippet needs it.
    import asyncio
    import tempfile

    limits = limits or Limits()
    with tempfile.TemporaryDirectory(prefix="massgen-python-") as workdir:
        script = os.path.join(workdir, "snippet.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(code)
        env = scrubbed_environment()
        env.update(HOME=workdir, TMPDIR=workdir, PYTHONIOENCODING="utf-8")
        started = time.monotonic()
        # -I: ignore PYTHON* variables and the user's site-packages; a new
        # session so that a timeout kills whatever the snippet spawned too.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            script,
            cwd=workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_limit_child(limits),
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        collect = asyncio.gather(
            _drain(proc.stdout, limits.max_output_bytes),
            _drain(proc.stderr, limits.max_output_bytes),
            proc.wait(),
        )
        timed_out = False
        try:
            (out, out_dropped), (err, err_dropped), status = await asyncio.wait_for(
                asyncio.shield(collect), limits.timeout_s
            )
        except TimeoutError:
            timed_out = True
            _kill_group(proc.pid)
            (out, out_dropped), (err, err_dropped), status = await collect
        except BaseException:  # cancelled: leave no child behind
            _kill_group(proc.pid)
            await collect
            raise
        return RunResult(
            exit_status=None if timed_out else status,
            stdout=out.decode("utf-8", errors="replace"),
            stderr=err.decode("utf-8", errors="replace"),
            timed_out=timed_out,
            stdout_dropped=out_dropped,
            stderr_dropped=err_dropped,
            duration_s=time.monotonic() - started,
        )
