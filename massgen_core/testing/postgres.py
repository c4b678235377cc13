"""A throw-away PostgreSQL server for tests and benchmarks: initdb in a temp folder, stopped by PID.

``PostgresServer.start()`` finds the server binaries (Debian's ``postgresql`` package, or
``MASSGEN_PG_BIN``), creates a cluster in a new temporary folder, and starts it on a free
loopback port with its unix socket in that folder. PostgreSQL refuses to run as root, so
under root the cluster belongs to the ``postgres`` user (or ``nobody``) and every server
command runs through ``runuser``. ``stop()`` signals the postmaster's PID and removes the
folder. Nothing here is used by MassGen itself.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl; PostgresUnavailable (saying what to install) when there is none."""
    candidates = [os.environ["MASSGEN_PG_BIN"]] if os.environ.get("MASSGEN_PG_BIN") else []
    candidates += sorted(
        glob.glob(_BIN_GLOB),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
    )[::-1]
    for candidate in candidates:
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    raise PostgresUnavailable(
        f"no PostgreSQL server binaries (initdb, pg_ctl) in {_BIN_GLOB} or MASSGEN_PG_BIN: "
        "install Debian's postgresql package (apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One running cluster; ``url(database)`` is how to reach it."""

    def __init__(self, bin_dir: Path, root: Path, port: int, owner: str | None) -> None:
        self.bin_dir, self.root, self.port, self.owner = bin_dir, root, port, owner
        self.data = root / "data"
        self.pid: int | None = None

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="massgen-pg-"))
        owner = None
        if os.geteuid() == 0:  # initdb and postgres refuse root
            owner = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
            if owner is None:
                raise PostgresUnavailable(
                    "running as root and there is no postgres or nobody user to run PostgreSQL as"
                )
            entry = pwd.getpwnam(owner)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = cls(bin_dir, root, _free_port(), owner)
        try:
            server._run(
                "initdb",
                "-D",
                str(server.data),
                "-U",
                "massgen",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            options = f"-p {server.port} -k {root} -h 127.0.0.1 -c fsync=off -c max_connections=200"
            server._run(
                "pg_ctl",
                "-D",
                str(server.data),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
            server.pid = int((server.data / "postmaster.pid").read_text().split()[0])
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.owner is not None:
            command = [_runuser(), "-u", self.owner, "--", *command]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr or proc.stdout}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://massgen@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database (UTF-8, so that case folding knows every script); returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown by the postmaster's PID, then remove the cluster's folder."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGINT)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    os.kill(self.pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _runuser() -> str:
    """util-linux's ``runuser``: in /usr/sbin, which a non-login root PATH (CI's /usr/bin:/bin) lacks."""
    for candidate in (shutil.which("runuser"), "/usr/sbin/runuser", "/sbin/runuser"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("the PostgreSQL test server runs as an unprivileged user through runuser (util-linux), not found")
