"""A full coordination session through the CLI (a subprocess) against a loopback Gemini API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from massgen_core.testing.gemini import response_chunks, stream_path, stream_response
from massgen_core.testing.server import RecordedRequest, Response

KEY = "AIzaSyCLI-0123456789abcdefghijklmnop"
MODEL = "gemini-2.5-flash"


def _protocol_handler(request: RecordedRequest) -> Response:
    """Answer when nobody has, vote for agent1 once someone has, present when no workflow tools."""
    body = request.json()
    names = [d["name"] for t in body.get("tools", []) for d in t.get("functionDeclarations", [])]
    if "new_answer" not in names:
        return stream_response(response_chunks(text="Paris is the capital of France.", thought="Easy one."))
    if "no answers available yet" in json.dumps(body["contents"]):
        return stream_response(response_chunks(function_calls=[("new_answer", {"content": "Paris."})]))
    return stream_response(response_chunks(function_calls=[("vote", {"agent_id": "agent1", "reason": "right"})]))


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


def test_model_name_alone_runs_a_gemini_session_to_a_final_answer(server: Any, tmp_path: Path) -> None:
    server.add("POST", stream_path(MODEL), _protocol_handler)
    result = _run(["--model", MODEL, "--base-url", server.base_url, "--no-display", "What is the capital of France?"],
                  tmp_path, GOOGLE_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Paris is the capital of France."
    assert all(r.header("x-goog-api-key") == KEY for r in server.requests)
    assert KEY not in result.stderr + result.stdout


def test_the_legacy_single_flash_config_shape_runs_against_the_fake_server(server: Any, tmp_path: Path) -> None:
    server.add("POST", stream_path(MODEL), _protocol_handler)
    config = tmp_path / "flash.yaml"
    config.write_text(
        "agent:\n  id: gemini_agent\n  backend:\n    type: gemini\n    model: gemini-2.5-flash\n"
        f"    base_url: {server.base_url}\n    enable_web_search: true\n    enable_code_execution: true\n"
    )
    result = _run(["--config", str(config), "--no-display", "Capital of France?"], tmp_path, GEMINI_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Paris is the capital of France."
    bodies = server.received(MODEL)
    assert all({"googleSearch": {}} in b["tools"] and {"codeExecution": {}} in b["tools"] for b in bodies)


def test_missing_key_fails_before_any_request_and_names_both_variables(server: Any, tmp_path: Path) -> None:
    server.add("POST", stream_path(MODEL), _protocol_handler)
    result = _run(["--model", MODEL, "--base-url", server.base_url, "--no-display", "Hi?"], tmp_path)
    assert result.returncode != 0
    assert "GEMINI_API_KEY or GOOGLE_API_KEY" in result.stderr
    assert server.requests == []


def test_backends_check_lists_the_models_gemini_offers(server: Any, tmp_path: Path) -> None:
    server.models()
    config = tmp_path / "c.yaml"
    config.write_text(f"agent:\n  backend:\n    type: gemini\n    model: {MODEL}\n    base_url: {server.base_url}\n")
    result = _run(["backends", "check", "--json", "--config", str(config)], tmp_path, GEMINI_API_KEY=KEY)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["backends"][0]
    assert (row["backend"], row["status"], row["models"]) == ("gemini", "ok", ["gemini-2.5-flash", "gemini-2.5-pro"])
