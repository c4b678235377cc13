"""MassGen's pytest plugin: fixtures for the tests of MassGen plugins (and of MassGen itself).

Installed with ``massgen-core`` through the ``pytest11`` entry point, so a plugin author's own test
suite has these fixtures without a conftest. None is autouse: a project that merely has MassGen
installed sees no change in its tests. Importing this module is cheap; each fixture imports what it
needs when it runs.

- ``massgen_home``: a fresh, empty ``MASSGEN_HOME`` folder; no provider keys, webhook settings or
  plugin filter from the developer's environment; the process-wide plugin manager reset before and
  after.
- ``massgen_plugin_manager``: a fresh ``PluginManager`` with nothing installed, set as the current
  one (register the plugin under test on it).
- ``fake_server``, ``openai_server``, ``anthropic_server``, ``gemini_server``: started loopback
  servers speaking HTTP/1.1 (script routes on them; the provider ones know their wire formats).
- ``massgen_http_cleanup``: closes the shared HTTP clients after the test (use it in async tests
  that create backends).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

try:  # pytest-asyncio's own decorator works in its strict mode as well as in auto mode
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio an async fixture is plain
    _async_fixture = pytest.fixture  # type: ignore[assignment]

if TYPE_CHECKING:
    from massgen_core.plugins import PluginManager
    from massgen_core.testing.anthropic import AnthropicServer
    from massgen_core.testing.gemini import GeminiServer
    from massgen_core.testing.server import FakeServer

#: Environment variables a test must not inherit: provider keys and endpoints, local servers'
#: optional keys, and the settings that change what MassGen loads or where it posts.
ISOLATED_VARS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "XAI_API_KEY",
    "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_VERSION",
    "OPENAI_API_VERSION", "GROQ_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY", "CEREBRAS_API_KEY", "FIREWORKS_API_KEY",
    "OLLAMA_API_KEY", "VLLM_API_KEY", "LMSTUDIO_API_KEY", "LLAMACPP_API_KEY", "LLAMA_API_KEY", "SGLANG_API_KEY",
    "MASSGEN_DEBUG", "MASSGEN_WEBHOOK_URL", "MASSGEN_WEBHOOK_SECRET", "MASSGEN_LOAD_PLUGINS",
    "MASSGEN_DATABASE_URL",
)


@pytest.fixture
def massgen_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty ``MASSGEN_HOME`` for this test, with nothing inherited from the developer's setup."""
    from massgen_core import plugins

    home = tmp_path_factory.mktemp("massgen_home")
    monkeypatch.setenv("MASSGEN_HOME", str(home))
    for var in ISOLATED_VARS:
        monkeypatch.delenv(var, raising=False)
    plugins.set_plugin_manager(None)
    yield home
    plugins.set_plugin_manager(None)


@pytest.fixture
def massgen_plugin_manager() -> Iterator[PluginManager]:
    """A fresh plugin manager with no installed plugins, current for the test."""
    from massgen_core import plugins

    manager = plugins.PluginManager()
    plugins.set_plugin_manager(manager)
    yield manager
    plugins.set_plugin_manager(None)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A started loopback HTTP/1.1 server with no routes: ``fake_server.add(method, path, *responses)``."""
    from massgen_core.testing.server import FakeServer

    with FakeServer() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[FakeServer]:
    """A started loopback server answering ``GET /v1/models``; add Chat Completions or Responses routes."""
    from massgen_core.testing.openai import openai_server as start

    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A started loopback Anthropic server: script it with ``.messages(...)`` and ``.models()``."""
    from massgen_core.testing.anthropic import AnthropicServer

    with AnthropicServer() as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    """A started loopback Gemini server (see ``massgen_core.testing.gemini``)."""
    from massgen_core.testing.gemini import GeminiServer

    with GeminiServer() as server:
        yield server


@_async_fixture
async def massgen_http_cleanup() -> AsyncIterator[None]:
    """Close MassGen's shared HTTP clients when the test ends (on the test's own event loop)."""
    yield
    from massgen_core.http import aclose_all

    await aclose_all()
