"""Exit 1 for what the user or their file system causes, exit 2 only for MassGen's own bugs."""

from __future__ import annotations

import errno

import click
import pytest

from massgen_core.cli.main import cli, main
from massgen_core.hookspecs import hookimpl


@pytest.fixture
def command_raising(plugin_manager, monkeypatch):
    """Install a plugin command ``massgen boom`` that raises the given exception (for this test only)."""
    monkeypatch.setattr(cli, "commands", dict(cli.commands))  # the group is process-wide: undo our command
    monkeypatch.setattr(cli, "_plugin_commands_loaded", False)

    def install(exc: BaseException) -> None:
        class Plugin:
            @hookimpl
            def register_commands(self, cli):
                @cli.command("boom")
                def boom() -> None:
                    raise exc

        plugin_manager.register(Plugin(), name="boom-plugin")

    return install


def _exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code)


def test_a_click_error_from_a_command_is_one_line(command_raising, capsys):
    command_raising(click.ClickException("the frob service\nis down"))
    assert _exit(["boom"]) == 1
    assert capsys.readouterr().err == "massgen: error: the frob service is down\n"


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOTDIR, errno.ENOSPC])
def test_a_file_system_refusal_is_one_line_with_exit_1(command_raising, capsys, code):
    command_raising(OSError(code, "the file system says no", "/somewhere/file"))
    assert _exit(["boom"]) == 1
    assert capsys.readouterr().err == "massgen: error: /somewhere/file: the file system says no\n"


@pytest.mark.parametrize(
    "exc",
    [OSError(errno.ENOENT, "No such file or directory", "/ours"), ConnectionResetError(errno.ECONNRESET, "reset"), KeyError("x")],
    ids=["enoent", "no-filename", "not-an-oserror"],
)
def test_anything_else_is_an_internal_error_with_exit_2(command_raising, capsys, exc):
    command_raising(exc)
    assert _exit(["boom"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"massgen: internal error: {type(exc).__name__}: ") and "--debug" in err


def test_debug_shows_the_traceback_of_both_kinds(command_raising, capsys):
    command_raising(OSError(errno.EROFS, "Read-only file system", "/ro/file"))
    assert _exit(["--debug", "boom"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("massgen: error: /ro/file: Read-only file system\n")


def test_debug_shows_the_traceback_of_an_internal_error(command_raising, capsys):
    command_raising(KeyError("x"))
    assert _exit(["--debug", "boom"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_saving_a_preset_into_a_home_under_a_file_is_one_line(massgen, _isolated_home, tmp_path):
    # MASSGEN_HOME/config is a file, so nothing can be created under it (an honest unwritable path for root)
    (_isolated_home / "config").write_text("not a directory", encoding="utf-8")
    config = tmp_path / "one.yaml"
    config.write_text("agents:\n  - id: a\n    backend: {type: scripted}\n", encoding="utf-8")
    proc = massgen("presets", "save", "mine", "--config", str(config))
    assert proc.returncode == 1
    assert proc.stderr == f"massgen: error: {_isolated_home}/config/presets: Not a directory\n"
