"""Test isolation for the whole repository (core and every plugin).

Every test gets its own MASSGEN_HOME, no .env from the developer's machine,
and no provider keys from the environment, so nothing a developer has
installed or configured leaks into a test: the ``massgen_home`` fixture of
``massgen_core.testing.pytest_plugin`` (the pytest plugin plugin authors use too).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(massgen_home):
    """Every test runs under the ``massgen_home`` fixture of MassGen's own pytest plugin."""
    return massgen_home


@pytest.fixture
def plugin_manager(massgen_plugin_manager):
    """A fresh plugin manager with no installed plugins; register throwaway plugins on it."""
    return massgen_plugin_manager


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
