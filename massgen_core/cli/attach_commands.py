"""Attachments on the command line: ``--image``/``--file`` and the interactive ``/attach``, ``/detach``.

``load_cli_attachments(options)`` reads and checks every ``--image`` (a file
or an http(s) URL) and ``--file`` before anything runs, so bad input is one
clear error (exit 1). ``install(command)`` adds ``/attach PATH_OR_URL`` (attach
to this conversation's questions from now on; without an argument: list them)
and ``/detach`` (drop them all) to the interactive dispatch table. The runner
keeps the list in ``runner.attachments``; nothing here runs a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massgen_core.content import Attachment, load_attachment


def load_cli_attachments(options: Any) -> list[Attachment]:
    """Every ``--image`` (images only) and ``--file`` of the run options, loaded and checked."""
    attachments = [load_attachment(source, expect="image") for source in options.images]
    attachments += [load_attachment(source) for source in options.files]
    return attachments


def _attach(session: Any, arg: str) -> bool:
    attachments: list[Attachment] = session.runner.attachments
    if not arg:
        if not attachments:
            session.streams.info("no attachments: /attach PATH_OR_URL adds one to the next questions")
        for attachment in attachments:
            session.streams.info(f"attached: {attachment.describe()}")
        return True
    attachment = load_attachment(arg)  # AttachmentError is reported by the loop, which goes on
    attachments.append(attachment)
    session.streams.info(f"attached {attachment.describe()}: it goes with every question of this conversation")
    return True


def _detach(session: Any, arg: str) -> bool:
    count = len(session.runner.attachments)
    session.runner.attachments.clear()
    session.streams.info(f"detached {count} attachment(s)" if count else "no attachments to drop")
    return True


def install(command: Callable[..., Callable[[Any], Any]]) -> None:
    """Register ``/attach`` and ``/detach`` with the interactive dispatch table."""
    command("/attach", help="attach an image or file to the next questions: /attach PATH_OR_URL (no argument: list)")(_attach)
    command("/detach", help="drop every attachment")(_detach)
