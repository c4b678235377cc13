"""Loading never raises anything but ConfigError, whatever the input."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from massgen_core.config import Config, ConfigError, config_from_dict
from massgen_core.config.loader import load_text_with_warnings
from massgen_core.config.rules import AGENT_KEYS, TOP_LEVEL_KEYS

KEYS = [
    *TOP_LEVEL_KEYS,
    *AGENT_KEYS,
    "display",
    "type",
    "model",
    "temperature",
    "max_tokens",
    "api_key",
    "base_url",
    "fallback",
    "pool",
    "routing",
    "options",
    "strategy",
    "display_type",
    "enable_web_search",
    "text",
    "verbosity",
    "max_search_results",
    "thinking_budget",
    "dev",
    "prod",
    "tie_break",
    "min_weight",
    "critic",
]
VALUES = [
    "openai",
    "claude",
    "claud",
    "gpt-4o",
    "llama3.2",
    "majority",
    "weighted",
    "critic",
    "simple",
    "${MG_HYP_UNSET}",
    "${MG_HYP_UNSET:-1}",
    "http://h/v1/chat/completions",
    "low",
    "dev",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(VALUES),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=30,
)

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _outcome(call):
    try:
        return call()
    except ConfigError as exc:
        assert exc.problems, "a ConfigError always carries its problems"
        return exc


@SETTINGS
@given(data=documents)
def test_arbitrary_nested_data_gives_a_config_or_a_config_error(manager, data):
    result = _outcome(lambda: config_from_dict(data, manager=manager))
    assert isinstance(result, Config | ConfigError)


@SETTINGS
@given(data=st.dictionaries(st.sampled_from(KEYS), documents, max_size=6))
def test_arbitrary_top_level_mappings_give_a_config_or_a_config_error(manager, data):
    result = _outcome(lambda: config_from_dict(data, env="dev", manager=manager))
    assert isinstance(result, Config | ConfigError)


yaml_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "agents:",
                "agent:",
                "- ",
                "  ",
                "    ",
                "id: x",
                "backend:",
                "type: openai",
                "model: gpt-4o",
                "{",
                "}",
                "[",
                "]",
                ":",
                "&a",
                "*a",
                "<<: *a",
                "!!int x",
                "!tag",
                "'",
                '"',
                "#",
                "\t",
                "---",
                "...",
                "${X}",
                "\n",
            ]
        ),
        max_size=40,
    ).map("".join),
)


@SETTINGS
@given(text=yaml_text)
def test_arbitrary_yaml_text_gives_a_config_or_a_config_error(manager, text):
    result = _outcome(lambda: load_text_with_warnings(text, "h.yaml", manager=manager)[0])
    assert isinstance(result, Config | ConfigError)


@SETTINGS
@given(text=st.text(max_size=120))
def test_arbitrary_json_text_gives_a_config_or_a_config_error(manager, text):
    result = _outcome(lambda: load_text_with_warnings(text, "h.json", manager=manager)[0])
    assert isinstance(result, Config | ConfigError)


@SETTINGS
@given(data=documents)
def test_every_problem_is_located_within_the_document(manager, data):
    import json

    try:
        text = json.dumps({"agents": [data]}, indent=1)
    except (ValueError, TypeError):
        return
    result = _outcome(lambda: load_text_with_warnings(text, "h.json", manager=manager)[0])
    if isinstance(result, ConfigError):
        lines = text.count("\n") + 1
        assert all(1 <= p.line <= lines and p.col >= 1 for p in result.problems)


# near-valid teams: valid backends per type, sometimes with one mistake, so both outcomes are common
TYPE_OPTIONS = {
    "openai": {"enable_web_search": st.booleans(), "text": st.just({"verbosity": "low"})},
    "claude": {"enable_code_execution": st.booleans(), "thinking_budget": st.just(2048)},
    "gemini": {"enable_web_search": st.booleans()},
    "grok": {"max_search_results": st.integers(1, 20), "search_mode": st.just("auto")},
    "chatcompletion": {},
}
MISTAKES = [
    None,
    None,
    None,
    None,
    ("temprature", 1),
    ("type", "claud"),
    ("max_search_results", "ten"),
    ("routing", "fastest"),
]


def _backend(kind):
    common = {
        "temperature": st.sampled_from([0.1, 0.7, 1]),
        "base_url": st.sampled_from(["http://h/v1", "http://h/v1/chat/completions"]),
        "routing": st.sampled_from(["round_robin", "least_busy"]),
    }
    return st.fixed_dictionaries(
        {"type": st.just(kind), "model": st.sampled_from(["m1", "m2"])},
        optional={**common, **TYPE_OPTIONS[kind]},
    )


def _with_mistake(pair):
    backend, mistake = pair
    return backend if mistake is None else {**backend, mistake[0]: mistake[1]}


backends = st.tuples(
    st.sampled_from(sorted(TYPE_OPTIONS)).flatmap(_backend), st.sampled_from(MISTAKES)
).map(_with_mistake)
agents = st.recursive(
    st.fixed_dictionaries(
        {"backend": backends},
        optional={
            "role": st.sampled_from(["critic", "analyst"]),
            "weight": st.sampled_from([0, 1, 2.5]),
            "system_message": st.sampled_from(["hi", "${MG_HYP_UNSET:-x}"]),
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {"agents": st.lists(inner, min_size=1, max_size=3)},
        optional={
            "voting": st.fixed_dictionaries({"strategy": st.sampled_from(["majority", "weighted"])})
        },
    ),
    max_leaves=6,
)
teams = st.lists(agents, min_size=1, max_size=4)
backend_params = st.dictionaries(
    st.sampled_from(["temperature", "max_tokens", "enable_web_search"]),
    st.sampled_from([0.5, 100, True]),
    max_size=2,
)


@SETTINGS
@given(team=teams, params=backend_params)
def test_near_valid_teams_give_a_config_or_a_config_error(manager, team, params):
    data = {"agents": team, "backend_params": params, "environments": {"dev": {"agents": team[:1]}}}
    for env in (None, "dev"):
        result = _outcome(lambda env=env: config_from_dict(data, env=env, manager=manager))
        assert isinstance(result, Config | ConfigError)
        # both outcomes should be common: see --hypothesis-show-statistics
        event(type(result).__name__)
        if isinstance(result, Config):
            leaves, ids = _walk(result.agents)
            assert len(ids) == len(set(ids)), "agent ids are unique across teams"
            assert all(a.backend.type in manager.backends for a in leaves)
            assert not any((a.backend.base_url or "").endswith("/chat/completions") for a in leaves)


def _walk(agents):
    leaves, ids = [], []
    for agent in agents:
        ids.append(agent.id)
        if agent.is_team:
            inner_leaves, inner_ids = _walk(agent.agents)
            leaves += inner_leaves
            ids += inner_ids
        else:
            leaves.append(agent)
    return leaves, ids


@SETTINGS
@given(team=teams, params=backend_params)
def test_config_validate_finds_an_error_exactly_when_loading_fails(manager, team, params):
    # validate checks without building objects (no cattrs); building must then never fail
    from massgen_core.config.document import Document
    from massgen_core.config.loader import validate_document

    data = {"agents": team, "backend_params": params, "environments": {"dev": {"agents": team[:1]}}}
    problems = validate_document(Document(file="h.yaml", data=data), manager=manager)
    loads = [
        _outcome(lambda env=env: config_from_dict(data, env=env, manager=manager))
        for env in (None, "dev")
    ]
    has_error = any(p.is_error for p in problems)
    event("invalid" if has_error else "valid")
    assert has_error == any(isinstance(result, ConfigError) for result in loads)


@SETTINGS
@given(text=yaml_text)
def test_config_validate_and_loading_agree_on_arbitrary_yaml(manager, text):
    from massgen_core.config.loader import parse_document, validate_document

    result = _outcome(lambda: load_text_with_warnings(text, "h.yaml", manager=manager)[0])
    try:
        problems = validate_document(parse_document(text, "h.yaml"), manager=manager)
    except ConfigError:  # unreadable YAML: loading failed the same way
        assert isinstance(result, ConfigError)
        return
    assert any(p.is_error for p in problems) == isinstance(result, ConfigError)
