"""What a run needs from a backend entry, reported by ``config validate`` and refused by the run alike.

The installed first-party plugins declare the keys they cannot work without
(``required_keys``); ``config validate`` names each missing one at its place in
the file, and ``create_backend`` refuses the same entries when a library user
builds them directly. The property test holds the two to one rule set.
"""

from __future__ import annotations

import os
import subprocess
import sys

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massgen_core.backend_factory import create_backend
from massgen_core.backend import BackendContext
from massgen_core.config.loader import load_text_with_warnings, parse_document, validate_document
from massgen_core.config.problems import ConfigError
from massgen_core.config.schema import BackendConfig
from massgen_core.errors import MassGenError

PLUGINS = "openai,openai-compatible,claude,scripted"


@pytest.fixture
def real_manager(monkeypatch, _isolated_home):
    """The installed backend plugins the rules are about, loaded as the CLI loads them."""
    from massgen_core import plugins

    monkeypatch.setenv("MASSGEN_LOAD_PLUGINS", PLUGINS)
    plugins.set_plugin_manager(None)
    return plugins.get_plugin_manager()


def validate(tmp_path, text):
    path = tmp_path / "team.yaml"
    path.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(MASSGEN_HOME=str(tmp_path / "home"), MASSGEN_LOAD_PLUGINS=PLUGINS)
    done = subprocess.run(
        [sys.executable, "-m", "massgen_core", "config", "validate", str(path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )
    return done, str(path)


def test_each_backend_a_run_cannot_send_is_a_located_error_all_at_once(tmp_path):
    done, path = validate(
        tmp_path,
        """\
agents:
  - id: a
    backend: {type: openai}
  - id: b
    backend: {type: chatcompletion, model: m}
  - id: c
    backend: {type: chatcompletion, model: m, base_url: "http://local host:8000/v1"}
  - id: d
    backend: {type: chatcompletion, model: m, base_url: "http://127.0.0.1:1/v1", zzz: 1, max_concurrency: -1}
""",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        f"{path}:3:14: agents[0].backend: backend type 'openai' needs 'model' (the request would go out with no model)",
        f"{path}:5:14: agents[1].backend: backend type 'chatcompletion' needs 'base_url' "
        "(the server's OpenAI-style URL, e.g. http://localhost:8000/v1)",
        f"{path}:7:57: agents[2].backend.base_url: base_url 'http://local host:8000/v1' contains spaces; "
        "write the URL without them",
        f"{path}:9:14: agents[3].backend: invalid options for backend type 'chatcompletion': "
        "'max_concurrency' must be >= 0: -1",
        f"{path}:9:82: agents[3].backend.zzz: unknown key 'zzz' for backend type 'chatcompletion'",
    ]


@pytest.mark.parametrize("written", ["antropic", "anthropic", "Anthropic"])
def test_the_providers_name_for_claude_suggests_claude(tmp_path, written):
    done, path = validate(tmp_path, f"agent:\n  backend: {{type: {written}, model: claude-3-5-haiku-latest}}\n")
    assert done.returncode == 1
    assert done.stdout.startswith(f"{path}:2:19: agent.backend.type: unknown backend type {written!r}; installed:")
    assert done.stdout.rstrip().endswith("(did you mean 'claude'?)")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("localhost:8000/v1", "must be an http:// or https:// URL with a host"),
        ("ftp://example.com/v1", "must be an http:// or https:// URL with a host"),
        ("http:///v1", "must be an http:// or https:// URL with a host"),
        ("http://example.com:port/v1", "is not a URL"),
        (" http://example.com/v1", "contains spaces"),
    ],
)
def test_a_base_url_no_request_could_use_is_an_error(real_manager, url, reason):
    text = f"agent:\n  backend: {{type: openai, model: gpt-4o, base_url: {url!r}}}\n"
    (problem,) = validate_document(parse_document(text, "t.yaml"), manager=real_manager)
    assert problem.key_path == "agent.backend.base_url" and problem.line == 2
    assert reason in problem.message


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [("max_tokens", -5, "max_tokens must be at least 1 (got -5)"), ("max_tokens", 0, "at least 1"),
     ("temperature", -0.1, "temperature must not be negative")],
)
def test_a_max_tokens_or_temperature_no_provider_takes_is_a_located_error(real_manager, key, value, reason):
    text = f"agent:\n  backend: {{type: openai, model: gpt-4o, {key}: {value}}}\n"
    (problem,) = validate_document(parse_document(text, "t.yaml"), manager=real_manager)
    assert problem.key_path == f"agent.backend.{key}" and problem.line == 2 and reason in problem.message
    with pytest.raises(MassGenError, match=reason.split(" (")[0]):
        create_backend(BackendConfig(type="openai", model="gpt-4o", **{key: value}), BackendContext(agent_id="x"),
                       real_manager)


def test_a_preset_needs_no_base_url_but_a_model(real_manager):
    ok = "agent:\n  backend: {type: ollama, model: llama3.2}\n"
    assert validate_document(parse_document(ok, "t.yaml"), manager=real_manager) == []
    (problem,) = validate_document(
        parse_document("agent:\n  backend: {type: ollama}\n", "t.yaml"), manager=real_manager
    )
    assert problem.message.startswith("backend type 'ollama' needs 'model'")


def test_backend_params_and_pools_supply_what_a_member_needs(real_manager):
    text = """\
backend_params: {base_url: "http://127.0.0.1:9/v1"}
agents:
  - id: a
    backend: {type: chatcompletion, model: m}
  - id: b
    backend:
      type: openai
      model: gpt-4o
      pool: [{base_url: "https://a.example/v1"}, {}]
"""
    assert validate_document(parse_document(text, "t.yaml"), manager=real_manager) == []


def test_a_pool_member_missing_what_it_needs_is_located_at_the_member(real_manager):
    text = "agent:\n  backend:\n    type: chatcompletion\n    pool: [{model: a, base_url: 'http://h:1/v1'}, {base_url: 'http://h:2/v1'}]\n"
    (problem,) = validate_document(parse_document(text, "t.yaml"), manager=real_manager)
    assert problem.key_path == "agent.backend.pool[1]"
    assert "needs 'model'" in problem.message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (BackendConfig(type="openai"), "agent x: backend type 'openai' needs 'model'"),
        (BackendConfig(type="chatcompletion", model="m"), "agent x: backend type 'chatcompletion' needs 'base_url'"),
        (BackendConfig(type="claude", model="c", base_url="https://a b"), "contains spaces"),
    ],
)
def test_a_library_user_building_the_same_entry_is_refused_alike(real_manager, config, message):
    with pytest.raises(MassGenError) as caught:
        create_backend(config, BackendContext(agent_id="x"), real_manager)
    assert message in str(caught.value)


# -- the property: validation refuses exactly what a run refuses ------------------------

TYPES = st.sampled_from(["openai", "claude", "chatcompletion", "ollama", "scripted"])
MODELS = st.sampled_from([None, "", "m-1"])
URLS = st.sampled_from(
    [None, "", "http://127.0.0.1:9/v1", "https://h.example", "http://a b/v1", "h.example/v1", "http://h:x/"]
)
EXTRA = st.sampled_from([{}, {"temprature": 0.1}, {"max_tokens": "many"}, {"max_concurrency": -1}, {"max_concurrency": 2},
                         {"max_tokens": 0}, {"max_tokens": 64}, {"temperature": -0.5}, {"temperature": 0.7}])


@st.composite
def backends(draw):
    entry = {"type": draw(TYPES)}
    for key, value in (("model", draw(MODELS)), ("base_url", draw(URLS))):
        if value is not None:
            entry[key] = value
    entry.update(draw(EXTRA))
    return entry


def run_refuses(text, manager):
    """What a run does with the file: load it, then build every agent's backend."""
    try:
        config, _ = load_text_with_warnings(text, "t.yaml", manager=manager)
    except ConfigError:
        return True
    try:
        for agent in config.agents:
            create_backend(agent.backend, BackendContext(agent_id=agent.id), manager)
    except MassGenError:
        return True
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(backends(), min_size=1, max_size=3))
def test_validate_reports_an_error_exactly_when_a_run_refuses(real_manager, entries):
    import json

    text = json.dumps({"agents": [{"id": f"a{i}", "backend": b} for i, b in enumerate(entries)]})
    problems = validate_document(parse_document(text, "t.yaml"), manager=real_manager)
    assert any(p.is_error for p in problems) == run_refuses(text, real_manager)


def test_an_entry_validation_accepts_builds_for_a_library_user_too(real_manager):
    config = BackendConfig(type="chatcompletion", model="m", base_url="http://127.0.0.1:9/v1")
    backend = create_backend(config, BackendContext(agent_id="x"), real_manager)
    assert backend.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(MassGenError, match="needs 'base_url'"):
        create_backend(attrs.evolve(config, base_url=None), BackendContext(agent_id="x"), real_manager)
