"""Where webhook deliveries are queued, signed, POSTed and retried.

One background thread per hook, each with its own ``httpx.Client``, drains a
bounded FIFO queue (full: the oldest delivery is dropped, with a warning), so
a slow or dead endpoint never holds the session or the other hooks back.
Retries (5xx, 408, 429, connection errors and timeouts) wait by the
``backoff`` library's exponential generator with full jitter, never less than
the server's Retry-After. ``submit`` must stay cheap: it only appends to the
queues; the JSON body and its HMAC are made on the worker thread. Nothing here
logs a secret, a header value or a URL's path.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from massgen_core.http.errors import parse_retry_after  # the provider layer's reading of the header
from massgen_core.redaction import redact
from massgen_webhooks.config import Hook, Settings

log = logging.getLogger("massgen_webhooks")

SIGNATURE_HEADER = "X-MassGen-Signature"
MAX_RETRY_AFTER = 60.0  # a server asking for more is treated as asking for this much
USER_AGENT = "massgen-webhooks/0.0.4"


def sign(secret: str, body: bytes) -> str:
    """The ``X-MassGen-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


@attrs.frozen
class Delivery:
    event: Mapping[str, Any]  # event_to_dict(...) of the event
    delivery_id: str  # the same on every attempt, so a receiver can drop duplicates

    @property
    def event_type(self) -> str:
        return str(self.event.get("type"))

    def body(self) -> bytes:
        return json.dumps(
            {"event": self.event, "delivery_id": self.delivery_id}, separators=(",", ":")
        ).encode()


class HookWorker:
    """The queue and the thread that deliver one hook's events in order."""

    def __init__(
        self,
        hook: Hook,
        queue_size: int,
        *,
        client_factory: Callable[[Hook], Any] | None = None,
        jitter: Callable[[float], float] | None = None,
    ) -> None:
        self.hook = hook
        self.queue_size = queue_size
        self._items: collections.deque[Delivery] = collections.deque()
        self._cond = threading.Condition()
        self._wake = threading.Event()  # set on close: cuts a retry wait short
        self._enqueued = 0
        self._finished = 0  # delivered, given up on, or dropped
        self._closed = False
        self._thread: threading.Thread | None = None
        self._client_factory = client_factory or _default_client
        self._jitter = jitter
        self.dropped = 0
        self.delivered = 0
        self.failed = 0

    # -- producer side (the session's thread) -----------------------------------

    def put(self, delivery: Delivery) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._items) >= self.queue_size:
                self._items.popleft()
                self._finished += 1
                self.dropped += 1
                if self.dropped == 1:  # later drops are counted and reported at exit
                    log.warning(
                        "massgen-webhooks: queue for %s is full (%d deliveries): dropping the oldest; "
                        "the endpoint is slower than the session",
                        self.hook.name,
                        self.queue_size,
                    )
            self._items.append(delivery)
            self._enqueued += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"massgen-webhook {self.hook.name}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return self._enqueued - self._finished

    def wait_until(self, target: int, deadline: float) -> bool:
        """Wait until ``target`` deliveries are finished or ``deadline`` (monotonic) passes."""
        with self._cond:
            while self._finished < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    @property
    def enqueued(self) -> int:
        with self._cond:
            return self._enqueued

    def close(self, join_timeout: float = 0.2) -> int:
        """Stop the thread after its current attempt; return how many deliveries are abandoned."""
        with self._cond:
            self._closed = True
            abandoned = self._enqueued - self._finished
            self._cond.notify_all()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(join_timeout)
        return abandoned

    # -- consumer side (the worker thread) -------------------------------------------

    def _run(self) -> None:
        client = self._client_factory(self.hook)
        try:
            while True:
                with self._cond:
                    while not self._items and not self._closed:
                        self._cond.wait()
                    if self._closed:
                        return
                    delivery = self._items.popleft()
                try:
                    ok = self._deliver(client, delivery)
                except Exception as exc:  # a bug here must not kill the thread and stall the queue
                    log.warning(
                        "massgen-webhooks: unexpected error delivering to %s: %s",
                        self.hook.name,
                        type(exc).__name__,
                    )
                    ok = False
                with self._cond:
                    self._finished += 1
                    if ok:
                        self.delivered += 1
                    else:
                        self.failed += 1
                    self._cond.notify_all()
        finally:
            client.close()

    def _headers(self, delivery: Delivery, body: bytes) -> dict[str, str]:
        headers = dict(self.hook.headers)
        headers.update(
            {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-MassGen-Event": delivery.event_type,
                "X-MassGen-Delivery": delivery.delivery_id,
            }
        )
        if self.hook.secret:
            headers[SIGNATURE_HEADER] = sign(self.hook.secret, body)
        return headers

    def _deliver(self, client: Any, delivery: Delivery) -> bool:
        import backoff
        import httpx

        body = delivery.body()
        headers = self._headers(delivery, body)
        waits = backoff.expo(
            base=2, factor=self.hook.retry_initial_delay, max_value=self.hook.retry_max_delay
        )
        waits.send(None)
        jitter = self._jitter or backoff.full_jitter
        attempts = self.hook.max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = client.post(self.hook.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}"
            else:
                if 200 <= response.status_code < 300:
                    return True
                reason = f"HTTP {response.status_code}"
                if not _retryable(response.status_code):
                    log.warning(
                        "massgen-webhooks: %s refused %s delivery %s with %s; not retried (check the URL and headers)",
                        self.hook.name,
                        delivery.event_type,
                        delivery.delivery_id,
                        reason,
                    )
                    return False
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            if attempt == attempts:
                break
            delay = max(jitter(next(waits)), min(retry_after or 0.0, MAX_RETRY_AFTER))
            log.debug(
                "massgen-webhooks: %s delivery %s to %s failed (%s); retry %d/%d in %.2f s",
                delivery.event_type,
                delivery.delivery_id,
                self.hook.name,
                reason,
                attempt,
                self.hook.max_retries,
                delay,
            )
            if self._wake.wait(delay):
                log.warning(
                    "massgen-webhooks: %s delivery %s to %s not sent: shutting down while retrying (%s)",
                    delivery.event_type,
                    delivery.delivery_id,
                    self.hook.name,
                    reason,
                )
                return False
        log.warning(
            "massgen-webhooks: gave up on %s delivery %s to %s after %d attempt(s): %s",
            delivery.event_type,
            delivery.delivery_id,
            self.hook.name,
            attempts,
            reason,
        )
        return False


def _default_client(hook: Hook) -> Any:
    import httpx

    return httpx.Client(timeout=hook.timeout, follow_redirects=False)


class Dispatcher:
    """Routes events to the hooks that want them; one ``HookWorker`` per hook."""

    def __init__(self, settings: Settings, **worker_options: Any) -> None:
        from massgen_core.events import EVENT_TYPES

        self.settings = settings
        self.workers = [
            HookWorker(hook, settings.queue_size, **worker_options) for hook in settings.hooks
        ]
        self.wanted = settings.wanted(frozenset(EVENT_TYPES))
        self._closed = False

    def submit(self, event: Any) -> None:
        """Queue ``event`` for every hook that wants it; cheap, never blocks on the network."""
        if event.type not in self.wanted:
            return
        from massgen_core.events import event_to_dict

        data = redact(event_to_dict(event))  # error texts may quote a base URL or a key
        for worker in self.workers:
            if worker.hook.wants(event.type):
                worker.put(Delivery(event=data, delivery_id=uuid.uuid4().hex))

    def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for everything queued so far; True when all finished."""
        deadline = time.monotonic() + timeout
        targets = [(w, w.enqueued) for w in self.workers]
        return all([w.wait_until(target, deadline) for w, target in targets])

    def close(self, timeout: float | None = None) -> None:
        """Flush (bounded), then stop every worker; report what could not be sent."""
        if self._closed:
            return
        self._closed = True
        self.flush(self.settings.flush_timeout if timeout is None else timeout)
        for worker in self.workers:
            abandoned = worker.close()
            if abandoned or worker.dropped:
                log.warning(
                    "massgen-webhooks: %s: %d delivery(ies) not sent at exit, %d dropped because the queue was full",
                    worker.hook.name,
                    abandoned,
                    worker.dropped,
                )
