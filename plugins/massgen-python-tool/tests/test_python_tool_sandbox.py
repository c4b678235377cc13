"""Every escape of issue 9, tried for real against each sandbox level.

Each attack is a snippet a hostile model could send: read a planted fake SSH
key in the real home directory, a planted ``$MASSGEN_HOME/config/.env``, the
parent's environment through ``/proc/<pid>/environ``; connect to a listener
the test owns on 127.0.0.1; write outside its working directory; leave a
detached child that keeps stdout open; exhaust memory; print 100 MB. At each
level the attack is either blocked, or it succeeds and the level's stated gaps
say so (``Sandbox.gaps``), so the tool never claims more than holds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from massgen_python_tool import sandbox
from massgen_python_tool.runner import Limits, MiB, run_snippet

LEVELS = sandbox.LEVELS
SECRET = "sk-planted-fake-" + uuid.uuid4().hex[:12]
# A hang guard, not a timing assertion: the old runner waited for a leftover child's pipe.
HANG_GUARD_S = 30.0


def _run(code: str, level: str, **limits: object):
    limits.setdefault("timeout_s", 5.0)
    run = run_snippet(code, Limits(sandbox=level, **limits))  # type: ignore[arg-type]
    return asyncio.run(asyncio.wait_for(run, HANG_GUARD_S))


def _gaps(level: str) -> str:
    return " ".join(sandbox.choose(level, Limits(sandbox=level)).gaps(Limits()))


def _as_nobody(level: str) -> bool:
    """Whether root's snippet runs as nobody at this level (a Python nobody can reach, e.g. Debian's):
    then the test's files, in root's private temporary folder, are out of its reach as well."""
    return sandbox.choose(level, Limits(sandbox=level)).drop_root


def _read_attempt(path: str) -> str:
    return (
        "try:\n"
        f"    print('READ', open({path!r}).read())\n"
        "except OSError as exc:\n"
        "    print('BLOCKED', type(exc).__name__)\n"
    )


@pytest.fixture
def planted_ssh_key():
    """A fake private key in the real home directory, as an attacker would look for it."""
    base = Path.home() / f".massgen-sandbox-test-{uuid.uuid4().hex[:8]}"
    key = base / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True)
    key.write_text(SECRET)
    key.chmod(0o600)
    yield key
    shutil.rmtree(base)


@pytest.mark.parametrize("level", LEVELS)
def test_a_planted_ssh_key_in_the_home_directory(level, planted_ssh_key):
    result = _run(_read_attempt(str(planted_ssh_key)), level)
    if level in ("namespaces", "landlock") or _as_nobody(level):
        assert result.stdout.startswith("BLOCKED") and SECRET not in result.stdout
    else:
        assert SECRET in result.stdout and "~/.ssh" in _gaps(level)


@pytest.mark.parametrize("level", LEVELS)
def test_the_keys_file_massgen_setup_writes(level, _isolated_home):
    env_file = _isolated_home / "config" / ".env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"OPENAI_API_KEY={SECRET}\n")
    env_file.chmod(0o600)
    result = _run(_read_attempt(str(env_file)), level)
    if level in ("namespaces", "landlock") or _as_nobody(level):
        assert result.stdout.startswith("BLOCKED") and SECRET not in result.stdout
    else:
        assert SECRET in result.stdout and "$MASSGEN_HOME/config/.env" in _gaps(level)


# A MassGen process with a key in its environment from the start (what /proc/<pid>/environ shows):
# it runs one snippet, which reads the environ of its parent, its parent's parent, and of MassGen
# itself by pid, then its own.
_PARENT = """
import asyncio, os, sys
from massgen_python_tool.runner import Limits, run_snippet
code = sys.argv[1].replace("MASSGEN_PID", str(os.getpid()))
print(asyncio.run(run_snippet(code, Limits(sandbox=sys.argv[2]))).stdout, end="")
"""
_SPY = """
import os
pids, pid = [MASSGEN_PID], os.getppid()
while pid > 1 and len(pids) < 6:
    pids.append(pid)
    try:
        pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except OSError:  # no /proc to walk: the pids known so far
        break
for pid in pids:
    try:
        print("READ", open(f"/proc/{pid}/environ").read())
    except OSError as exc:
        print("BLOCKED", type(exc).__name__)
print("OWN", sorted(os.environ))
"""


@pytest.mark.parametrize("level", LEVELS)
def test_the_parents_environment_through_proc(level):
    env = {**os.environ, "OPENAI_API_KEY": SECRET}
    proc = subprocess.run(
        [sys.executable, "-c", _PARENT, _SPY, level], capture_output=True, text=True, env=env,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr
    spied, own = proc.stdout.split("OWN")
    assert "OPENAI_API_KEY" not in own  # never in its own environment
    # Run by root, the snippet lacks MassGen's capabilities, so the kernel refuses it at any level.
    if level in ("namespaces", "landlock") or os.getuid() == 0:
        assert SECRET not in spied and "READ" not in spied
        assert spied.count("BLOCKED") >= 1
    else:
        assert SECRET in spied and "/proc/<pid>/environ" in _gaps(level)


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that records whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("level", LEVELS)
def test_a_network_connection(level, listener):
    port, accepted = listener
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        "    print('CONNECTED')\n"
        "except OSError as exc:\n"
        "    print('BLOCKED', type(exc).__name__)\n"
        "try:\n"
        "    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))\n"
        "    print('UDP SENT')\n"
        "except OSError as exc:\n"
        "    print('UDP BLOCKED', type(exc).__name__)\n"
    )
    result = _run(code, level)
    if level == "none":
        assert "CONNECTED" in result.stdout and accepted and "network" in _gaps(level)
    else:
        assert result.stdout.startswith("BLOCKED") and "UDP BLOCKED" in result.stdout
        assert accepted == []


@pytest.mark.parametrize("level", LEVELS)
def test_writing_outside_the_working_directory(level, tmp_path):
    targets = [tmp_path / "outside.txt", Path(sys.prefix) / f"massgen-escape-{uuid.uuid4().hex[:8]}"]
    code = (
        "import os\n"
        "open('inside.txt', 'w').write('fine')\n"  # its own directory stays writable
        f"for path in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        open(path, 'w').write('escaped')\n"
        "        print('WROTE')\n"
        "    except OSError as exc:\n"
        "        print('BLOCKED', type(exc).__name__)\n"
    )
    try:
        result = _run(code, level)
        written = [t for t in targets if t.exists()]
    finally:
        for target in targets:
            target.unlink(missing_ok=True)
    assert result.exit_status == 0, result.stderr
    if level in ("namespaces", "landlock"):
        assert result.stdout.split() == ["BLOCKED", "PermissionError", "BLOCKED", "PermissionError"] or (
            level == "namespaces" and result.stdout.count("BLOCKED") == 2  # host /tmp is not even there
        )
        assert written == []
    elif _as_nobody(level):
        assert written == [] and "write every file the user nobody" in _gaps(level)
    else:
        assert written and "write every file" in _gaps(level)


def _detached_child(marker: str, then: str) -> str:
    """A snippet that forks a child which leaves the session if it can and keeps stdout open."""
    child = (
        "import os, time\ntry:\n    os.setsid()\nexcept OSError:\n    pass\n"
        f"open('detached', 'w').close()\ntime.sleep(60)  # {marker}"
    )
    return (
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        "for _ in range(500):  # until the child has left the session, if it may\n"
        "    if os.path.exists('detached'):\n"
        "        break\n"
        "    time.sleep(0.01)\n"
        "print('spawned', flush=True)\n"
        f"{then}\n"
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("then", ["pass", "import time; time.sleep(60)"], ids=["exits", "times-out"])
def test_a_detached_child_that_keeps_stdout_open(level, then, running_with):
    marker = f"massgen-detached-{uuid.uuid4().hex}"
    try:
        result = _run(_detached_child(marker, then), level, timeout_s=2.0)
        survivors = running_with(marker)
        assert result.stdout == "spawned\n"
        assert result.timed_out == (then != "pass")
        if level == "none":
            assert survivors and "setsid()" in _gaps(level)
        else:
            assert survivors == []
    finally:
        for pid in running_with(marker):
            os.kill(pid, 9)


@pytest.mark.parametrize("level", LEVELS)
def test_exhausting_memory(level):
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n"
    result = _run(code, level, memory_bytes=128 * MiB)
    assert not result.timed_out and result.exit_status == 1
    assert "MemoryError" in result.stderr


@pytest.mark.parametrize("level", LEVELS)
def test_printing_100_mb(level):
    result = _run("import sys\nsys.stdout.write('x' * 100_000_000)\n", level, max_output_bytes=20_000)
    assert result.exit_status == 0
    assert result.stdout == "x" * 20_000 and result.stdout_dropped == 100_000_000 - 20_000


def test_a_level_that_cannot_start_here_is_refused_with_each_reason():
    # 4 MiB of address space is too little to start an interpreter, at any level
    with pytest.raises(RuntimeError, match="sandbox level unavailable here: namespaces: .*none: "):
        sandbox.choose("auto", Limits(memory_bytes=4 * MiB))
    with pytest.raises(ValueError, match="unknown sandbox level 'paranoid'"):
        sandbox.choose("paranoid", Limits())


def test_an_unavailable_level_is_one_line_from_massgen_sandbox():
    env = {**os.environ, "MASSGEN_PYTHON_TOOL_MEMORY_MB": "4", "MASSGEN_PYTHON_TOOL_SANDBOX": "seccomp"}
    proc = subprocess.run(
        [sys.executable, "-m", "massgen_core", "sandbox"], capture_output=True, text=True, env=env,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("massgen: error: sandbox level unavailable here: seccomp: ")
    assert len(proc.stderr.splitlines()) == 1


def test_every_folder_on_the_interpreters_link_chain_is_readable(tmp_path, monkeypatch):
    """A venv's python linked to a PATH shim linked to the real binary: all three folders go in."""
    real = tmp_path / "usr" / "bin"
    shim = tmp_path / "shim"
    venv = tmp_path / "venv" / "bin"
    for folder in (real, shim, venv):
        folder.mkdir(parents=True)
    (real / "python3.11").write_text("")
    (shim / "python3").symlink_to(real / "python3.11")
    (venv / "python").symlink_to(shim / "python3")
    assert sandbox._link_dirs(str(venv / "python")) == [str(shim), str(real)]
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    assert {str(shim), str(real)} <= set(sandbox.read_only_paths())
