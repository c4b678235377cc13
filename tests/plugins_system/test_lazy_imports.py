"""Start-up cost: what loading plugins, ``massgen --help`` and ``config validate`` must not import.

Every command loads every installed plugin, so plugins register their real
classes without importing the libraries that only a request, an export or a
display needs. Each check runs in a fresh interpreter and reads
``sys.modules``; timings live in benchmarks/bench_config_validate.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import massgen_core.http

# Libraries a request, an export or a live display needs, and nothing before.
HEAVY = (
    "httpx", "httpx_sse", "httpcore", "anyio", "backoff", "markdown_it", "nh3", "rich", "asyncio",
)


def loaded_after(code: str, *, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``code`` (which sets ``result``) in a fresh interpreter; ``result`` plus the modules."""
    probe = code + textwrap.dedent(
        """
        import json, sys
        result["modules"] = sorted(sys.modules)
        print(json.dumps(result))
        """
    )
    # without MASSGEN_LOAD_PLUGINS: every installed plugin loads
    env = {k: v for k, v in os.environ.items() if k != "MASSGEN_LOAD_PLUGINS"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def test_loading_every_installed_plugin_imports_no_network_export_or_display_library():
    result = loaded_after(
        textwrap.dedent(
            """
            from massgen_core.plugins import get_plugin_manager

            manager = get_plugin_manager()
            result = {
                "errors": {i.name: i.error for i in manager.plugin_infos() if i.error},
                "backends": manager.backends.names(),
                "exporters": manager.exporters.names(),
            }
            """
        )
    )
    assert result["errors"] == {}
    assert {"claude", "gemini", "openai", "grok", "chatcompletion"} <= set(result["backends"])
    assert {"html", "json", "markdown"} <= set(result["exporters"])
    assert heavy_in(result["modules"]) == []
    assert "cattrs" not in result["modules"]  # the event converter is built on first use


def test_plugins_register_lazy_classes_that_load_with_their_options_patterns_and_key_variables():
    result = loaded_after(
        textwrap.dedent(
            """
            import sys
            from massgen_core.lazy import Lazy
            from massgen_core.plugins import get_plugin_manager

            manager = get_plugin_manager()
            before = sorted(sys.modules)
            registered = {
                kind: {name: type(item).__name__ for name, item in getattr(manager, kind).items()}
                for kind in ("backends", "voting_strategies", "exporters")
            }
            loaded = {}
            for name in ("claude", "openai", "ollama"):
                lazy = manager.backends.get(name)
                options = lazy.Options  # a declared path: imports the options module only
                options_only = [m for m in sys.modules if m.endswith(".backend")]
                cls = lazy.load()
                loaded[name] = [
                    f"{cls.__module__}.{cls.__qualname__}",
                    f"{options.__module__}.{options.__qualname__}",
                    list(lazy.model_patterns),
                    list(lazy.key_env),
                    options_only,
                ]
            result = {"before": before, "registered": registered, "loaded": loaded}
            """
        )
    )
    before = result["before"]
    # loading plugins imported no backend, strategy or exporter implementation, nor the HTTP base
    assert [m for m in before if m.startswith("massgen_") and m.endswith((".backend", ".strategy", ".exporter"))] == []
    assert "massgen_core.http.base" not in before and "massgen_core.backend" not in before
    assert set(result["registered"]["backends"].values()) == {"Lazy"}
    assert result["registered"]["voting_strategies"]["quorum"] == "Lazy"
    assert result["registered"]["exporters"]["html"] == "Lazy"
    claude, openai, ollama = (result["loaded"][n] for n in ("claude", "openai", "ollama"))
    assert claude[:2] == ["massgen_claude.backend.ClaudeBackend", "massgen_claude.options.ClaudeOptions"]
    assert claude[2] == ["claude-*"] and claude[3] == ["ANTHROPIC_API_KEY"] and claude[4] == []
    assert openai[0] == "massgen_openai.backend.OpenAIBackend" and "OPENAI_API_KEY" in openai[3]
    assert ollama[0] == "massgen_openai_compatible.backend.OllamaBackend" and ollama[3] == ["OLLAMA_API_KEY"]
    assert heavy_in(result["modules"]) == []


def test_importing_http_errors_does_not_import_the_base_class_or_httpx():
    result = loaded_after("import massgen_core.http.errors\nresult = {}\n")
    assert "massgen_core.http.base" not in result["modules"]
    assert heavy_in(result["modules"]) == []


def test_http_package_names_resolve_on_first_use_to_the_submodule_objects():
    from massgen_core.http.base import HttpBackend
    from massgen_core.http.pool import get_client

    assert massgen_core.http.HttpBackend is HttpBackend
    assert massgen_core.http.get_client is get_client
    assert {"HttpBackend", "ServerSentEvent", "retry_stream"} <= set(dir(massgen_core.http))


def test_http_package_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        massgen_core.http.NoSuchThing  # noqa: B018


def test_http_package_exports_exactly_its_lazy_names():
    assert sorted(massgen_core.http.__all__) == sorted(massgen_core.http._MODULE_OF)
    for name in massgen_core.http.__all__:
        assert getattr(massgen_core.http, name) is not None


def test_help_imports_neither_the_plugin_manager_nor_asyncio():
    result = loaded_after(
        textwrap.dedent(
            """
            import contextlib, io
            from massgen_core.cli.main import main

            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
                main(["--help"])
            result = {}
            """
        )
    )
    assert "massgen_core.plugins" not in result["modules"]
    assert "importlib.metadata" not in result["modules"]
    assert heavy_in(result["modules"]) == []
    # the command list comes from LAZY_HELP: no command module (nor attrs) is imported for it
    assert [m for m in result["modules"] if m.startswith("massgen_core.cli.") and m != "massgen_core.cli.main"] == []
    assert "attrs" not in result["modules"]


def test_the_static_help_lines_are_the_commands_own():
    import click

    from massgen_core.cli.main import LAZY_COMMANDS, LAZY_HELP, cli

    assert sorted(LAZY_HELP) == sorted(LAZY_COMMANDS)
    ctx = click.Context(cli)
    for name in LAZY_COMMANDS:
        command = cli.get_command(ctx, name)
        stand_in = click.Command(name, help=LAZY_HELP[name])
        for limit in (40, 200):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_help_lists_loaded_commands_by_their_own_help_and_skips_hidden_ones():
    import click
    from click.testing import CliRunner

    from massgen_core.cli.main import cli

    cli.add_command(click.Command("zz-shown", help="Shown by its own help."), "zz-shown")
    cli.add_command(click.Command("zz-hidden", help="Never listed.", hidden=True), "zz-hidden")
    try:
        output = CliRunner().invoke(cli, ["--help"]).output
    finally:
        cli.commands.pop("zz-shown")
        cli.commands.pop("zz-hidden")
    assert "zz-shown" in output and "Shown by its own help." in output
    assert "zz-hidden" not in output and "config" in output


def test_config_validate_imports_no_display_store_orchestrator_or_network_code(tmp_path: Path):
    config = tmp_path / "two.yaml"
    config.write_text(
        "agents:\n"
        "  - id: a\n    backend: {type: claude, model: claude-3-5-haiku-20241022}\n"
        "  - id: b\n    backend: {type: openai, model: gpt-4o-mini}\n",
        encoding="utf-8",
    )
    result = loaded_after(
        textwrap.dedent(
            f"""
            import contextlib, io
            from massgen_core.cli.main import main

            out = io.StringIO()
            code = None
            with contextlib.redirect_stdout(out):
                try:
                    main(["config", "validate", {str(config)!r}])
                except SystemExit as exc:
                    code = exc.code
            result = {{"code": code, "out": out.getvalue()}}
            """
        ),
        cwd=tmp_path,
    )
    assert result["code"] == 0 and result["out"].strip().endswith(": ok")
    prefixes = (
        "massgen_core.display", "massgen_core.store", "massgen_core.orchestrator", "massgen_core.events",
    )
    assert [m for m in result["modules"] if m.startswith(prefixes)] == []
    assert heavy_in(result["modules"]) == []
    # the options of the two types the file uses, and no backend module, nor cattrs
    assert {"massgen_claude.options", "massgen_openai.options"} <= set(result["modules"])
    assert "massgen_gemini.options" not in result["modules"]
    assert [m for m in result["modules"] if m.endswith(".backend")] == []
    assert "cattrs" not in result["modules"] and "massgen_core.http.base" not in result["modules"]


def test_every_installed_lazy_registration_agrees_with_its_class():
    # what `massgen plugins` checks: each Lazy imports, and its declared attributes equal the class's
    result = loaded_after(
        textwrap.dedent(
            """
            from massgen_core.lazy import Lazy
            from massgen_core.plugins import KINDS, get_plugin_manager

            manager = get_plugin_manager()
            lazies = [
                name for kind in KINDS for name, item in getattr(manager, kind).items()
                if isinstance(item, Lazy)
            ]
            manager.verify()
            result = {
                "lazies": lazies,
                "errors": {i.name: i.error for i in manager.plugin_infos() if i.error},
            }
            """
        )
    )
    assert result["errors"] == {}
    assert {"claude", "gemini", "grok", "openai", "scripted", "ollama", "quorum", "judge", "html", "python"} <= set(
        result["lazies"]
    )
