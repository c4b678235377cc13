"""Choosing the python tool's sandbox level and saying what it does and does not protect.

The confinement itself happens in the child (``jail.py``); this module is the
parent's side: it probes which level this machine allows (strongest first,
once per process), builds the JSON spec a run hands to the jail, and words the
protections and the gaps for the tool's description and ``massgen sandbox``.
It must not import the MassGen core.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from massgen_python_tool.runner import Limits

LEVELS = ("namespaces", "landlock", "seccomp", "none")
JAIL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jail.py")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Variables a snippet gets from the parent; everything else (keys, tokens, paths) is dropped.
PASSED_ENV = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"

_GAPS = {
    "namespaces": (
        "the memory limit is per process (at most {procs} processes)",
        "a kernel vulnerability could let a snippet out",
    ),
    "landlock": (
        "the memory limit is per process",
        "it sees the names of other processes (not their files, memory or environment)",
        "its working directory is on the host's temporary directory: many files can fill that disk",
        "a kernel vulnerability could let a snippet out",
    ),
    "seccomp": (
        "it can read every file {who} can (~/.ssh, $MASSGEN_HOME/config/.env)",
        "it can write every file {who} can",
        "its working directory is on the host's temporary directory: many files can fill that disk",
        "it can read /proc/<pid>/environ of {whose} processes",
        "the memory limit is per process",
    ),
    "none": (
        "it can read and write every file {who} can (~/.ssh, $MASSGEN_HOME/config/.env)",
        "it has the network",
        "it can read /proc/<pid>/environ of {whose} processes",
        "a child that calls setsid() leaves the process group and survives the time limit",
    ),
}


@attrs.frozen(kw_only=True)
class Sandbox:
    """The level runs use, what holds at it, and why stronger levels were not used."""

    level: str
    protections: tuple[str, ...] = ()
    drop_root: bool = False
    # Run by root, the snippet has no capability (or is nobody): the kernel then refuses it
    # /proc/<pid>/environ of MassGen, whose capabilities it lacks.
    root: bool = False
    unavailable: tuple[str, ...] = ()  # "level: reason" for each stronger level that failed

    def gaps(self, limits: Limits) -> tuple[str, ...]:
        who, whose = ("the user nobody", "nobody's") if self.drop_root else ("the MassGen user", "that user's (MassGen's included)")
        gaps = [gap for gap in _GAPS[self.level] if not (self.root and "/proc/<pid>/environ" in gap)]
        return tuple(gap.format(procs=limits.max_processes, who=who, whose=whose) for gap in gaps)

    def summary(self, limits: Limits) -> str:
        """One paragraph: level, what holds, what does not."""
        held = "; ".join(self.protections) or "resource limits only"
        return (
            f"Sandbox level {self.level}: {held}. Not protected: {'; '.join(self.gaps(limits))}."
        )


def scrubbed_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The only variables a snippet gets from ``environ``: locale and time zone, and a fixed PATH."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k in PASSED_ENV or k.startswith("LC_")}
    env["PATH"] = SAFE_PATH
    return env


def _link_dirs(path: str) -> list[str]:
    """The folders of every link ``path`` resolves through (a venv's ``python`` -> a PATH shim -> /usr/bin)."""
    folders: list[str] = []
    seen: set[str] = set()
    while os.path.islink(path) and path not in seen:
        seen.add(path)
        path = os.path.join(os.path.dirname(path), os.readlink(path))
        folders.append(os.path.dirname(os.path.abspath(path)))
    return folders


def read_only_paths() -> list[str]:
    """The host directories a snippet may read: the system's, and the running Python's.

    The interpreter is started inside the jail by the path it was started by, so each folder a
    link on the way to the real binary lives in is there too (uv links a venv's python to the
    python3 it found on PATH, which may itself be a link in a folder of its own).
    """
    python = [
        os.path.realpath(p)
        for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)))
    ] + _link_dirs(sys.executable)
    paths: list[str] = []
    for path in [*SYSTEM_DIRS, *python]:
        if path in paths or any(path.startswith(p.rstrip("/") + "/") for p in paths):
            continue
        paths = [p for p in paths if not p.startswith(path.rstrip("/") + "/")]
        paths.append(path)
    return paths


def spec_for(
    level: str,
    limits: Limits,
    workdir: str,
    *,
    drop_root: bool,
    probe: bool = False,
) -> dict[str, Any]:
    """What the jail needs for one run: level, paths, limits and the snippet's environment."""
    cwd = "/tmp/" + os.path.basename(workdir) if level == "namespaces" else workdir
    env = scrubbed_environment()
    env.update(HOME=cwd, TMPDIR=cwd)
    return {
        "level": level,
        "probe": probe,
        "workdir": workdir,
        "cwd": cwd,
        "code_path": os.path.join(workdir, "snippet.py"),
        "python": sys.executable,
        "read_only": read_only_paths(),
        "memory_bytes": limits.memory_bytes,
        "cpu_seconds": int(limits.timeout_s) + 2,  # a backstop: the wall clock kills first
        "disk_bytes": limits.disk_bytes,
        "max_processes": limits.max_processes,
        "drop_root": drop_root,
        "env": env,
    }


def jail_command(spec: Mapping[str, Any]) -> list[str]:
    # -S: the jail needs only the standard library, and starts faster without site-packages
    return [sys.executable, "-I", "-S", JAIL, marshal.dumps(dict(spec)).hex()]


def prepare_workdir(workdir: str, code: str, *, drop_root: bool) -> None:
    with open(os.path.join(workdir, "snippet.py"), "w", encoding="utf-8") as fh:
        fh.write(code)
    if drop_root:  # the snippet runs as nobody and must be able to work in its directory
        os.chmod(workdir, 0o777)


def _probe(level: str, limits: Limits, drop_root: bool) -> tuple[str, ...] | str:
    """The protections ``level`` establishes here, or why it cannot."""
    with tempfile.TemporaryDirectory(prefix="massgen-python-") as workdir:
        prepare_workdir(workdir, "print('ready')", drop_root=drop_root)
        spec = spec_for(level, limits, workdir, drop_root=drop_root, probe=True)
        try:
            proc = subprocess.run(
                jail_command(spec), capture_output=True, text=True, timeout=20,
                env=scrubbed_environment(), cwd=workdir,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{type(exc).__name__}: {exc}"
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or lines[-1:] != ["ready"]:
        return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return tuple(lines[:-1])


_CHOSEN: dict[tuple[str, Any], Sandbox] = {}


def choose(requested: str, limits: Limits) -> Sandbox:
    """The strongest level this machine allows (``auto``), or exactly ``requested``; cached."""
    key = (requested, attrs.astuple(limits))
    if key not in _CHOSEN:
        _CHOSEN[key] = _choose(requested, limits)
    return _CHOSEN[key]


def _choose(requested: str, limits: Limits) -> Sandbox:
    if requested != "auto" and requested not in LEVELS:
        raise ValueError(
            f"unknown sandbox level {requested!r}; expected auto or one of {', '.join(LEVELS)}"
        )
    candidates = LEVELS if requested == "auto" else (requested,)
    unavailable: list[str] = []
    is_root = os.getuid() == 0
    for level in candidates:
        # Outside namespaces root drops to nobody, unless nobody cannot reach the interpreter
        # (a Python under /root); inside them it drops its capabilities instead.
        drops = (True, False) if is_root and level != "namespaces" else (False,)
        for drop_root in drops:
            found = _probe(level, limits, drop_root)
            if isinstance(found, tuple):
                return Sandbox(
                    level=level,
                    protections=found,
                    drop_root=drop_root and is_root,
                    root=is_root,
                    unavailable=tuple(unavailable),
                )
        unavailable.append(f"{level}: {found}")
    raise RuntimeError("sandbox level unavailable here: " + "; ".join(unavailable))
