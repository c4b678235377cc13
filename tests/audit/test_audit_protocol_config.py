"""PROTOCOL.md §9 as written loads with the installed provider plugins (no stand-ins)."""

from __future__ import annotations

from massgen_core.config import load_text_with_warnings

EVERY_KEY = """
agents:
  - id: "researcher"
    backend:
      type: "openai"
      model: "gpt-4o-mini"
      api_key: "sk-test"
      base_url: "http://127.0.0.1:9/v1"
      temperature: 0.7
      max_tokens: 2500
      enable_web_search: true
      enable_code_interpreter: true
      text: {verbosity: "low"}
      reasoning: {effort: "minimal"}
    system_message: "..."
  - backend:
      model: "claude-3-5-haiku-20241022"
      enable_web_search: true
      enable_code_execution: true
  - backend:
      model: "gemini-2.5-flash"
      enable_code_execution: true
  - backend:
      model: "grok-3-mini"
      return_citations: true
      max_search_results: 10
      search_mode: "auto"
  - backend:
      type: chatcompletion
      model: local-model
      base_url: "http://127.0.0.1:9/v1/chat/completions"
  - backend: {model: o3-mini}
backend_params:
  temperature: 0.3
ui:
  display_type: "terminal"
  logging_enabled: true
  use_orchestrator_for_single_agent: true
orchestrator: {voting_sensitivity: lenient, max_new_answers_per_agent: 2, answer_novelty_requirement: lenient}
timeout_settings: {orchestrator_timeout_seconds: 600}
display:
  type: simple
  show_agent_details: true
  show_token_usage: true
"""


def test_every_protocol_key_loads_with_only_the_two_deprecation_warnings(installed_plugins):
    config, warnings = load_text_with_warnings(EVERY_KEY, "every-key.yaml", manager=installed_plugins)
    assert sorted((w.severity, w.key_path) for w in warnings) == [
        ("warning", "agents[4].backend.base_url"),
        ("warning", "display"),
    ]
    backends = [agent.backend for agent in config.agents]
    assert [agent.id for agent in config.agents] == [
        "researcher",
        "agent2",
        "agent3",
        "agent4",
        "agent5",
        "agent6",
    ]
    assert [b.type for b in backends] == [
        "openai",
        "claude",
        "gemini",
        "grok",
        "chatcompletion",
        "openai",
    ]
    assert backends[4].base_url == "http://127.0.0.1:9/v1"
    assert [b.temperature for b in backends] == [0.7, 0.3, 0.3, 0.3, 0.3, 0.3]
    assert backends[3].options["search_mode"] == "auto"
    assert config.ui.display_type == "terminal"  # an explicit ui: wins over the legacy block
    assert config.orchestrator.max_new_answers_per_agent == 2
    assert config.timeout_settings.orchestrator_timeout_seconds == 600
