"""Reading one string field out of JSON text that is still arriving.

Models write their answer as the ``content`` argument of a ``new_answer``
tool call (or inside a JSON reply), and providers stream those arguments as
fragments of JSON text. ``StringFieldReader`` is fed the fragments in order
and returns, after each, the newly decoded characters of one top-level string
field, so a display can show the answer while it is being written. It decodes
every JSON escape, including ``\\uXXXX`` and surrogate pairs split anywhere
across fragments, and holds back only what it cannot decode yet (a partial
escape, a high surrogate whose partner may follow). Whatever the split, the
text returned so far is a prefix of what ``json.loads`` gives for the field.

It is a reader, not a validator: text before the first ``{`` is skipped (code
fences, a sentence), nested values are skipped, and on text that is not JSON
it simply stops reading. The complete call, parsed by ``json``, stays the
authority. No I/O, no state shared between readers.
"""

from __future__ import annotations

import re

_RUN = re.compile(r'[^"\\]+')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")
_WS = " \t\r\n"

# States of the scanner.
_SEEK, _KEY_OR_END, _KEY, _COLON, _VALUE, _TARGET, _SKIP_STRING, _NESTED, _SCALAR, _AFTER, _DONE = range(11)


class StringFieldReader:
    """Feeds fragments of one JSON object's text; returns the decoded text of ``field`` as it grows."""

    def __init__(self, field: str = "content") -> None:
        self.field = field
        self._state = _SEEK
        self._held = ""  # the start of an escape (or surrogate pair) not complete yet
        self._key: list[str] = []
        self._depth = 0  # inside a skipped nested value
        self._after_skip = _AFTER  # where a skipped string returns to
        self._parts: list[str] = []
        self.started = False  # the field's string has begun
        self.done = False  # the field's string is closed, or the text is not JSON

    @property
    def text(self) -> str:
        """Everything decoded so far."""
        return "".join(self._parts)

    def feed(self, fragment: str) -> str:
        """Read ``fragment``; return the characters of the field it completed (often '')."""
        if self.done or not fragment:
            return ""
        text, self._held = self._held + fragment, ""
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            state = self._state
            if state == _TARGET or state == _KEY:
                sink = out if state == _TARGET else self._key
                run = _RUN.match(text, i)
                if run is not None:
                    sink.append(run.group())
                    i = run.end()
                    continue
                if text[i] == '"':
                    i += 1
                    if state == _TARGET:
                        self._state = _DONE
                        self.done = True
                        break
                    self._state = _COLON
                    continue
                decoded, used = _escape(text, i)
                if used == 0:  # incomplete: keep it for the next fragment
                    self._held = text[i:]
                    break
                if decoded is None:
                    self._stop()
                    break
                sink.append(decoded)
                i += used
                continue
            c = text[i]
            i += 1
            if state == _SEEK:
                if c == "{":
                    self._state = _KEY_OR_END
            elif state == _KEY_OR_END:
                if c == '"':
                    self._key = []
                    self._state = _KEY
                elif c == "}":
                    self._stop()
                elif c not in _WS and c != ",":
                    self._stop()
            elif state == _COLON:
                if c == ":":
                    self._state = _VALUE
                elif c not in _WS:
                    self._stop()
            elif state == _VALUE:
                if c == '"':
                    if "".join(self._key) == self.field:
                        self.started = True
                        self._state = _TARGET
                    else:
                        self._after_skip = _AFTER
                        self._state = _SKIP_STRING
                elif c in "{[":
                    self._depth = 1
                    self._state = _NESTED
                elif c not in _WS:
                    self._state = _SCALAR
            elif state == _SKIP_STRING:
                if c == "\\":
                    if i >= n:
                        self._held = "\\"
                        break
                    i += 1  # whatever is escaped cannot end the string
                elif c == '"':
                    self._state = self._after_skip
            elif state == _NESTED:
                if c == '"':
                    self._after_skip = _NESTED
                    self._state = _SKIP_STRING
                elif c in "{[":
                    self._depth += 1
                elif c in "}]":
                    self._depth -= 1
                    if self._depth == 0:
                        self._state = _AFTER
            elif state == _SCALAR:
                if c == ",":
                    self._state = _KEY_OR_END
                elif c == "}":
                    self._stop()
            else:  # _AFTER a value
                if c == ",":
                    self._state = _KEY_OR_END
                elif c not in _WS:
                    self._stop()
            if self.done:
                break
        piece = "".join(out)
        if piece:
            self._parts.append(piece)
        return piece

    def _stop(self) -> None:
        self._state = _DONE
        self.done = True


def string_field_prefix(text: str, field: str = "content") -> str:
    """The decoded prefix of top-level string ``field`` in the (possibly incomplete) JSON ``text``."""
    return StringFieldReader(field).feed(text)


def _escape(text: str, i: int) -> tuple[str | None, int]:
    """Decode the escape at ``text[i]`` (a backslash): (characters, length); length 0 = incomplete; None = invalid."""
    n = len(text)
    if i + 1 >= n:
        return "", 0
    kind = text[i + 1]
    simple = _SIMPLE.get(kind)
    if simple is not None:
        return simple, 2
    if kind != "u":
        return None, 2
    code = _hex4(text, i + 2)
    if code is None:
        return None, 2
    if code < 0:
        return "", 0
    if not 0xD800 <= code < 0xDC00:
        return chr(code), 6
    # A high surrogate: json joins it with a low one that follows at once, so wait to see it.
    rest = text[i + 6 : i + 12]
    if len(rest) < 6 and _may_be_low(rest):
        return "", 0
    if rest[:2] == "\\u":
        low = _hex4(rest, 2)
        if low is not None and low >= 0 and 0xDC00 <= low < 0xE000:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    return chr(code), 6


def _hex4(text: str, start: int) -> int | None:
    """The 4 hex digits at ``start``: their value, -1 when the text ends first, None when not hex."""
    digits = text[start : start + 4]
    if any(d not in _HEX for d in digits):
        return None
    if len(digits) < 4:
        return -1
    return int(digits, 16)


def _may_be_low(rest: str) -> bool:
    """Whether the incomplete ``rest`` could still become the escape of a low surrogate."""
    pattern = "\\u"
    if rest[:2] != pattern[: len(rest[:2])]:
        return False
    digits = rest[2:]
    if digits and digits[0] not in "dD":
        return False
    if len(digits) > 1 and digits[1] not in "cdefCDEF":
        return False
    return all(d in _HEX for d in digits)


__all__ = ["StringFieldReader", "string_field_prefix"]
