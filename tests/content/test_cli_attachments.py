"""``massgen --image/--file`` and ``/attach`` as a user runs them, and what the store and exports keep."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from massgen_core.testing import FakeServer, media
from massgen_core.testing.openai import coordination_handler


def run_cli(*args, home, stdin=None, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(MASSGEN_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "massgen_core", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, input=stdin)


@pytest.fixture
def server():
    with FakeServer() as srv:
        srv.add("POST", "/v1/chat/completions", coordination_handler("chat", answer="A red square."))
        yield srv


@pytest.fixture
def config(tmp_path: Path, server) -> Path:
    path = tmp_path / "team.yaml"
    agents = "".join(
        f"  - id: v{i}\n    backend: {{type: ollama, model: llava, base_url: '{server.url}/v1'}}\n" for i in (1, 2)
    )
    path.write_text("agents:\n" + agents)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {"png": media.write(tmp_path, "square.png", media.png()),
            "txt": media.write(tmp_path, "notes.txt", b"the square is red"),
            "pdf": media.write(tmp_path, "report.pdf", media.pdf())}


def _user_parts(server) -> list[list]:
    return [next(m["content"] for m in r.json()["messages"] if m["role"] == "user") for r in server.requests]


def test_image_and_file_go_to_every_agent_and_the_store_keeps_them_by_hash(tmp_path, server, config, files):
    home = tmp_path / "home"
    r = run_cli("--config", str(config), "--image", str(files["png"]), "--file", str(files["txt"]),
                "--no-display", "What colour is the square?", home=home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "A red square."
    for parts in _user_parts(server):
        assert [p["type"] for p in parts] == ["text", "image_url", "text"]
        assert parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(media.png()).decode()
        assert parts[2]["text"].startswith("<FILE notes.txt>")
    sha = hashlib.sha256(media.png()).hexdigest()
    blob = home / "data" / "attachments" / sha
    assert blob.read_bytes() == media.png()
    assert (home / "data" / "attachments" / hashlib.sha256(b"the square is red").hexdigest()).is_file()
    db = (home / "data" / "conversations.db").read_bytes()
    assert media.png() not in db and base64.b64encode(media.png()) not in db  # a reference only

    cid = json.loads(run_cli("conversations", "list", "--json", home=home).stdout)[0]["id"]
    exported = run_cli("export", cid, "--format", "json", home=home)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert base64.b64decode(document["attachments"][sha]) == media.png()
    refs = next(e for e in document["turns"][0]["events"] if e["type"] == "attachments")["data"]["attachments"]
    assert [(a["name"], a["kind"], a["media_type"]) for a in refs] == [
        ("square.png", "image", "image/png"), ("notes.txt", "text", "text/plain")]

    markdown = run_cli("export", cid, "--format", "markdown", home=home).stdout
    assert "**Attachments**" in markdown and "- square.png (image/png, 69 bytes)" in markdown
    html = run_cli("export", cid, "--format", "html", home=home).stdout
    assert f'<img class="thumb" src="data:image/png;base64,{base64.b64encode(media.png()).decode()}" alt="square.png">' in html
    assert "notes.txt (text/plain, 17 bytes)" in html and "img-src data:" in html

    # delete: the files nothing refers to any more go too; import brings them back from the export
    assert run_cli("conversations", "delete", cid, "--yes", home=home).returncode == 0
    assert not blob.exists()
    (tmp_path / "export.json").write_text(exported.stdout)
    imported = run_cli("conversations", "import", str(tmp_path / "export.json"), home=home)
    assert imported.returncode == 0, imported.stderr
    assert blob.read_bytes() == media.png()
    again = json.loads(run_cli("export", cid, "--format", "json", home=home).stdout)
    assert again == document


def test_no_logs_writes_nothing(tmp_path, server, config, files):
    home = tmp_path / "home"
    r = run_cli("--config", str(config), "--image", str(files["png"]), "--no-logs", "--no-display", "Colour?", home=home)
    assert r.returncode == 0, r.stderr
    assert not (home / "data" / "attachments").exists() and not (home / "data" / "conversations.db").exists()


def test_an_image_url_is_passed_on_not_fetched(tmp_path, server, config):
    r = run_cli("--config", str(config), "--image", "http://127.0.0.1:9/never-fetched.png", "--no-logs", "--no-display",
                "Colour?", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert _user_parts(server)[0][1] == {"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/never-fetched.png"}}


@pytest.mark.parametrize(
    ("make", "option", "message"),
    [
        (lambda d: d / "missing.png", "--image", "missing.png: no such file"),
        (lambda d: media.write(d, "big.png", media.png() + b"\0" * (20 * 1024 * 1024)), "--image",
         "big.png: 20.0 MB is over the 20.0 MB limit for a image attachment"),
        (lambda d: media.write(d, "blob.bin", b"\x7fELF\x02\x01\x01\x00\x00\xff\xfe"), "--file", "blob.bin: unknown file type"),
        (lambda d: media.write(d, "report.pdf", media.pdf()), "--image", "this file is a PDF (use --file)"),
        (lambda d: d, "--file", "is a folder, not a file"),
        (lambda d: Path("/proc/self/mem"), "--file", "/proc/self/mem: cannot be read"),
    ],
)
def test_bad_attachments_are_one_clear_error_with_exit_1_before_any_request(tmp_path, server, config, make, option, message):
    r = run_cli("--config", str(config), option, str(make(tmp_path)), "Colour?", home=tmp_path / "home")
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert server.requests == []


def test_a_pdf_for_servers_that_take_none_fails_the_agents_not_massgen(tmp_path, server, config, files):
    r = run_cli("--config", str(config), "--file", str(files["pdf"]), "--no-logs", "--no-display", "Summarise", home=tmp_path / "h")
    assert r.returncode == 1, r.stderr
    assert "agent v1: ollama backend (model llava" in r.stderr and "pdf 'report.pdf'" in r.stderr
    assert "sends no PDF documents" in r.stderr and server.requests == []


def test_interactive_attach_detach_and_a_bad_path(tmp_path, server, config, files):
    lines = ["/attach", f"/attach {tmp_path / 'nope.png'}", f"/attach {files['png']}", "/attach", "What colour?",
             "/detach", "/detach", "And now?", "/quit"]
    r = run_cli("--config", str(config), "--no-logs", "--no-display", home=tmp_path / "home", stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    assert "nope.png: no such file" in r.stderr and "no attachments: /attach PATH_OR_URL" in r.stderr
    assert "no attachments to drop" in r.stderr
    assert "attached image 'square.png' (image/png, 69 bytes)" in r.stderr
    assert "attached: image 'square.png'" in r.stderr and "detached 1 attachment(s)" in r.stderr
    with_image = [p for p in _user_parts(server) if isinstance(p, list)]
    assert with_image and all(p[1]["type"] == "image_url" for p in with_image)
    assert any(isinstance(p, str) and "And now?" in p for p in _user_parts(server))
    assert all("And now?" not in json.dumps(p) for p in with_image)
