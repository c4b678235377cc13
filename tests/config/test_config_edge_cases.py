"""Edge cases: plugin Options of every shape, odd values, interpolation forms, the config command's helpers."""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import attrs
import pytest

from massgen_core.backend import Backend
from massgen_core.cli import config_cmd
from massgen_core.config.loader import config_from_dict, format_key_path
from massgen_core.config.problems import ConfigError, ConfigProblem
from massgen_core.errors import MassGenError
from massgen_core.hookspecs import hookimpl
from massgen_core.voting import VotingStrategy


@attrs.frozen
class Inner:
    size: int = 0


@attrs.frozen(kw_only=True)
class RichOptions:
    tags: list[str] = attrs.Factory(list)
    pair: tuple[str, ...] = ()
    limits: Mapping[str, int] = attrs.Factory(dict)
    mode: str | int = "auto"
    anything: Any = None
    inner: Inner | None = None
    flag: bool = False


# an attrs class whose annotation names a type that exists only for type checkers
Unresolvable = attrs.define(
    type("Unresolvable", (), {"__annotations__": {"token": "NotImportedType"}, "token": None})
)


def _register(manager, name, plugin_name=None, **attributes):
    cls = type(name, (Backend,), {"name": name, **attributes})
    plugin = types.ModuleType(name)
    plugin.register_backends = hookimpl(lambda register: register(cls))
    manager.register(plugin, name=plugin_name or f"massgen-{name}")
    return cls


def _problems(data, manager, env=None):
    try:
        config_from_dict(data, manager=manager, env=env)
    except ConfigError as exc:
        return [(p.key_path, p.message) for p in exc.problems]
    return []


def _agent(**backend):
    return {"agent": {"backend": backend}}


@pytest.fixture
def rich(manager):
    _register(manager, "rich", Options=RichOptions)
    return manager


def test_every_supported_option_type_loads(rich):
    config = config_from_dict(
        _agent(
            type="rich",
            tags=["a"],
            pair=["x", "y"],
            limits={"rpm": 3},
            mode=5,
            anything=[1, {}],
            inner={"size": 2},
            flag=True,
        ),
        manager=rich,
    )
    options = config.agents[0].backend.options
    assert (
        options["pair"] == ["x", "y"] and options["inner"] == {"size": 2} and options["mode"] == 5
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("tags", "a", "expected a list, got a string"),
        ("tags", [1], "expected a string, got an integer 1"),
        ("limits", [], "this must be a mapping, got a list"),
        ("limits", {"rpm": "x"}, "expected an integer, got a string 'x'"),
        ("mode", 1.5, "expected a string or an integer, got a number"),
        ("inner", 3, "this must be a mapping, got an integer"),
        ("inner", {"sise": 1}, "unknown key 'sise'"),
        ("flag", "yes", "expected a boolean, got a string 'yes'"),
    ],
)
def test_option_values_of_the_wrong_shape_are_reported(rich, key, value, expected):
    found = _problems(_agent(type="rich", **{key: value}), rich)
    assert len(found) == 1 and expected in found[0][1], found


def test_unresolvable_option_annotations_accept_any_value(manager):
    _register(manager, "loose", Options=Unresolvable)
    assert (
        config_from_dict(_agent(type="loose", token=object()), manager=manager)
        .agents[0]
        .backend.options
    )


def test_an_options_class_that_is_not_attrs_is_trusted(manager):
    _register(manager, "plain", Options=dict)
    assert config_from_dict(_agent(type="plain", whatever=1), manager=manager).agents[
        0
    ].backend.options == {"whatever": 1}


def test_a_type_two_plugins_register_is_reported_as_a_conflict(manager):
    _register(manager, "twin", "massgen-twin-1")
    _register(
        manager, "twin", "massgen-twin-2"
    )  # recorded as a plugin failure, the name as a conflict
    found = _problems(_agent(type="twin", model="m"), manager)
    assert "registered by more than one plugin" in found[0][1]


def test_options_must_be_a_mapping(manager):
    assert _problems(_agent(type="openai", options=[1]), manager) == [
        ("agent.backend.options", "options must be a mapping, got a list")
    ]


def test_backend_must_be_a_mapping(manager):
    assert _problems({"agent": {"backend": "openai"}}, manager) == [
        ("agent.backend", "backend must be a mapping, got a string")
    ]


@pytest.mark.parametrize(
    ("agents", "message"),
    [
        (5, "'agents' must be a list of agents, got an integer"),
        ([], "'agents' is empty"),
        ([{"agents": []}], "a team needs at least one agent"),
        (
            [{"id": "", "backend": {"type": "openai"}}],
            "an agent id must be a non-empty string, got a string",
        ),
        (["x"], "an agent must be a mapping, got a string"),
    ],
)
def test_malformed_agent_lists_are_reported(manager, agents, message):
    assert message in [m for _, m in _problems({"agents": agents}, manager)]


def test_integer_agent_ids_become_strings(manager):
    assert (
        config_from_dict({"agents": [{"id": 7, "backend": {"type": "openai"}}]}, manager=manager)
        .agents[0]
        .id
        == "7"
    )


def test_structural_backend_keys_cannot_be_backend_params_defaults(manager):
    found = _problems({"backend_params": {"fallback": []}, **_agent(type="openai")}, manager)
    assert found == [
        ("backend_params.fallback", "'fallback' cannot be a default for every backend")
    ]


def test_voting_strategy_must_be_a_name(manager):
    assert _problems({"voting": {"strategy": 3}, **_agent(type="openai")}, manager) == [
        ("voting.strategy", "expected a strategy name, got an integer")
    ]


def test_voting_options_are_kept_when_the_default_strategy_is_not_installed(plugin_manager):
    _register(plugin_manager, "openai")
    config = config_from_dict(
        {"voting": {"tie_break": "x"}, **_agent(type="openai")}, manager=plugin_manager
    )
    assert config.voting.options == {"tie_break": "x"} and config.voting.strategy == "majority"


def test_a_strategy_with_a_non_attrs_options_class_gets_its_options_unchecked(manager):
    strategy = type("Loose", (VotingStrategy,), {"name": "loose", "Options": dict})
    plugin = types.ModuleType("loose")
    plugin.register_voting_strategies = hookimpl(lambda register: register(strategy))
    manager.register(plugin, name="loose")
    config = config_from_dict(
        {"voting": {"strategy": "loose", "k": 1}, **_agent(type="openai")}, manager=manager
    )
    assert config.voting.options == {"k": 1}


def test_roles_must_be_strings(manager):
    assert _problems({"roles": {"critic": 1}, **_agent(type="openai")}, manager) == [
        ("roles.critic", "expected a string, got an integer 1")
    ]


def test_nested_environments_and_empty_overlays(manager):
    data = {**_agent(type="openai"), "environments": {"empty": None}}
    assert config_from_dict(data, env="empty", manager=manager).environment == "empty"
    data["environments"]["bad"] = {"environments": {}}
    assert ("environments.bad.environments", "environments cannot be nested") in _problems(
        data, manager
    )


def test_a_legacy_display_that_is_not_a_mapping_still_warns_and_errors(manager):
    found = _problems({**_agent(type="openai"), "display": "simple"}, manager)
    assert ("display", "display must be a mapping, got a string") in found


def test_dash_default_applies_only_when_unset(manager, monkeypatch):
    monkeypatch.setenv("MG_EDGE_EMPTY", "")
    data = {
        "agent": {
            "system_message": "[${MG_EDGE_EMPTY-unset}][${MG_EDGE_EMPTY:-empty}][${MG_EDGE_NONE-unset}]",
            "backend": {"type": "openai"},
        }
    }
    assert config_from_dict(data, manager=manager).agents[0].system_message == "[][empty][unset]"


def test_interpolated_booleans_convert_and_bad_numbers_are_errors(manager, monkeypatch):
    monkeypatch.setenv("MG_EDGE_FLAG", "false")
    monkeypatch.setenv("MG_EDGE_N", "many")
    data = {
        **_agent(type="openai", max_tokens="${MG_EDGE_N}"),
        "ui": {"logging_enabled": "${MG_EDGE_FLAG}"},
    }
    assert _problems(data, manager) == [
        ("agent.backend.max_tokens", "expected an integer, got a string 'many'")
    ]
    del data["agent"]["backend"]["max_tokens"]
    assert config_from_dict(data, manager=manager).ui.logging_enabled is False


def test_an_unreadable_dotenv_file_is_skipped(load, tmp_path, monkeypatch):
    (tmp_path / ".env").write_bytes(b"MG_EDGE=\xff\xfe\n")
    monkeypatch.chdir(tmp_path)
    assert load("agent: {backend: {type: openai, model: gpt-4o}}\n").agents


def test_format_key_path_and_problem_format():
    assert format_key_path(["agents", 1, "backend", "type"]) == "agents[1].backend.type"
    problem = ConfigProblem(
        file="f.yaml", line=0, col=0, key_path="", message="gone", suggestion="x"
    )
    assert problem.format() == "f.yaml: gone (did you mean 'x'?)"
    assert str(ConfigError([])) == "invalid configuration"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("agents[0].backend.model", ["agents", 0, "backend", "model"]),
        ("agents.1.id", ["agents", 1, "id"]),
        ("ui", ["ui"]),
    ],
)
def test_key_paths_parse(text, parts):
    assert config_cmd.parse_key_path(text) == parts


@pytest.mark.parametrize("text", ["", "a..b", "a[x]", "a]"])
def test_malformed_key_paths_are_refused(text):
    with pytest.raises(MassGenError, match="cannot read key path"):
        config_cmd.parse_key_path(text)


def test_set_in_reports_bad_list_indexes_and_scalars():
    with pytest.raises(MassGenError, match=r"agents\[3\]: no such list item \(the list has 1\)"):
        config_cmd._set_in({"agents": [{}]}, ["agents", 3, "id"], "x", dict)
    with pytest.raises(MassGenError, match="ui.display_type: cannot set inside a str"):
        config_cmd._set_in({"ui": "x"}, ["ui", "display_type", "k"], "x", dict)
    data: dict[str, Any] = {}
    config_cmd._set_in(data, ["a", "b"], 1, dict)
    assert data == {"a": {"b": 1}}


def test_set_values_are_read_as_yaml():
    assert config_cmd._parse_value("0.5") == 0.5
    assert config_cmd._parse_value("{verbosity: low}") == {"verbosity": "low"}
    assert config_cmd._parse_value("a: b: c") == "a: b: c"  # not YAML: the text itself


def test_dump_yaml_writes_multiline_strings_as_blocks():
    assert config_cmd.dump_yaml({"s": "one\ntwo\n"}) == "s: |\n  one\n  two\n"


def test_unhashable_annotations_are_still_understood(manager):
    from typing import Annotated

    from massgen_core.config.checker import _origin

    assert _origin(Annotated[int, {"unhashable": []}]) is Annotated
