"""A bytecode cache for the methods attrs generates, as ``__pycache__`` is for modules.

attrs writes the source of each class's ``__init__``, ``__repr__``, ``__eq__``
and friends and compiles it when the class is created: about a hundred classes
before a session's first request, some 20 ms of ``compile`` in every process
(issue 17). :func:`install` makes attrs take the code object from a cache file
when the script is the same one (compared in full, not by hash) and compile it
otherwise; the code objects are those ``compile`` returns, so the classes are
the same. The file lives in ``massgen_core/__pycache__`` (or under
``sys.pycache_prefix``), tagged with the interpreter and stamped with attrs'
source file (path, mtime, size), and is
written, as ``.pyc`` files are, at exit only when something new was compiled
and only when Python may write bytecode (not with ``PYTHONDONTWRITEBYTECODE``).
A missing, unreadable or foreign file is ignored; anything unexpected in attrs
leaves it as it was. Only the CLI installs it.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import sys
import types
from typing import Any

MAX_ENTRIES = 2000  # beyond this (classes made at run time), keep only what this process used

_installed = False
# attrs' per-class file name -> (script with the type hash as a placeholder, code, that type hash)
_cache: dict[str, tuple[str, Any, int | None]] = {}
_used: set[str] = set()
_STAMP_KEY = ""  # no attrs file name is empty
_METHODS = "<attrs generated methods "  # attr._make._generate_unique_filename(cls, "methods")
_HASH = "<attrs generated hash "
_dirty = False


def cache_path() -> str:
    """Where this interpreter keeps the cache file (os.path: pathlib is not imported yet)."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if sys.pycache_prefix:
        folder = os.path.join(sys.pycache_prefix, os.path.splitdrive(folder)[1].lstrip(os.sep))
    return os.path.join(folder, f"attrs-methods.{sys.implementation.cache_tag}.bin")


def _stamp() -> tuple[str, int, int]:
    """The attrs that generated the scripts, as ``.pyc`` files stamp their source (path, mtime, size).

    Not ``attr.__version__``: reading it goes through importlib.metadata (~15 ms).
    """
    from attr import _make

    info = os.stat(_make.__file__)
    return _make.__file__, info.st_mtime_ns, info.st_size


def install() -> bool:
    """Make attrs use the cache from now on; False when this attrs does not compile where expected."""
    global _installed
    if _installed:
        return True
    from attr import _make

    original = getattr(_make, "_compile_and_eval", None)
    if not callable(original):
        return False
    _load()

    def compile_and_eval(
        script: str, globs: dict[str, Any] | None, locs: Any = None, filename: str = ""
    ) -> None:
        eval(code_for(script, filename), globs, locs)

    _make._compile_and_eval = compile_and_eval
    _installed = True
    atexit.register(save)
    return True


def code_for(script: str, filename: str) -> Any:
    """The code object of ``script`` compiled as ``filename``: from the cache when it is the same script."""
    global _dirty
    _used.add(filename)
    type_hash, key = _type_hash(script, filename)
    hit = _cache.get(filename)
    if hit is not None and hit[0] == key:
        code, cached_hash = hit[1], hit[2]
        return code if cached_hash == type_hash else _swap_constant(code, cached_hash, type_hash)
    # attr._make has ``from __future__ import annotations``, as this module has: same flags
    code = compile(script, filename, "exec")
    _cache[filename] = (key, code, type_hash)
    _dirty = True
    return code


def _type_hash(script: str, filename: str) -> tuple[int | None, str]:
    """attrs' ``__hash__`` starts from a string hash, which differs per process (PYTHONHASHSEED).

    It is found by attrs' own recipe (the hash of the class's "hash" file name) and, when it
    occurs exactly once, replaced in the key by a placeholder; else the script is its own key.
    """
    if not filename.startswith(_METHODS):
        return None, script
    type_hash = hash(_HASH + filename[len(_METHODS) :])
    literal = f" {type_hash},\n"
    if script.count(literal) != 1:
        return None, script
    return type_hash, script.replace(literal, " TYPE_HASH,\n")


def _swap_constant(code: Any, old: int | None, new: int | None) -> Any:
    """``code`` with the integer constant ``old`` replaced by ``new``, in nested code and folded tuples too."""
    return code.replace(co_consts=tuple(_swapped(c, old, new) for c in code.co_consts))


def _swapped(const: Any, old: int | None, new: int | None) -> Any:
    if type(const) is int:
        return new if const == old else const
    if isinstance(const, types.CodeType):
        return _swap_constant(const, old, new)
    if type(const) is tuple:  # ``hash((type_hash,))`` of a class without fields is folded into one
        return tuple(_swapped(c, old, new) for c in const)
    return const


def _load() -> None:
    try:
        with open(cache_path(), "rb") as file:
            data = marshal.loads(file.read())
    except (OSError, EOFError, ValueError, TypeError):
        return
    if isinstance(data, dict) and data.get(_STAMP_KEY) == _stamp():
        _cache.update(
            (name, entry)
            for name, entry in data.items()
            if isinstance(name, str) and isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], str)
        )


def save() -> None:
    """Write the cache if something new was compiled and bytecode may be written."""
    global _dirty
    if not _dirty or sys.dont_write_bytecode:
        return
    entries: dict[str, Any] = dict(_cache) if len(_cache) <= MAX_ENTRIES else {k: v for k, v in _cache.items() if k in _used}
    entries[_STAMP_KEY] = _stamp()
    path = cache_path()
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "wb") as file:
            file.write(marshal.dumps(entries))
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return
    _dirty = False


__all__ = ["cache_path", "code_for", "install", "save"]
