"""Running many questions through one team: ``massgen batch`` and ``massgen eval`` share this.

``read_items(path)`` reads a JSON-lines file lazily (one object per line, each
with an ``id`` and a ``question``), naming file and line for every bad one.
``run_batch`` runs them on a ``Team`` with at most ``concurrency`` turns in
flight and appends one result line per question to the output as soon as it
is done (flushed and fsynced, so a SIGKILL loses at most the questions in
flight). A rerun reads the output first and skips the ids already there: the
batch resumes. Memory stays bounded whatever the input's length: items are
read as slots free up, and only the ids are kept. Backends' connection pools,
rate-limit holds and circuit breakers are process-wide, so every question
shares them; ``max_cost_usd`` stops starting questions once the batch has
spent it. Nothing here prints: progress goes to a callback.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from massgen_core.errors import MassGenError

if TYPE_CHECKING:
    from massgen_core.team import Team

RESERVED = ("id", "question", "history")


class BatchInputError(MassGenError):
    """A line of the questions file that is not a usable question."""


@attrs.frozen(kw_only=True)
class Item:
    """One question of a batch, with whatever else its line carried (``extra``)."""

    id: str
    question: str
    history: tuple[tuple[str, str], ...] = ()
    extra: Mapping[str, Any] = attrs.Factory(dict)
    line: int = 0


def parse_item(text: str, *, path: str, line: int) -> Item:
    """An ``Item`` from one JSON line; ``BatchInputError`` naming ``path:line`` otherwise."""
    where = f"{path}:{line}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BatchInputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise BatchInputError(f"{where}: each line must be a JSON object with an id and a question")
    raw_id = data.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
        raise BatchInputError(f"{where}: 'id' is missing or not a string or integer (every question needs one)")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise BatchInputError(f"{where}: 'question' is missing or empty (id {raw_id!r})")
    history: list[tuple[str, str]] = []
    for turn in data.get("history") or []:
        if not (isinstance(turn, list | tuple) and len(turn) == 2 and all(isinstance(t, str) for t in turn)):
            raise BatchInputError(f"{where}: 'history' must be a list of [question, answer] string pairs")
        history.append((turn[0], turn[1]))
    extra = {k: v for k, v in data.items() if k not in RESERVED}
    return Item(id=str(raw_id), question=question, history=tuple(history), extra=extra, line=line)


def read_items(path: Path) -> Iterator[Item]:
    """The file's items in order, read lazily; blank lines are skipped, repeated ids refused."""
    seen: dict[str, int] = {}
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BatchInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                item = parse_item(text, path=str(path), line=number)
                if item.id in seen:
                    raise BatchInputError(
                        f"{path}:{number}: id {item.id!r} appears twice (first on line {seen[item.id]}); ids must be unique"
                    )
                seen[item.id] = number
                yield item
        except UnicodeDecodeError as exc:
            raise BatchInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def count_items(path: Path) -> int:
    """How many non-blank lines the file has (for the progress bar), reading it once in constant memory."""
    try:
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    except OSError:
        return 0


def done_ids(output: Path) -> set[str]:
    """Ids already answered in ``output``; a torn last line (a kill mid-write) is cut off.

    Any other line that is not a result is an error naming it: resuming must
    never drop results it cannot read.
    """
    if not output.exists():
        return set()
    ids: set[str] = set()
    with output.open("rb+") as handle:
        good_end = 0
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                handle.truncate(good_end)  # the line being written when the batch was killed
                break
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if not (isinstance(data, dict) and "id" in data):
                raise BatchInputError(
                    f"{output}:{number}: not a result line; fix or delete it (or write to another --output)"
                )
            ids.add(str(data["id"]))
            good_end += len(raw)
    return ids


@attrs.define
class Progress:
    """How the batch is going; handed to the progress callback after every question."""

    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    cost_usd: float = 0.0
    started: float = attrs.Factory(time.monotonic)
    stopped_by: str | None = None  # "budget" or "interrupted" when the batch ended early
    last: Mapping[str, Any] | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.skipped - self.done)

    def eta_s(self) -> float | None:
        if self.done == 0:
            return None
        rate = (time.monotonic() - self.started) / self.done
        return rate * self.remaining


def result_line(item: Item, result: Any | None, error: str | None, duration_s: float) -> dict[str, Any]:
    """The JSON object written for one question."""
    line: dict[str, Any] = {"id": item.id, "question": item.question}
    if result is not None:
        line.update(result.to_dict())
        line["error"] = result.error if result.final_answer is None else None
    else:
        line.update({"final_answer": None, "winner": None, "ended_by": "error", "error": error,
                     "answers": {}, "votes": [], "usage": {}, "cost_usd": 0.0, "duration_s": duration_s})
    if item.extra:
        line["input"] = dict(item.extra)
    return line


def _write(handle: IO[str], line: Mapping[str, Any]) -> None:
    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


async def run_batch(
    team: Team,
    items: Iterator[Item],
    output: Path,
    *,
    concurrency: int = 4,
    total: int = 0,
    max_cost_usd: float | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_result: Callable[[Item, dict[str, Any]], None] | None = None,
    executor: Any = None,
) -> Progress:
    """Run every item not yet in ``output``; the final ``Progress``.

    At most ``concurrency`` questions are in flight; results are appended in
    the order they finish. Cancelling the task (Ctrl-C) cancels the questions
    in flight, which a rerun then answers.
    """
    if concurrency < 1:
        raise MassGenError("--concurrency must be at least 1")
    skip = done_ids(output)
    progress = Progress(total=total, skipped=0)
    output.parent.mkdir(parents=True, exist_ok=True)
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    handle = output.open("a", encoding="utf-8")
    writing = asyncio.Lock()  # one line at a time; the fsync runs off the event loop

    async def one(item: Item) -> None:
        t0 = time.monotonic()
        try:
            try:
                if executor is not None:
                    result = await executor.ask(item)
                else:
                    result = await team.ask(item.question, history=item.history)
                line = result_line(item, result, None, time.monotonic() - t0)
            except MassGenError as exc:
                line = result_line(item, None, str(exc), time.monotonic() - t0)
            async with writing:
                await asyncio.to_thread(_write, handle, line)
            progress.done += 1
            progress.failed += line["final_answer"] is None
            progress.cost_usd += float(line.get("cost_usd") or 0.0)
            progress.last = line
            if on_result is not None:
                on_result(item, line)
            if on_progress is not None:
                on_progress(progress)
        finally:
            slots.release()

    try:
        for item in items:
            if item.id in skip:
                progress.skipped += 1
                continue
            await slots.acquire()
            if max_cost_usd is not None and progress.cost_usd >= max_cost_usd:
                slots.release()
                progress.stopped_by = "budget"
                break
            task = asyncio.ensure_future(one(item))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)
    except asyncio.CancelledError:
        progress.stopped_by = "interrupted"
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    finally:
        handle.close()
    return progress


__all__ = [
    "BatchInputError",
    "Item",
    "Progress",
    "count_items",
    "done_ids",
    "parse_item",
    "read_items",
    "result_line",
    "run_batch",
]
