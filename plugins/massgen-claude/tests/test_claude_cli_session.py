"""A full coordination session through the CLI (a subprocess) against a loopback Messages API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from massgen_core.testing.anthropic import message_events, stream_response
from massgen_core.testing.server import RecordedRequest, Response

KEY = "sk-ant-cli-0123456789abcdef"


def _protocol_handler(request: RecordedRequest) -> Response:
    """Answer when nobody has, vote for agent1 once someone has, present when no workflow tools."""
    body = request.json()
    tools = [t.get("name") for t in body.get("tools", [])]
    if "new_answer" not in tools:
        return stream_response(message_events(text="Paris is the capital of France.", text_pieces=4))
    if "no answers available yet" in json.dumps(body["messages"]):
        return stream_response(message_events(tool_calls=[("toolu_a", "new_answer", {"content": "Paris."})]))
    return stream_response(message_events(tool_calls=[("toolu_v", "vote", {"agent_id": "agent1", "reason": "right"})]))


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MASSGEN_HOME": str(home), **env}
    # Traced by coverage, the child intermittently hangs inside anyio.connect_tcp (an anyio 4.16 /
    # Python 3.11 InvalidStateError, reported to the lead); this plugin's code is measured in-process.
    environment.pop("COVERAGE_PROCESS_CONFIG", None)
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        if var not in env:
            environment.pop(var, None)
    return subprocess.run([sys.executable, "-m", "massgen_core", *args], env=environment, capture_output=True,
                          text=True, timeout=60, check=False)


def test_model_name_alone_runs_a_claude_session_to_a_final_answer(server: Any, tmp_path: Path) -> None:
    server.messages(_protocol_handler)
    result = _run(["--model", "claude-sonnet-4-20250514", "--base-url", server.base_url, "--no-display",
                   "What is the capital of France?"], tmp_path, ANTHROPIC_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Paris is the capital of France."
    assert all(r.header("x-api-key") == KEY for r in server.requests)
    assert KEY not in result.stderr + result.stdout


def test_two_claude_agents_from_a_config_file_coordinate(server: Any, tmp_path: Path) -> None:
    server.messages(_protocol_handler)
    config = tmp_path / "claude.yaml"
    config.write_text(
        "agents:\n"
        + "".join(
            f"  - id: {name}\n    backend:\n      type: claude\n      model: claude-haiku-4-5\n"
            f"      base_url: {server.base_url}\n      enable_web_search: true\n      return_citations: true\n"
            for name in ("first", "second")
        )
    )
    result = _run(["--config", str(config), "--no-display", "Capital of France?"], tmp_path, ANTHROPIC_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Paris is the capital of France."
    bodies = server.received()
    assert all({"type": "web_search_20250305", "name": "web_search"} in b["tools"] for b in bodies)
    assert all(b["max_tokens"] == 8192 for b in bodies)


def test_missing_key_fails_before_any_request_and_names_the_variable(server: Any, tmp_path: Path) -> None:
    server.messages(_protocol_handler)
    result = _run(["--model", "claude-sonnet-4-20250514", "--base-url", server.base_url, "--no-display", "Hi?"],
                  tmp_path)
    assert result.returncode != 0
    assert "ANTHROPIC_API_KEY" in result.stderr
    assert server.requests == []


def test_backends_check_reports_a_rejected_key_and_exits_non_zero(server: Any, tmp_path: Path) -> None:
    from massgen_core.testing.anthropic import error_response

    server.models(error_response(401, "invalid x-api-key"))
    config = tmp_path / "c.yaml"
    config.write_text(f"agent:\n  backend:\n    type: claude\n    model: claude-haiku-4-5\n    base_url: {server.base_url}\n")
    result = _run(["backends", "check", "--json", "--config", str(config)], tmp_path, ANTHROPIC_API_KEY=KEY)
    assert result.returncode != 0
    row = json.loads(result.stdout)["backends"][0]
    assert (row["backend"], row["status"]) == ("claude", "unauthorized")
    assert KEY not in result.stdout
