"""The run path builds config objects without cattrs, and builds exactly what cattrs built.

``massgen_core.config.structure`` replaced the cattrs converter on the loader's
path (issue 17, start-up). Each checked document the loader structures here is
also given to the cattrs converter, and the two results must be equal and
print alike (``repr`` tells ``1`` from ``1.0``, a list from a tuple).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest

from massgen_core.config import loader
from massgen_core.config.loader import config_from_dict, load_config_with_warnings
from massgen_core.config.rules import converter
from massgen_core.config.schema import BackendConfig, Config
from massgen_core.config.structure import structure

BUNDLED = Path(loader.__file__).resolve().parents[1] / "configs"

# every schema field a run reads, with ints where floats go and lists where tuples go
EVERY_FIELD: dict[str, Any] = {
    "backend_params": {"temperature": 1},
    "roles": {"critic": "You criticise."},
    "ui": {"display_type": "simple", "logging_enabled": False},
    "orchestrator": {
        "max_attempts": 2,
        "max_cost_usd": 3,
        "final_presentation": False,
        "tools": ["python"],
        "scale": {"min": 1, "max": 3},
    },
    "timeout_settings": {"orchestrator_timeout_seconds": 60, "agent_retry_timeout_seconds": None},
    "voting": {"strategy": "majority"},
    "agents": [
        {
            "id": "a",
            "weight": 2,
            "role": "critic",
            "tools": [],
            "backend": {
                "type": "openai",
                "model": "gpt-4o-mini",
                "api_key": "sk-structure",
                "temperature": 0,
                "max_tokens": 100,
                "timeout": 30,
                "fallback": [{"type": "openai", "model": "gpt-4o"}],
                "pool": [{"type": "openai", "model": "gpt-4o-mini"}, {"type": "openai", "model": "gpt-4o"}],
                "routing": "least_busy",
                "stream": False,
            },
        },
        {
            "id": "team",
            "agents": [
                {"id": "t1", "backend": {"type": "scripted", "script": [{"answer": "x"}, {"vote": "t1"}]}},
                {"id": "t2", "backend": {"type": "scripted", "script": [{"answer": "y"}, {"vote": "t1"}]}},
            ],
        },
    ],
}


@pytest.fixture
def both_ways(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """(ours, cattrs') for every config the loader builds while the fixture is active."""
    pairs: list[tuple[Any, Any]] = []

    def spy(data: Any, cls: type) -> Any:
        ours = structure(data, cls)
        pairs.append((ours, converter().structure(data, cls)))
        return ours

    monkeypatch.setattr(loader, "structure", spy)
    return pairs


def assert_same(pairs: list[tuple[Any, Any]], count: int) -> None:
    assert len(pairs) == count
    for ours, theirs in pairs:
        assert ours == theirs
        assert repr(ours) == repr(theirs)
        assert attrs.asdict(ours) == attrs.asdict(theirs)  # collection types kept


def test_every_field_is_built_as_cattrs_builds_it(both_ways, installed_plugins):
    config = config_from_dict(EVERY_FIELD, manager=installed_plugins)
    assert_same(both_ways, 1)
    first = config.agents[0]
    # the conversions cattrs makes, which a plain ``Config(**data)`` would miss
    assert repr(first.weight) == "2.0" and repr(first.backend.temperature) == "0.0"
    assert repr(config.timeout_settings.orchestrator_timeout_seconds) == "60.0"
    pool = first.backend.pool
    assert isinstance(pool, tuple) and all(isinstance(b, BackendConfig) for b in pool)
    assert [(b.model, repr(b.temperature)) for b in pool] == [("gpt-4o-mini", "1.0"), ("gpt-4o", "1.0")]
    assert config.orchestrator.tools == ("python",) and first.tools == ()
    assert config.agents[1].is_team and isinstance(config.agents[1].agents, tuple)
    assert config.orchestrator.scale is not None and config.orchestrator.scale.max == 3


def test_bundled_and_legacy_configs_are_built_as_cattrs_builds_them(both_ways, installed_plugins, shared_dir):
    files = sorted(BUNDLED.glob("*.yaml")) + sorted((shared_dir / "legacy-configs").glob("*.yaml"))
    loaded = 0
    for path in files:
        try:
            load_config_with_warnings(path, manager=installed_plugins)
        except Exception:  # a legacy file whose provider plugin is not installed: not structured at all
            continue
        loaded += 1
    assert loaded >= 10
    assert_same(both_ways, loaded)


def test_a_key_outside_the_schema_is_refused_as_cattrs_refuses_it():
    with pytest.raises(ValueError, match="BackendConfig: unknown key"):
        structure({"type": "openai", "modle": "x"}, BackendConfig)
    with pytest.raises(Exception):
        converter().structure({"type": "openai", "modle": "x"}, BackendConfig)


@attrs.frozen
class Unusual:
    either: int | str
    many: list[int] = attrs.Factory(list)


def test_a_field_type_it_does_not_know_is_left_to_cattrs():
    built = structure({"either": "7", "many": ["1", 2]}, Unusual)
    assert built == converter().structure({"either": "7", "many": ["1", 2]}, Unusual)
    assert built.many == [1, 2]


def test_loading_and_building_a_session_imports_no_cattrs(tmp_path: Path):
    config = tmp_path / "three.json"
    agents = [{"id": n, "backend": {"type": "openai", "model": "gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1"}} for n in "abc"]
    config.write_text(json.dumps({"agents": agents}))
    child = textwrap.dedent(
        f"""
        import sys
        from massgen_core.config.loader import load_config_with_warnings
        from massgen_core.orchestrator.builder import build_orchestrator
        config, _ = load_config_with_warnings({str(config)!r})
        build_orchestrator(config)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "cattrs"))
        """
    )
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "MASSGEN_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
