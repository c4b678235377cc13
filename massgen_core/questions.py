"""Whether a question can be asked: it has some text, and that text is valid UTF-8.

The CLI reads its arguments and standard input with ``surrogateescape``, so a
byte that is not UTF-8 arrives as a lone surrogate; such a question cannot be
stored, sent to a provider or printed as JSON, so it is refused here, before
anything runs, with a message that says which byte is wrong.
"""

from __future__ import annotations

from massgen_core.errors import MassGenError


def check_question(text: str, *, what: str = "the question") -> str:
    """``text`` unchanged; MassGenError when it is empty, only whitespace, or not valid UTF-8."""
    if not text.strip():
        raise MassGenError(f"{what} is empty: give some text to ask")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        bad = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"an unpaired surrogate U+{code:04X}"
        raise MassGenError(
            f"{what} is not valid UTF-8 text ({bad} at character {exc.start + 1}); check the terminal's or file's encoding"
        ) from None
    return text
