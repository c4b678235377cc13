"""attrs' generated methods come from a bytecode cache, and the classes behave as freshly compiled ones.

Processes here write their cache under a throwaway ``PYTHONPYCACHEPREFIX`` (as
``.pyc`` files go there), never into the checkout.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from massgen_core import attrs_cache

# Frozen classes (``__hash__`` from attrs' per-process type hash; a fieldless one's is a folded
# constant), a mutable one, defaults.
CHILD = textwrap.dedent(
    """
    import json, sys
    from massgen_core import attrs_cache
    compiled = []
    real_compile = compile
    import builtins
    def counting(source, filename, *args, **kwargs):
        if filename.startswith("<attrs generated methods __main__."):
            compiled.append(filename)
        return real_compile(source, filename, *args, **kwargs)
    attrs_cache.compile = counting  # the module's own name lookup: only attrs' scripts go through it
    assert attrs_cache.install()
    import attrs

    @attrs.frozen
    class Point:
        x: int
        y: int = 2

    @attrs.frozen
    class Empty:
        pass

    @attrs.define
    class Box:
        items: list = attrs.Factory(list)

    p = Point(1)
    b = Box()
    b.items.append(p)
    try:
        p.x = 5
        frozen = False
    except attrs.exceptions.FrozenInstanceError:
        frozen = True
    type_hash = hash("<attrs generated hash __main__.Point>")
    print(json.dumps({
        "compiled": compiled,
        "repr": [repr(p), repr(b)],
        "eq": [p == Point(1, 2), p != Point(1, 3), b == Box([Point(1)])],
        "hash_ok": hash(p) == hash((type_hash, 1, 2))
        and hash(Empty()) == hash((hash("<attrs generated hash __main__.Empty>"),)),
        "frozen": frozen,
        "file": attrs_cache.cache_path(),
    }))
    """
)


def run_child(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PYTHONPYCACHEPREFIX": str(tmp_path / "prefix"), **extra})
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def expected_behaviour(result: dict) -> None:
    assert result["repr"] == ["Point(x=1, y=2)", "Box(items=[Point(x=1, y=2)])"]
    assert result["eq"] == [True, True, True]
    assert result["hash_ok"] is True and result["frozen"] is True


def test_a_second_process_compiles_nothing_and_its_classes_behave_the_same(tmp_path: Path):
    first = run_child(tmp_path)
    assert sorted(first["compiled"]) == [
        "<attrs generated methods __main__.Box>",
        "<attrs generated methods __main__.Empty>",
        "<attrs generated methods __main__.Point>",
    ]
    expected_behaviour(first)
    assert first["file"].startswith(str(tmp_path / "prefix")) and Path(first["file"]).is_file()
    # another process: another PYTHONHASHSEED, so another type hash in Point's __hash__
    second = run_child(tmp_path, PYTHONHASHSEED="12345")
    assert second["compiled"] == []
    expected_behaviour(second)


def test_nothing_is_written_when_python_may_not_write_bytecode(tmp_path: Path):
    result = run_child(tmp_path, PYTHONDONTWRITEBYTECODE="1")
    expected_behaviour(result)
    assert len(result["compiled"]) == 3
    assert not (tmp_path / "prefix").exists()


@pytest.mark.parametrize("content", [b"", b"not marshal data \x00\xff", marshal.dumps(["a list"])])
def test_an_unreadable_or_foreign_cache_file_is_ignored(tmp_path: Path, content: bytes):
    path = Path(run_child(tmp_path)["file"])
    path.write_bytes(content)
    again = run_child(tmp_path)
    assert len(again["compiled"]) == 3  # nothing usable: compiled again, and the file rewritten
    expected_behaviour(again)
    assert run_child(tmp_path)["compiled"] == []


def test_a_cache_from_another_attrs_is_not_used(tmp_path: Path):
    path = Path(run_child(tmp_path)["file"])
    data = marshal.loads(path.read_bytes())
    file, mtime, size = data[""]
    data[""] = (file, mtime + 1, size)  # attrs was upgraded in place
    path.write_bytes(marshal.dumps(data))
    assert len(run_child(tmp_path)["compiled"]) == 3


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The module's state for one in-process test, its file in ``tmp_path``."""
    monkeypatch.setattr(attrs_cache, "_cache", {})
    monkeypatch.setattr(attrs_cache, "_used", set())
    monkeypatch.setattr(attrs_cache, "_dirty", False)
    monkeypatch.setattr(attrs_cache, "cache_path", lambda: str(tmp_path / "cache" / "attrs.bin"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    return tmp_path / "cache" / "attrs.bin"


def test_code_for_takes_the_cached_code_of_the_same_script_only(fresh: Path):
    script = "def f():\n    return 41\n"
    code = attrs_cache.code_for(script, "<attrs generated methods m.A>")
    assert attrs_cache.code_for(script, "<attrs generated methods m.A>") is code
    changed = attrs_cache.code_for(script.replace("41", "42"), "<attrs generated methods m.A>")
    assert changed is not code
    namespace: dict = {}
    eval(changed, namespace)
    assert namespace["f"]() == 42


def test_a_script_not_named_by_attrs_or_without_one_type_hash_is_its_own_key():
    assert attrs_cache._type_hash("x = 1\n", "<string>") == (None, "x = 1\n")
    name = "<attrs generated methods m.B>"
    twice = f"a = ( {hash('<attrs generated hash m.B>')},\n {hash('<attrs generated hash m.B>')},\n)\n"
    assert attrs_cache._type_hash(twice, name) == (None, twice)


def test_a_class_made_elsewhere_with_the_same_name_gets_its_own_hash_constant():
    code = compile("def __hash__(self):\n    return hash((\n        7,\n        1,\n    ))\n", "<x>", "exec")
    swapped = attrs_cache._swap_constant(code, 7, 9)
    namespace: dict = {}
    eval(swapped, namespace)
    assert namespace["__hash__"](None) == hash((9, 1))  # (7, 1) was folded into one constant
    nested = compile("def f():\n    return (7, 'seven', 1.5, g)\n", "<y>", "exec")
    eval(attrs_cache._swap_constant(nested, 7, 9), namespace := {"g": 8})
    assert namespace["f"]() == (9, "seven", 1.5, 8)


def test_save_writes_only_when_something_was_compiled_and_prunes_a_large_cache(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
):
    attrs_cache.save()
    assert not fresh.exists()  # nothing new
    monkeypatch.setattr(attrs_cache, "MAX_ENTRIES", 1)
    attrs_cache._cache["<attrs generated methods m.Old>"] = ("old = 1\n", compile("old = 1\n", "<o>", "exec"), None)
    attrs_cache.code_for("new = 1\n", "<attrs generated methods m.New>")
    attrs_cache.save()
    data = marshal.loads(fresh.read_bytes())
    assert sorted(data) == ["", "<attrs generated methods m.New>"]  # the stamp, and what this process used
    assert attrs_cache._dirty is False


def test_a_cache_folder_that_cannot_be_written_is_left_alone(fresh: Path):
    fresh.parent.mkdir()
    fresh.mkdir()  # a directory where the file should go: os.replace fails
    attrs_cache.code_for("y = 2\n", "<attrs generated methods m.C>")
    attrs_cache.save()
    assert fresh.is_dir() and list(fresh.parent.iterdir()) == [fresh]  # no temporary file left behind
    assert attrs_cache._dirty is True


def test_install_leaves_an_attrs_without_the_expected_function_alone(monkeypatch: pytest.MonkeyPatch):
    from attr import _make

    monkeypatch.setattr(attrs_cache, "_installed", False)
    monkeypatch.delattr(_make, "_compile_and_eval")
    assert attrs_cache.install() is False
    assert not hasattr(_make, "_compile_and_eval")


def test_the_cache_follows_pycache_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert attrs_cache.cache_path() == os.path.join(
        os.path.dirname(attrs_cache.__file__), "__pycache__", f"attrs-methods.{sys.implementation.cache_tag}.bin"
    )
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    assert attrs_cache.cache_path().startswith(str(tmp_path) + os.sep)


def test_install_is_done_once(fresh: Path, monkeypatch: pytest.MonkeyPatch):
    from attr import _make

    monkeypatch.setattr(attrs_cache, "_installed", False)
    monkeypatch.setattr(_make, "_compile_and_eval", _make._compile_and_eval)  # restored afterwards
    monkeypatch.setattr(attrs_cache.atexit, "register", lambda function: None)  # this process saves nothing
    assert attrs_cache.install() is True
    patched = _make._compile_and_eval
    assert attrs_cache.install() is True
    assert _make._compile_and_eval is patched
    import attrs

    @attrs.frozen
    class Made:
        x: int

    assert repr(Made(3)) == "Made(x=3)" and "<attrs generated methods" in next(iter(attrs_cache._used))
