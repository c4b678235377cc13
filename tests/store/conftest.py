"""Fixtures for the conversation store tests: hand-built event streams, a CLI runner, both backends.

Every test that uses the store (``store``, ``record``, ``home_store``, ``record_home``,
``massgen``) runs twice: on a SQLite file and on a real PostgreSQL server that this session
starts once (massgen_core.testing.postgres), each test on a freshly emptied database. Mark a
test ``sqlite_only`` when it is about the SQLite file itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from massgen_core import events as ev
from massgen_core.backend import Usage
from massgen_core.store import Store
from massgen_core.store.recorder import Recorder


def session_events(
    session_id: str = "sess-1",
    *,
    question: str = "What is the capital of France?",
    answers: Sequence[tuple[str, str]] = (("alice", "Paris."), ("bob", "Paris is the capital of France.")),
    winner: str | None = "bob",
    final: str | None = "Paris is the capital of France.",
    backend: str = "openai",
    model: str = "gpt-4o-mini",
    cost: float = 0.001,
    start: float = 1_750_000_000.0,
    finish: bool = True,
) -> list[ev.Event]:
    """A plausible session: answers, votes for the winner, usage per request, final answer."""
    clock = iter(start + i for i in range(10_000))
    f = ev.EventFactory(session_id, clock=lambda: next(clock))
    agents = tuple(dict.fromkeys(a for a, _ in answers)) or ("alice",)
    out: list[ev.Event] = [f(ev.SessionStarted, question=question, agent_ids=agents)]
    revisions: dict[str, int] = {}
    for agent, text in answers:
        out.append(f(ev.AgentStarted, agent_id=agent))
        out.append(f(ev.TextDelta, agent_id=agent, text=text))
        revisions[agent] = revisions.get(agent, 0) + 1
        label = f"agent{agents.index(agent) + 1}"
        out.append(f(ev.AnswerSubmitted, agent_id=agent, label=label, text=text, revision=revisions[agent]))
        out.append(f(ev.UsageReported, agent_id=agent, backend=backend, model=model, latency_s=0.5, ttft_s=0.1, usage=Usage(input_tokens=10, output_tokens=len(text.split()), cost_usd=cost)))  # fmt: skip
    if winner is not None:
        for voter in agents:
            out.append(f(ev.VoteCast, voter=voter, target=winner, target_label="agent2", reason=f"{voter} likes {winner}"))
        out.append(f(ev.WinnerSelected, winner=winner, strategy="majority", tally={winner: float(len(agents))}))
    if final is not None:
        for word in final.split(" "):
            out.append(f(ev.FinalAnswerDelta, agent_id=winner or agents[0], text=word + " "))
    if finish:
        out.append(f(ev.SessionFinished, final_answer=final, winner=winner, ended_by="consensus",
                     usage={"input_tokens": 10 * len(answers)}, cost_usd=0.0, duration_s=3.0))  # fmt: skip
    return out


_TABLES = "conversations, facets, turns, answers, votes, requests, events, final_chunks, fts, fts_cjk"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", ["sqlite"] if sqlite_only else ["sqlite", "postgresql"])


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the whole run; FAILS under CI when it cannot start, skips otherwise."""
    from massgen_core.testing.postgres import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL store tests need a PostgreSQL server: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL is not installed: {exc}")
    try:
        server.test_url = server.create_database("massgen_test")  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """The test database, migrated and emptied (ids restart) for this test."""
    url = pg_server.test_url
    with Store(url=url) as s:
        s.conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _isolated_home: Path) -> str | None:
    """The PostgreSQL URL the test's stores use (also MASSGEN_DATABASE_URL for the CLI), or None for SQLite."""
    if backend == "sqlite":
        return None
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("MASSGEN_DATABASE_URL", url)
    return url


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "conversations.db"


def open_store(db_path: Path, url: str | None) -> Store:
    return Store(db_path) if url is None else Store(url=url)


@pytest.fixture
def new_store(db_path: Path, store_url: str | None) -> Callable[[], Store]:
    """Open another store on the test's database (SQLite file or PostgreSQL)."""
    return lambda: open_store(db_path, store_url)


@pytest.fixture
def sql_one(new_store: Callable[[], Store]) -> Callable[..., Any]:
    """The first column of the first row of a query, read on a connection of its own."""

    def run(sql: str, *args: Any) -> Any:
        with new_store() as s:
            return s.conn.execute(sql, args).fetchone()[0]

    return run


@pytest.fixture
def store(db_path: Path, store_url: str | None):
    s = open_store(db_path, store_url)
    yield s
    s.close()


@pytest.fixture
def record(db_path: Path, store_url: str | None) -> Callable[..., str]:
    """Record one session into the test database; returns the conversation id."""

    def run(events: Sequence[ev.Event] | None = None, *, config: Any = None, conversation_id: str | None = None, **kw: Any) -> str:
        recorder = Recorder(open_store(db_path, store_url), config=config, conversation_id=conversation_id)
        for event in events if events is not None else session_events(**kw):
            recorder(event)
        recorder.close()
        return recorder.conversation_id

    return run


@pytest.fixture
def massgen(_isolated_home: Path, store_url: str | None) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the CLI as a subprocess with the test's MASSGEN_HOME."""

    def run(*args: str, input: str | None = None, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MASSGEN_HOME": str(_isolated_home), "PYTHONIOENCODING": "utf-8"}
        proc = subprocess.run(
            [sys.executable, "-m", "massgen_core", *args],
            capture_output=True, text=True, encoding="utf-8", env=env, input=input, timeout=60, cwd=cwd, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"massgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def home_store(_isolated_home: Path, store_url: str | None):
    """The store the CLI uses (inside MASSGEN_HOME)."""
    s = Store()
    yield s
    s.close()


def home_record(events: Sequence[ev.Event], **kw: Any) -> str:
    recorder = Recorder(Store(), **kw)
    for event in events:
        recorder(event)
    recorder.close()
    return recorder.conversation_id


@pytest.fixture
def record_home(store_url: str | None) -> Callable[..., str]:
    """Record into the store the CLI uses; returns the conversation id."""

    def run(events: Sequence[ev.Event] | None = None, **kw: Any) -> str:
        extra = {k: kw.pop(k) for k in ("config", "conversation_id") if k in kw}
        return home_record(events if events is not None else session_events(**kw), **extra)

    return run


@pytest.fixture
def make_events() -> Callable[..., list[ev.Event]]:
    """``session_events`` as a fixture (test modules cannot import conftest under importlib mode)."""
    return session_events
