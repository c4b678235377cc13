"""docs/webhooks.md's signature example runs as written and accepts what the plugin sends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from massgen_webhooks.config import Hook, Settings
from massgen_webhooks.delivery import Dispatcher

from massgen_core.events import EventFactory, SessionFinished

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_verification_example_runs_as_written(tmp_path):
    script = tmp_path / "verify.py"
    script.write_text(python_blocks()[0], encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "signature checks pass"


def test_the_verification_example_accepts_a_real_signed_delivery(receiver):
    namespace: dict[str, object] = {"__name__": "verify"}
    exec(python_blocks()[0], namespace)
    verify = namespace["verify"]
    dispatcher = Dispatcher(Settings(hooks=(Hook(url=receiver.url + "/hook", secret="change-me"),)))
    dispatcher.submit(
        EventFactory("s")(SessionFinished, final_answer="A", winner="a", ended_by="consensus")
    )
    assert dispatcher.flush(5)
    dispatcher.close(timeout=0)
    (request,) = receiver.requests_to("/hook")
    assert verify("change-me", request.body, request.header("x-massgen-signature"))
    assert not verify("other", request.body, request.header("x-massgen-signature"))
