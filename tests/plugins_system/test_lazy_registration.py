"""``Lazy`` registrations: declared attributes without an import, the class on first use, drift caught."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from massgen_core.hookspecs import hookimpl
from massgen_core.lazy import Lazy, PluginLoadError, forward_to
from massgen_core.plugins import PluginManager


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A throwaway package on sys.path (unique per test) with ``impl`` and ``opts`` modules."""
    name = f"lazypkg_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "opts.py").write_text(
        textwrap.dedent(
            """
            import attrs

            @attrs.frozen
            class EchoOptions:
                loud: bool = False
            """
        )
    )
    (root / "impl.py").write_text(
        textwrap.dedent(
            """
            from .opts import EchoOptions

            class Echo:
                name = "echo"
                model_patterns = ["echo-*"]
                Options = EchoOptions
                key_env = ("ECHO_KEY",)

                def __init__(self, word):
                    self.word = word

            class Nested:
                class Inner:
                    name = "inner"
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_declared_attributes_answer_without_importing_the_class(package: str):
    lazy = Lazy(f"{package}.impl:Echo", name="echo", model_patterns=("echo-*",))
    assert lazy.name == "echo" and lazy.model_patterns == ("echo-*",)
    assert not lazy.loaded and f"{package}.impl" not in sys.modules
    assert "not imported" in repr(lazy)


def test_anything_else_imports_the_class_once_and_forwards(package: str):
    lazy = Lazy(f"{package}.impl:Echo", name="echo", model_patterns=("echo-*",))
    assert lazy.key_env == ("ECHO_KEY",)  # not declared: imports and forwards
    assert lazy.loaded and "loaded" in repr(lazy)
    cls = sys.modules[f"{package}.impl"].Echo
    assert lazy.load() is cls
    instance = lazy("hi")  # calling builds the real thing
    assert isinstance(instance, cls) and instance.word == "hi"


def test_options_given_as_a_path_import_only_the_options_module(package: str):
    lazy = Lazy(f"{package}.impl:Echo", name="echo", Options=f"{package}.opts:EchoOptions")
    options = lazy.Options
    assert options.__name__ == "EchoOptions" and options(loud=True).loud is True
    assert f"{package}.opts" in sys.modules and f"{package}.impl" not in sys.modules
    assert lazy.Options is options  # resolved once
    assert lazy.load().Options is options  # and it agrees with the class


def test_a_dotted_qualname_is_followed(package: str):
    assert Lazy(f"{package}.impl:Nested.Inner", name="inner").load().__qualname__ == "Nested.Inner"


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"name": "echo", "model_patterns": ("other-*",)}, "model_patterns is ['echo-*']"),
        ({"name": "ekho"}, "name is 'echo', but it was registered with name='ekho'"),
        ({"name": "echo", "description": "x"}, "description is missing"),
    ],
)
def test_a_class_that_disagrees_with_its_registration_is_an_error(package: str, declared, expected):
    lazy = Lazy(f"{package}.impl:Echo", **declared)
    with pytest.raises(PluginLoadError, match="make the registration and the class agree") as info:
        lazy.load()
    assert expected in str(info.value) and f"{package}.impl:Echo" in str(info.value)
    assert not lazy.loaded


@pytest.mark.parametrize("target", ["impl:Missing", "nomodule:Echo"])
def test_an_import_that_fails_names_the_target_and_the_cause(package: str, target: str):
    lazy = Lazy(f"{package}.{target}", name="echo")
    with pytest.raises(PluginLoadError, match="cannot be imported") as info:
        lazy("x")
    message = str(info.value)
    assert f"{package}.{target}" in message and "'echo'" in message and "massgen plugins" in message
    assert info.value.__cause__ is not None


def test_a_broken_options_path_fails_when_read(package: str):
    lazy = Lazy(f"{package}.impl:Echo", name="echo", Options=f"{package}.opts:Nope")
    with pytest.raises(PluginLoadError, match="opts:Nope"):
        lazy.Options  # noqa: B018


@pytest.mark.parametrize(
    ("target", "declared", "message"),
    [
        ("no_colon", {"name": "x"}, "module:QualName"),
        (":Cls", {"name": "x"}, "module:QualName"),
        ("mod:Cls", {}, "needs name="),
        ("mod:Cls", {"name": ""}, "needs name="),
        ("mod:Cls", {"name": "x", "Options": "bad"}, "module:QualName"),
        ("mod:Cls", {"name": "x", "load": 1, "target": "t"}, "cannot declare load, target"),
        ("mod:Cls", {"name": "x", "_private": 1}, "cannot declare _private"),
    ],
)
def test_malformed_registrations_are_rejected_at_once(target, declared, message):
    with pytest.raises(ValueError, match=message):
        Lazy(target, **declared)


def test_copies_and_dunder_lookups_never_import(package: str):
    lazy = Lazy(f"{package}.impl:Echo", name="echo")
    twin = copy.copy(lazy)
    assert twin.declared == lazy.declared and twin.target == lazy.target
    with pytest.raises(AttributeError):
        lazy.__wrapped__  # noqa: B018
    assert not lazy.loaded and f"{package}.impl" not in sys.modules


def test_forward_to_answers_from_the_submodule_on_first_use(package: str):
    getter = forward_to(package, "impl")
    assert f"{package}.impl" not in sys.modules
    assert getter("Echo").name == "echo"
    assert getter("impl") is sys.modules[f"{package}.impl"]
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'Nope'"):
        getter("Nope")


def test_verify_reports_a_broken_lazy_class_against_its_plugin(plugin_manager: PluginManager, package: str):
    good = Lazy(f"{package}.impl:Echo", name="echo")
    broken = Lazy(f"{package}.impl:Gone", name="gone")
    plugin = types.ModuleType("lazyplug")
    plugin.register_backends = hookimpl(lambda register: (register(good), register(broken)))
    info = plugin_manager.register(plugin, name="massgen-lazyplug")
    assert info.backends == ["echo", "gone"] and info.error is None  # nothing imported yet
    plugin_manager.verify()
    assert good.loaded
    assert info.error is not None and info.error.startswith("backend 'gone':")
    assert "impl:Gone" in info.error
    assert "AttributeError" in plugin_manager.debug_tracebacks["massgen-lazyplug"]
    plugin_manager.verify()  # twice: the error is listed again, joined
    assert info.error.count("backend 'gone'") == 2


def test_massgen_plugins_shows_a_lazy_class_that_cannot_be_imported(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "mg_lazybroken.py").write_text(
        textwrap.dedent(
            """
            from massgen_core.hookspecs import hookimpl
            from massgen_core.lazy import Lazy

            @hookimpl
            def register_backends(register):
                register(Lazy("mg_lazybroken_impl:Backend", name="lazybroken"))
            """
        )
    )
    (site / "mg_lazybroken_impl.py").write_text("raise ImportError('needs libbar')\n")
    info = site / "massgen_lazybroken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: massgen-lazybroken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[massgen]\nlazybroken = mg_lazybroken\n")
    env = dict(os.environ, PYTHONPATH=str(site), MASSGEN_LOAD_PLUGINS="lazybroken,scripted")
    done = subprocess.run(
        [sys.executable, "-m", "massgen_core", "plugins", "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    broken = plugins["massgen-lazybroken"]
    assert broken["backends"] == ["lazybroken"]
    assert "backend 'lazybroken'" in broken["error"] and "needs libbar" in broken["error"]
    assert plugins["massgen-scripted"]["error"] is None


def test_made_by_registers_what_a_factory_builds_on_first_use(package: str, tmp_path: Path):
    (tmp_path / package / "factory.py").write_text(
        "import types\nCALLS = []\n\ndef make():\n    CALLS.append(1)\n    return types.SimpleNamespace(name='made', size=3)\n"
    )
    lazy = Lazy.made_by(f"{package}.factory:make", name="made")
    assert "made by" in repr(lazy) and f"{package}.factory" not in sys.modules
    assert lazy.size == 3 and lazy.load() is lazy.load()
    assert sys.modules[f"{package}.factory"].CALLS == [1]  # built once
