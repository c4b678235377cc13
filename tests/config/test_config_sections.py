"""Plugins' config sections (``register_config_sections``): checked, located and built like the core's config."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import attrs
import pytest

from massgen_core.config.checker import INVALID, Checker
from massgen_core.config.document import Document
from massgen_core.config.loader import load_text_with_warnings, parse_document, validate_document
from massgen_core.config.problems import ConfigError
from massgen_core.config.sections import ConfigSection, build_section, load_section_file, located_errors
from massgen_core.hookspecs import hookimpl


def _positive(_instance, attribute, value):
    if value <= 0:
        raise ValueError(f"'{attribute.name}' must be > 0, got {value}")


@attrs.frozen(kw_only=True)
class Target:
    url: str
    weight: float = attrs.field(default=1.0, validator=_positive)


@attrs.frozen(kw_only=True)
class Metrics:
    prefix: str = "massgen"
    interval: float = attrs.field(default=10.0, validator=_positive)
    targets: tuple[Target, ...] = ()


def metrics_rules(data, report):
    urls = [t["url"] for t in data.get("targets", ())]
    for index, url in enumerate(urls):
        if url in urls[:index]:
            report(("targets", index, "url"), f"target {url!r} is listed twice")


@attrs.frozen
class Pair:
    low: int
    high: int

    def __attrs_post_init__(self):
        if self.low > self.high:
            raise ValueError("low is above high")


@attrs.frozen
class Holder:
    pairs: tuple[Pair, ...]


METRICS = ConfigSection(name="metrics", schema=Metrics, rules=metrics_rules, description="a test section")
SHADOW = ConfigSection(name="agents", schema=Metrics)  # a core key: the core's meaning wins
OWN_FILE = ConfigSection(name="metrics-file", schema=Metrics, file_name="metrics.yaml")


@pytest.fixture
def manager(scripted_manager):
    plugin = types.ModuleType("metrics_plugin")
    plugin.register_config_sections = hookimpl(lambda register: [register(s) for s in (METRICS, SHADOW, OWN_FILE)])
    scripted_manager.register(plugin, name="massgen-metrics-test")
    return scripted_manager


AGENT = "agent: {backend: {type: scripted, model: s}}\n"


def problems_of(text, manager):
    return [p.format() for p in validate_document(parse_document(AGENT + text, "c.yaml"), manager=manager)]


def test_a_plugin_section_in_the_main_config_is_built_into_config_sections(manager, monkeypatch):
    monkeypatch.setenv("METRICS_EVERY", "2.5")
    config, _ = load_text_with_warnings(
        AGENT + "metrics:\n  interval: ${METRICS_EVERY}\n  targets: [{url: 'http://m/1'}, {url: 'http://m/2', weight: 3}]\n",
        "c.yaml",
        manager=manager,
    )
    assert config.sections == {
        "metrics": Metrics(interval=2.5, targets=(Target(url="http://m/1"), Target(url="http://m/2", weight=3.0)))
    }


def test_a_config_without_the_section_has_no_sections(manager):
    config, _ = load_text_with_warnings(AGENT, "c.yaml", manager=manager)
    assert config.sections == {}


def test_every_mistake_in_a_section_is_located_at_once(manager):
    assert problems_of(
        "metrics:\n"
        "  prefx: x\n"
        "  interval: fast\n"
        "  targets:\n"
        "    - {weight: 2}\n"
        "    - {url: 'http://m/1', wieght: 2}\n",
        manager,
    ) == [
        "c.yaml:3:3: metrics.prefx: unknown key 'prefx' (did you mean 'prefix'?)",
        "c.yaml:4:13: metrics.interval: expected a number, got a string 'fast'",
        "c.yaml:6:7: metrics.targets[0]: needs 'url'",
        "c.yaml:7:27: metrics.targets[1].wieght: unknown key 'wieght' (did you mean 'weight'?)",
    ]


def test_the_schemas_validators_are_located_at_their_field_through_cattrs(manager):
    assert problems_of("metrics:\n  interval: 0\n  targets: [{url: 'http://m/1', weight: -1}]\n", manager) == [
        "c.yaml:3:13: metrics.interval: must be > 0, got 0.0",
        "c.yaml:4:41: metrics.targets[0].weight: must be > 0, got -1.0",
    ]


def test_the_sections_rules_report_at_the_place_they_name(manager):
    assert problems_of("metrics: {targets: [{url: 'http://a'}, {url: 'http://a'}]}\n", manager) == [
        "c.yaml:2:46: metrics.targets[1].url: target 'http://a' is listed twice",
    ]


def test_an_unset_variable_in_a_section_is_the_cores_located_error(manager):
    (problem,) = problems_of("metrics: {prefix: '${NO_SUCH_METRICS_VAR}'}\n", manager)
    assert problem.startswith("c.yaml:2:19: metrics.prefix: environment variable NO_SUCH_METRICS_VAR is not set")


def test_a_section_that_is_not_a_mapping_and_a_misspelt_section_name(manager):
    assert problems_of("metrics: [1]\n", manager) == [
        "c.yaml:2:10: metrics: the metrics section must be a mapping, got a list"
    ]
    assert problems_of("metrix: {}\n", manager) == ["c.yaml:2:1: metrix: unknown key 'metrix' (did you mean 'metrics'?)"]


def test_sections_with_their_own_file_or_a_core_name_are_not_keys_of_the_main_config(manager):
    (problem,) = problems_of("metrics-file: {}\n", manager)
    assert "unknown key 'metrics-file'" in problem
    config, _ = load_text_with_warnings(AGENT, "c.yaml", manager=manager)
    assert config.agents[0].id == "agent1"  # 'agent' kept its core meaning despite SHADOW


def test_a_section_file_loads_with_the_same_rules(manager, tmp_path):
    path = tmp_path / "metrics.yaml"
    path.write_text("prefix: team\ntargets: [{url: 'http://m'}]\n")
    assert load_section_file(OWN_FILE, path, environ={}, manager=manager) == Metrics(
        prefix="team", targets=(Target(url="http://m"),)
    )
    path.write_text("")
    assert load_section_file(OWN_FILE, path, environ={}, manager=manager) == Metrics()
    path.write_text("interval: '${EVERY:-0}'\n")
    with pytest.raises(ConfigError) as caught:
        load_section_file(OWN_FILE, path, environ={}, manager=manager)
    assert [p.format() for p in caught.value.problems] == [f"{path}:1:11: interval: must be > 0, got 0.0"]


def test_a_section_file_with_a_duplicate_key_reports_it(manager, tmp_path):
    path = tmp_path / "metrics.yaml"
    path.write_text("prefix: a\nprefix: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'prefix'"):
        load_section_file(OWN_FILE, path, environ={}, manager=manager)


def test_cattrs_errors_without_a_field_are_located_at_the_object():
    section = ConfigSection(name="pairs", schema=Holder)
    checker = Checker(Document(file="p.yaml", data={}), None, {})
    assert build_section(section, {"pairs": [{"low": 1, "high": 2}, {"low": 3, "high": 1}]}, ("s",), checker) is INVALID
    assert [(p.key_path, p.message) for p in checker.problems] == [("s.pairs[1]", "low is above high")]
    group = ExceptionGroup("two", [ValueError("a"), KeyError("b")])
    assert list(located_errors(group, ("x",))) == [(("x",), "a"), (("x",), "'b'")]
    from cattrs.errors import IterableValidationError

    unnoted = IterableValidationError("items", [ValueError("'low' is odd")], list)
    assert list(located_errors(unnoted, ("x",))) == [(("x",), "'low' is odd")]  # no class: the message as is


# -- webhooks.yaml: the first-party plugin's section, through the CLI ------------------


def run_massgen(tmp_path: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("MASSGEN_WEBHOOK")}
    env.update(MASSGEN_HOME=str(tmp_path / "home"), MASSGEN_LOAD_PLUGINS="webhooks,scripted")
    return subprocess.run(
        [sys.executable, "-m", "massgen_core", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )


def test_config_validate_checks_webhooks_yaml_as_the_webhooks_section(tmp_path):
    path = tmp_path / "webhooks.yaml"
    path.write_text("hooks:\n  - url: http://127.0.0.1:9/h\n    evnts: [vote_cast]\n    timeout: 0\n")
    done = run_massgen(tmp_path, "config", "validate", str(path))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [  # both: the unknown key hides no other mistake
        f"{path}:3:5: hooks[0].evnts: unknown key 'evnts' (did you mean 'events'?)",
        f"{path}:4:14: hooks[0].timeout: must be a number > 0 (seconds)",
    ]
    path.write_text("hooks:\n  - url: http://127.0.0.1:9/h\n    timeout: 0\n")
    done = run_massgen(tmp_path, "config", "validate", str(path))
    assert done.stdout.splitlines() == [f"{path}:3:14: hooks[0].timeout: must be a number > 0 (seconds)"]
    path.write_text("hooks: [{url: 'http://127.0.0.1:9/h', events: '*'}]\n")
    done = run_massgen(tmp_path, "config", "validate", str(path))
    assert (done.returncode, done.stdout) == (0, f"{path}: ok\n")


def test_massgen_plugins_lists_the_section_a_plugin_registers(tmp_path):
    import json

    rows = json.loads(run_massgen(tmp_path, "plugins", "--json").stdout)
    (webhooks,) = [r for r in rows if r["name"] == "massgen-webhooks"]
    assert webhooks["config_sections"] == ["webhooks"] and webhooks["error"] is None
