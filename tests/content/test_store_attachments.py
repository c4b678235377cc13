"""The store keeps attachments by hash: recorded with a turn, exported, imported, forgotten when unused."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from massgen_core import events as ev
from massgen_core.content import load_attachment
from massgen_core.store import Store, StoreError
from massgen_core.store.recorder import Recorder
from massgen_core.testing import media


def _turn(recorder: Recorder, session: str, *attachments) -> None:
    factory = ev.EventFactory(session)
    recorder(factory(ev.SessionStarted, question="What is it?", agent_ids=("a",),
                     attachments=tuple(a.ref() for a in attachments)))
    recorder(factory(ev.SessionFinished, final_answer="A pixel.", winner="a", ended_by="consensus", usage={},
                     cost_usd=0.0, duration_s=0.1, error=None))
    recorder.flush()


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "db" / "conversations.db") as s:
        yield s


def test_two_conversations_share_one_file_and_deleting_one_keeps_it(store, tmp_path):
    image = load_attachment(media.write(tmp_path, "p.png", media.png()))
    first, second = Recorder(store), Recorder(store)
    _turn(first, "s1", image)
    _turn(second, "s2", image)
    blob = tmp_path / "db" / "attachments" / image.sha256
    assert blob.read_bytes() == media.png() and oct(blob.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in blob.parent.iterdir()] == [image.sha256]  # once, however many turns
    store.delete(first.conversation_id)
    assert blob.exists()  # the other conversation still refers to it
    store.delete(second.conversation_id)
    assert not blob.exists()


def test_a_url_and_a_file_the_store_lost_are_references_only(store, tmp_path):
    image = load_attachment(media.write(tmp_path, "p.png", media.png((9, 9, 9))))
    url = load_attachment("https://example.invalid/x.png")
    recorder = Recorder(store)
    _turn(recorder, "s", image, url)
    (tmp_path / "db" / "attachments" / image.sha256).unlink()
    document = store.document(recorder.conversation_id)
    assert "attachments" not in document
    refs = document["turns"][0]["events"][0]["data"]["attachments"]
    assert [r.get("sha256") for r in refs] == [image.sha256, None] and refs[1]["url"] == url.url


def test_a_turn_without_attachments_writes_no_folder(store, tmp_path):
    recorder = Recorder(store)
    _turn(recorder, "s")
    assert not (tmp_path / "db" / "attachments").exists()
    assert "attachments" not in store.document(recorder.conversation_id)


@pytest.mark.parametrize(("blobs", "message"), [
    ([], "must be an object of sha256 -> base64"),
    ({"ab": "@@not base64@@"}, "attachment ab is not base64"),
    ({"0" * 64: base64.b64encode(b"other bytes").decode()}, "does not match its hash"),
])
def test_an_import_with_bad_attachments_is_refused_and_writes_nothing(store, tmp_path, blobs, message):
    recorder = Recorder(store)
    _turn(recorder, "s")
    document = store.document(recorder.conversation_id)
    document["attachments"] = blobs
    with pytest.raises(StoreError, match=message):
        store.import_document(document, replace=True)
    assert not (tmp_path / "db" / "attachments").exists()


def test_import_writes_the_files_back(store, tmp_path):
    data = media.jpeg()
    sha = hashlib.sha256(data).hexdigest()
    recorder = Recorder(store)
    _turn(recorder, "s")
    document = store.document(recorder.conversation_id)
    document["attachments"] = {sha: base64.b64encode(data).decode()}
    store.import_document(document, replace=True)
    assert (tmp_path / "db" / "attachments" / sha).read_bytes() == data
