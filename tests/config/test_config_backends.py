"""Backend entries: type inference, plugin-owned options, backend_params, fallback and pool."""

from __future__ import annotations

import types

from massgen_core.backend import Backend
from massgen_core.config import infer_backend_type
from massgen_core.hookspecs import hookimpl


def test_backend_specific_keys_land_in_options(load):
    config = load("""
agent:
  backend:
    type: openai
    model: gpt-5
    temperature: 0.3
    enable_web_search: true
    text: {verbosity: low}
    reasoning: {effort: minimal}
""")
    backend = config.agents[0].backend
    assert backend.temperature == 0.3
    assert backend.options == {
        "enable_web_search": True,
        "text": {"verbosity": "low"},
        "reasoning": {"effort": "minimal"},
    }


def test_misspelled_common_key_suggests_it_at_its_position(problems):
    found = problems(
        "agents:\n  - backend:\n      type: openai\n      model: gpt-4o\n      temprature: 0.7\n"
    )
    assert len(found) == 1
    problem = found[0]
    assert (problem.file, problem.line, problem.col) == ("config.yaml", 5, 7)
    assert problem.key_path == "agents[0].backend.temprature"
    assert problem.suggestion == "temperature"
    assert problem.message == "unknown key 'temprature' for backend type 'openai'"


def test_misspelled_option_key_suggests_the_plugins_option(problems):
    found = problems("agent:\n  backend: {type: grok, model: grok-3-mini, max_search_result: 5}\n")
    assert (found[0].key_path, found[0].suggestion) == (
        "agent.backend.max_search_result",
        "max_search_results",
    )


def test_an_option_of_another_backend_type_is_unknown_here(problems):
    found = problems(
        "agent:\n  backend: {type: gemini, model: gemini-2.5-flash, enable_code_interpreter: true}\n"
    )
    assert found[0].key_path == "agent.backend.enable_code_interpreter"
    assert "for backend type 'gemini'" in found[0].message


def test_wrong_option_value_type_is_reported(problems):
    found = problems(
        'agent:\n  backend: {type: grok, model: grok-3-mini, max_search_results: "ten"}\n'
    )
    assert found[0].key_path == "agent.backend.max_search_results"
    assert found[0].message == "expected an integer, got a string 'ten'"
    assert (found[0].line, found[0].col) == (2, 65)


def test_nested_option_literal_suggests_an_allowed_value(problems):
    found = problems("agent:\n  backend: {type: openai, model: gpt-5, text: {verbosity: lo}}\n")
    assert found[0].key_path == "agent.backend.text.verbosity"
    assert found[0].suggestion == "low"


def test_plugin_validators_reject_values_the_types_allow(problems):
    found = problems(
        "agent:\n  backend: {type: claude, model: claude-sonnet-4, thinking_budget: 10}\n"
    )
    assert found[0].key_path == "agent.backend"
    assert "thinking_budget" in found[0].message


def test_a_backend_without_options_class_accepts_no_extra_keys(problems):
    found = problems(
        "agent:\n  backend: {type: chatcompletion, model: m, base_url: 'http://x/v1', enable_web_search: true}\n"
    )
    assert found[0].key_path == "agent.backend.enable_web_search"
    assert "takes no backend-specific keys" in found[0].message


def test_unknown_type_suggests_the_closest_and_lists_installed(problems):
    found = problems("agent:\n  backend: {type: claud, model: claude-3-5-haiku}\n")
    assert found[0].key_path == "agent.backend.type"
    assert found[0].suggestion == "claude"
    assert "installed: chatcompletion, claude, gemini, grok, ollama, openai" in found[0].message
    assert (found[0].line, found[0].col) == (2, 19)


def test_with_an_unknown_type_keys_no_backend_knows_are_still_flagged(problems):
    found = problems(
        "agent:\n  backend: {type: claud, model: x, temprature: 1, enable_web_search: true}\n"
    )
    assert [p.key_path for p in found] == ["agent.backend.type", "agent.backend.temprature"]


def test_type_is_inferred_from_the_model_name(load):
    config = load("""
agents:
  - backend: {model: gpt-4o-mini}
  - backend: {model: claude-3-5-haiku-20241022}
  - backend: {model: gemini-2.5-flash}
  - backend: {model: grok-3-mini}
  - backend: {model: o3-mini}
  - backend: {model: llama3.2}
""")
    assert [a.backend.type for a in config.agents] == [
        "openai",
        "claude",
        "gemini",
        "grok",
        "openai",
        "ollama",
    ]


def test_a_model_nothing_claims_needs_an_explicit_type(problems):
    found = problems("agent:\n  backend: {model: mystery-7b}\n")
    assert found[0].key_path == "agent.backend"
    assert "does not identify a backend" in found[0].message


def test_a_backend_with_neither_type_nor_model_is_an_error(problems):
    found = problems("agent:\n  backend: {temperature: 0.1}\n")
    assert "needs a 'type'" in found[0].message


def test_infer_backend_type_falls_back_to_the_protocol_rules_without_plugins():
    assert infer_backend_type("gpt-4o") == "openai"
    assert infer_backend_type("o1-preview") == "openai"
    assert infer_backend_type("claude-opus-4") == "claude"
    assert infer_backend_type("gemini-2.0") == "gemini"
    assert infer_backend_type("grok-4") == "grok"
    assert infer_backend_type("llama3.2") is None


def test_infer_backend_type_prefers_the_protocol_type_among_several_claimants(plugin_manager):
    greedy = type("Greedy", (Backend,), {"name": "aaa-greedy", "model_patterns": ("*",)})
    openai = type("OpenAI", (Backend,), {"name": "openai", "model_patterns": ("gpt-*",)})
    plugin = types.ModuleType("p")
    plugin.register_backends = hookimpl(lambda register: [register(greedy), register(openai)])
    plugin_manager.register(plugin, name="p")
    assert infer_backend_type("gpt-4o", plugin_manager) == "openai"
    assert infer_backend_type("anything", plugin_manager) == "aaa-greedy"


def test_backend_params_are_defaults_and_the_agents_own_keys_win(load):
    config = load("""
backend_params: {temperature: 0.3, max_tokens: 3000}
agents:
  - backend: {type: openai, model: gpt-4o}
  - backend: {type: grok, model: grok-3-mini, temperature: 0.9}
""")
    assert [(a.backend.temperature, a.backend.max_tokens) for a in config.agents] == [
        (0.3, 3000),
        (0.9, 3000),
    ]
    assert config.backend_params == {"temperature": 0.3, "max_tokens": 3000}


def test_backend_specific_defaults_apply_only_where_the_type_accepts_them(load):
    config = load("""
backend_params: {enable_code_execution: true}
agents:
  - backend: {type: claude, model: claude-3-5-haiku-20241022}
  - backend: {type: grok, model: grok-3-mini}
""")
    assert config.agents[0].backend.options == {"enable_code_execution": True}
    assert config.agents[1].backend.options == {}


def test_a_default_no_backend_accepts_is_an_error_at_backend_params(problems):
    found = problems(
        "backend_params: {temprature: 0.3}\nagent: {backend: {type: openai, model: gpt-4o}}\n"
    )
    assert (found[0].key_path, found[0].line, found[0].col, found[0].suggestion) == (
        "backend_params.temprature",
        1,
        18,
        "temperature",
    )


def test_a_wrong_default_type_is_reported_at_backend_params(problems):
    found = problems(
        "backend_params: {max_tokens: lots}\nagent: {backend: {type: openai, model: gpt-4o}}\n"
    )
    assert found[0].key_path == "backend_params.max_tokens"


def test_fallback_and_pool_entries_are_backends_too(load, problems):
    config = load("""
agent:
  backend:
    type: openai
    model: gpt-4o
    routing: least_busy
    fallback:
      - {type: claude, model: claude-3-5-haiku-20241022, enable_web_search: true}
    pool:
      - {model: gpt-4o, base_url: "http://127.0.0.1:9/v1"}
""")
    backend = config.agents[0].backend
    assert backend.routing == "least_busy"
    assert backend.fallback[0].type == "claude" and backend.fallback[0].options == {
        "enable_web_search": True
    }
    assert backend.pool[0].type == "openai" and backend.pool[0].base_url == "http://127.0.0.1:9/v1"
    found = problems(
        "agent:\n  backend:\n    type: openai\n    model: gpt-4o\n    routing: fastest\n    fallback:\n      - {type: claude, model: c, temprature: 1}\n"
    )
    assert [(p.key_path, p.suggestion) for p in found] == [
        ("agent.backend.routing", None),
        ("agent.backend.fallback[0].temprature", "temperature"),
    ]


def test_fallback_must_be_a_list(problems):
    found = problems("agent:\n  backend: {type: openai, model: gpt-4o, fallback: {type: claude}}\n")
    assert found[0].message == "fallback must be a list of backends, got a mapping"


def test_legacy_chat_completions_base_url_is_stripped_with_a_warning(load, problems):
    text = "agent:\n  backend:\n    type: chatcompletion\n    model: gpt-oss-120b\n    base_url: https://api.cerebras.ai/v1/chat/completions\n"
    assert load(text).agents[0].backend.base_url == "https://api.cerebras.ai/v1"
    found = problems(text)
    assert [(p.severity, p.key_path, p.line, p.col) for p in found] == [
        ("warning", "agent.backend.base_url", 5, 15)
    ]
    assert "write base_url: 'https://api.cerebras.ai/v1' instead" in found[0].message


def test_an_explicit_options_mapping_is_the_same_as_inline_keys(load):
    config = load(
        "agent:\n  backend: {type: openai, model: gpt-4o, options: {enable_web_search: true}}\n"
    )
    assert config.agents[0].backend.options == {"enable_web_search": True}


def test_api_key_values_never_appear_in_problems(problems):
    found = problems("agent:\n  backend: {type: openai, model: gpt-4o, api_key: 12345678}\n")
    assert found[0].key_path == "agent.backend.api_key"
    assert "12345678" not in found[0].format()


def test_workflow_and_stream_are_shared_backend_keys(load, problems):
    config = load("agent:\n  backend: {type: ollama, model: m, workflow: text, stream: false}\n")
    backend = config.agents[0].backend
    assert (backend.workflow, backend.stream) == ("text", False)
    assert load("agent:\n  backend: {type: openai, model: gpt-4o}\n").agents[0].backend.workflow == "auto"
    found = problems("agent:\n  backend: {type: openai, model: gpt-4o, workflow: jsno}\n")
    assert (found[0].key_path, found[0].suggestion) == ("agent.backend.workflow", "json")
    assert "expected one of: auto, tools, json, text" in found[0].message


def test_pool_members_inherit_the_pools_type_and_model(load, problems):
    config = load("""
agent:
  backend:
    type: chatcompletion
    model: qwen3
    routing: least_busy
    pool:
      - {base_url: "http://127.0.0.1:9/v1"}
      - {base_url: "http://127.0.0.1:10/v1", model: qwen3-alt}
    fallback:
      - {base_url: "http://127.0.0.1:11/v1", type: ollama, model: llama3.2}
""")
    pool = config.agents[0].backend.pool
    assert [(m.type, m.model, m.base_url) for m in pool] == [
        ("chatcompletion", "qwen3", "http://127.0.0.1:9/v1"), ("chatcompletion", "qwen3-alt", "http://127.0.0.1:10/v1")]
    assert config.agents[0].backend.fallback[0].type == "ollama"
    # a fallback is a different backend: it inherits nothing and must say what it is
    found = problems("agent:\n  backend:\n    type: chatcompletion\n    model: m\n    fallback:\n      - {base_url: 'http://x/v1'}\n")
    assert [p.key_path for p in found] == ["agent.backend.fallback[0]"]
