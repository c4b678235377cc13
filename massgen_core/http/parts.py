"""Whether a backend can carry a request's attachments, decided before anything is sent.

Each backend class declares the attachment kinds its wire format carries
(``accepts_parts``), whether it takes an image by URL (``accepts_urls``) and the
models known to take no image or document (``text_only_models``). A request with
a part it cannot carry fails here with ``UnsupportedContentError`` naming the
agent, backend, model and attachment; that error is fatal for the agent, so the
rest of the team goes on. A provider that refuses a part anyway answers 400,
which is fatal in the same way. The wire formats themselves live in each backend.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from massgen_core.content import Attachment, attachments_of
from massgen_core.http.errors import UnsupportedContentError

if TYPE_CHECKING:
    from massgen_core.backend import Request
    from massgen_core.http.base import HttpBackend

_PLURAL = {"image": "images", "pdf": "PDF documents", "text": "text files"}


def refusal(backend: HttpBackend, attachment: Attachment) -> str | None:
    """Why ``backend`` cannot carry ``attachment`` (None: it can)."""
    kind = attachment.kind
    if kind not in backend.accepts_parts:
        return f"the {backend.name} backend sends no {_PLURAL[kind]}"
    model = (backend.model or "").lower()
    if kind != "text" and any(fnmatch.fnmatchcase(model, p) for p in backend.text_only_models):
        return f"model {backend.model} takes no {_PLURAL[kind]}"
    if attachment.url is not None and not backend.accepts_urls:
        return f"the {backend.name} backend takes no image URLs (give a local file instead)"
    return None


def check_parts(backend: HttpBackend, request: Request) -> None:
    """Raise ``UnsupportedContentError`` for the first attachment ``backend`` cannot carry."""
    for message in request.messages:
        for attachment in attachments_of(message.content):
            reason = refusal(backend, attachment)
            if reason is not None:
                raise UnsupportedContentError(f"{attachment.describe()}: {reason}", context=backend.error_context)
