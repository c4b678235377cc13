"""Where a retry is decided: the policy, the waits, and retrying a chunk stream.

Waits come from the ``backoff`` library's exponential generator with full
jitter, capped by ``retry_max_delay``, and never shorter than the server's
Retry-After. Only ``BackendError``s with ``retryable`` set are retried. A
Retry-After longer than ``max_retry_wait`` (default 60 s) is not waited for:
the error is raised at once, so a fallback or the next pool member takes over.

Streams: a stream that fails before its first chunk is retried
transparently. One that fails after chunks were already yielded is raised
with ``error.output_started`` set, never retried: what it streamed has been
shown, so the orchestrator fails that launch and relaunches the agent
visibly. This module performs no HTTP itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import attrs

from massgen_core.http.errors import BackendError

DEFAULT_MAX_RETRIES = 3
DEFAULT_INITIAL_DELAY = 1.0
DEFAULT_MAX_DELAY = 30.0
DEFAULT_MAX_WAIT = 60.0


@attrs.frozen(kw_only=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES  # retries after the first attempt
    initial_delay: float = DEFAULT_INITIAL_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    max_wait: float = DEFAULT_MAX_WAIT  # longest server-requested wait (Retry-After) obeyed

    @classmethod
    def from_config(cls, config: Any) -> RetryPolicy:
        """From a ``BackendConfig``'s ``max_retries`` / ``retry_initial_delay`` / ``retry_max_delay`` / ``max_retry_wait``."""

        def pick(value: Any, default: Any) -> Any:
            return default if value is None else value

        return cls(
            max_retries=max(0, int(pick(config.max_retries, DEFAULT_MAX_RETRIES))),
            initial_delay=max(0.0, float(pick(config.retry_initial_delay, DEFAULT_INITIAL_DELAY))),
            max_delay=max(0.0, float(pick(config.retry_max_delay, DEFAULT_MAX_DELAY))),
            max_wait=max(0.0, float(pick(config.max_retry_wait, DEFAULT_MAX_WAIT))),
        )

    def gives_up(self, error: BackendError, attempt: int) -> bool:
        """True when ``error`` on ``attempt`` is final: not retryable, out of retries, or a wait beyond the cap.

        A refused wait rewrites the error's hint to say so (the cap, and what to configure).
        """
        if not error.retryable:
            return True
        if error.retry_after is not None and error.retry_after > self.max_wait:
            error.hint = (
                f"the server asked to wait {error.retry_after:g} s, more than max_retry_wait "
                f"({self.max_wait:g} s); configure a fallback or a pool, or raise max_retry_wait"
            )
            return True
        return attempt > self.max_retries

    def waits(self) -> Callable[[float | None], float]:
        """A function giving the next wait, taking the server's Retry-After (or None).

        backoff is imported at the first wait, not here: most requests never wait,
        and every request is on the way to its first byte when this is called.
        """
        gens: list[Iterator[float]] = []

        def next_wait(retry_after: float | None) -> float:
            import backoff

            if not gens:
                gen = backoff.expo(base=2, factor=self.initial_delay, max_value=self.max_delay)
                gen.send(None)
                gens.append(gen)
            wait = backoff.full_jitter(next(gens[0])) if self.initial_delay > 0 else 0.0
            return max(wait, retry_after or 0.0)

        return next_wait


async def _asyncio_sleep(delay: float) -> None:
    import asyncio  # lazily: see massgen_core/http/__init__.py

    await asyncio.sleep(delay)


OnRetry = Callable[[int, float, BackendError, bool], None]  # attempt, delay, error, restart


async def retry_call(
    call: Callable[[], Awaitable[Any]],
    policy: RetryPolicy,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> Any:
    """Await ``call()`` with retries (non-streaming requests); ``sleep`` defaults to ``asyncio.sleep``."""
    sleep = sleep or _asyncio_sleep
    next_wait = policy.waits()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except BackendError as exc:
            exc.attempts = attempt
            if policy.gives_up(exc, attempt):
                raise
            delay = next_wait(exc.retry_after)
            if on_retry is not None:
                on_retry(attempt, delay, exc, False)
            await sleep(delay)


async def retry_stream(
    open_stream: Callable[[], AsyncIterator[Any]],
    policy: RetryPolicy,
    on_retry: OnRetry | None = None,
    *,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
) -> AsyncIterator[Any]:
    """Yield the chunks of ``open_stream()``, retrying as the module docstring describes."""
    sleep = sleep or _asyncio_sleep
    next_wait = policy.waits()
    attempt = 0
    while True:
        attempt += 1
        started = False
        failure: BackendError | None = None
        stream = open_stream()
        try:
            async for chunk in stream:
                started = True
                yield chunk
            return
        except BackendError as exc:
            exc.attempts = attempt
            exc.output_started = started
            if policy.gives_up(exc, attempt) or started:
                raise
            failure = exc
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        delay = next_wait(failure.retry_after)
        if on_retry is not None:
            on_retry(attempt, delay, failure, False)
        await sleep(delay)
