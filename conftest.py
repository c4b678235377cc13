"""Test isolation for the whole repository (core and every plugin).

Every test gets its own MASSGEN_HOME, no .env from the developer's machine,
and no provider keys from the environment, so nothing a developer has
installed or configured leaks into a test.
"""

from __future__ import annotations

import pytest

KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "OPENAI_API_VERSION",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY",
    "CEREBRAS_API_KEY",
    "FIREWORKS_API_KEY",
    # the optional keys of local servers
    "OLLAMA_API_KEY",
    "VLLM_API_KEY",
    "LMSTUDIO_API_KEY",
    "LLAMACPP_API_KEY",
    "LLAMA_API_KEY",
    "SGLANG_API_KEY",
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("massgen_home")
    monkeypatch.setenv("MASSGEN_HOME", str(home))
    monkeypatch.delenv("MASSGEN_DEBUG", raising=False)
    for var in (*KEY_VARS, "MASSGEN_WEBHOOK_URL", "MASSGEN_WEBHOOK_SECRET", "MASSGEN_LOAD_PLUGINS", "MASSGEN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    from massgen_core import plugins

    plugins.set_plugin_manager(None)
    yield home
    plugins.set_plugin_manager(None)


@pytest.fixture
def plugin_manager(monkeypatch: pytest.MonkeyPatch):
    """A fresh plugin manager with no installed plugins; register throwaway plugins on it."""
    from massgen_core import plugins

    manager = plugins.PluginManager()
    plugins.set_plugin_manager(manager)
    yield manager
    plugins.set_plugin_manager(None)


@pytest.fixture
def scripted_manager(plugin_manager):
    """A fresh plugin manager with the scripted backend and every first-party voting strategy."""
    import importlib

    for name in (
        "massgen_scripted",
        "massgen_voting_majority",
        "massgen_voting_weighted",
        "massgen_voting_quorum",
        "massgen_voting_ranked",
        "massgen_voting_judge",
    ):
        plugin_manager.register(importlib.import_module(name), name=name)
    return plugin_manager


@pytest.fixture
def installed_plugins():
    """The plugin manager as the CLI sees it: every installed plugin loaded."""
    from massgen_core import plugins

    return plugins.get_plugin_manager()


@pytest.fixture(scope="session")
def shared_dir():
    """../shared beside the checkout (recordings, legacy configs); skips plainly when absent."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "shared"
    if not path.is_dir():
        pytest.skip(f"../shared is absent (looked for {path}); these tests read it in place")
    return path


# -- coverage by package -------------------------------------------------------
# The bar is 95% of lines and branches for the core and for each plugin. The
# test command prints one line per package after pytest-cov's report and, when
# it ran the whole suite (no paths given), fails if any package is below.

COVERAGE_BAR = 95.0


def _coverage_packages(root):
    yield "massgen-core", [str(root / "massgen_core" / "*")]
    for plugin in sorted((root / "plugins").iterdir()):
        if (plugin / "pyproject.toml").is_file():
            yield plugin.name, [str(plugin / "*")]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import io
    from pathlib import Path

    plugin = config.pluginmanager.getplugin("_cov")
    cov = getattr(getattr(plugin, "cov_controller", None), "cov", None)
    if cov is None:
        return
    root = Path(__file__).resolve().parent
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    below = []
    terminalreporter.write_sep("-", "coverage by package (lines and branches)")
    for name, include in _coverage_packages(root):
        try:
            percent = cov.report(include=include, omit=["*/tests/*"], file=io.StringIO())
        except Exception:  # coverage.exceptions.NoDataError: none of its files ran
            terminalreporter.write_line(f"{name:<34} no data")
            below.append(name)
            continue
        mark = "" if percent >= COVERAGE_BAR else f"   <- below {COVERAGE_BAR:g}%"
        terminalreporter.write_line(f"{name:<34} {percent:5.1f}%{mark}")
        if percent < COVERAGE_BAR:
            below.append(name)
    if whole_suite and below and terminalreporter._session.exitstatus == pytest.ExitCode.OK:
        terminalreporter.write_line(f"FAIL: coverage below {COVERAGE_BAR:g}% in " + ", ".join(below), red=True)
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED
