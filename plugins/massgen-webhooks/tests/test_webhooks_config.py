"""Reading webhooks.yaml and MASSGEN_WEBHOOK_URL: what loads, and what each mistake says."""

from __future__ import annotations

from pathlib import Path

import pytest
from massgen_webhooks import config
from massgen_webhooks.config import DEFAULT_EVENTS, Hook, load

from massgen_core.redaction import origin


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webhooks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_hook_loads_with_every_field(tmp_path):
    path = write(
        tmp_path,
        """
hooks:
  - url: https://example.com/h?token=${TOKEN}
    events: [session_finished, text_delta]
    secret: ${HOOK_SECRET}
    headers: {Authorization: "Bearer ${TOKEN}", X-Team: 42}
    timeout: 2.5
    max_retries: 0
    retry_initial_delay: 0
    retry_max_delay: 4
queue_size: 10
flush_timeout: 0.5
""",
    )
    loaded = load({"TOKEN": "tk", "HOOK_SECRET": "sec"}, path)
    assert loaded.problems == ()
    (hook,) = loaded.settings.hooks
    assert hook == Hook(
        url="https://example.com/h?token=tk",
        events=frozenset({"session_finished", "text_delta"}),
        secret="sec",
        headers={"Authorization": "Bearer tk", "X-Team": "42"},
        timeout=2.5,
        max_retries=0,
        retry_initial_delay=0.0,
        retry_max_delay=4.0,
    )
    assert loaded.settings.queue_size == 10 and loaded.settings.flush_timeout == 0.5


def test_defaults_apply_to_a_hook_with_only_a_url(tmp_path):
    loaded = load({}, write(tmp_path, "hooks:\n  - url: http://127.0.0.1:9/h\n"))
    (hook,) = loaded.settings.hooks
    assert hook.events == DEFAULT_EVENTS
    assert (hook.timeout, hook.max_retries, hook.secret, dict(hook.headers)) == (5.0, 3, None, {})
    assert loaded.settings.flush_timeout == 2.0


def test_a_single_star_string_means_every_event_but_deltas(tmp_path):
    (hook,) = load({}, write(tmp_path, "hooks: [{url: 'http://h/x', events: '*'}]")).settings.hooks
    assert hook.wants("usage_reported") and hook.wants("agent_failed")
    assert not hook.wants("text_delta") and not hook.wants("reasoning_delta")
    assert not hook.wants("answer_delta")  # an answer as it streams: as many events as its fragments


@pytest.mark.parametrize("text", ["", "hooks:\n", "hooks: []\n"])
def test_an_empty_file_configures_nothing_and_is_no_error(tmp_path, text):
    assert load({}, write(tmp_path, text)) == config.Loaded(config.Settings(), ())


def test_no_file_and_no_variable_configure_nothing(tmp_path):
    assert load({}, tmp_path / "absent.yaml").settings.hooks == ()


def test_the_environment_variable_adds_one_hook_with_the_default_events(tmp_path):
    loaded = load(
        {"MASSGEN_WEBHOOK_URL": "http://127.0.0.1:9/h", "MASSGEN_WEBHOOK_SECRET": "s"},
        tmp_path / "no",
    )
    (hook,) = loaded.settings.hooks
    assert (hook.url, hook.events, hook.secret) == ("http://127.0.0.1:9/h", DEFAULT_EVENTS, "s")


def test_the_environment_variable_adds_to_the_files_hooks(tmp_path):
    path = write(tmp_path, "hooks: [{url: 'http://a/x'}]")
    urls = [h.url for h in load({"MASSGEN_WEBHOOK_URL": "http://b/y"}, path).settings.hooks]
    assert urls == ["http://a/x", "http://b/y"]


def test_a_bad_environment_url_is_a_problem_that_names_the_variable(tmp_path):
    loaded = load({"MASSGEN_WEBHOOK_URL": "ftp://x"}, tmp_path / "no")
    assert loaded.settings.hooks == ()
    assert loaded.problems == (
        "MASSGEN_WEBHOOK_URL: must be an http:// or https:// URL with a host; it is ignored",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "hooks: [{url: 'http://h/x', evnts: [vote_cast]}]",
            ":1:29: hooks[0].evnts: unknown key 'evnts' (did you mean 'events'?)",
        ),
        ("hook: []", ":1:1: hook: unknown key 'hook' (did you mean 'hooks'?)"),
        ("hooks: [{url: 'http://h/x', zzz: 1}]", ":1:29: hooks[0].zzz: unknown key 'zzz'"),
        (
            "hooks:\n  - url: http://h/x\n    events: [session_finshed]\n",
            ":3:14: hooks[0].events[0]: unknown event type 'session_finshed' (did you mean 'session_finished'?)",
        ),
        (
            "hooks: [{url: 'http://h/x', events: [zzzz]}]",
            "unknown event type 'zzzz' (known: '*', agent_added",
        ),
        ("hooks: [{url: 'http://h/x', events: []}]", "hooks[0].events: must be a non-empty list"),
        (
            "hooks: [{url: 'http://h/x', events: {a: 1}}]",
            "hooks[0].events: must be a non-empty list",
        ),
        ("hooks: [{events: [vote_cast]}]", ":1:9: hooks[0]: needs 'url'"),
        ("hooks: [{url: 3}]", ":1:15: hooks[0].url: expected a string, got an integer 3"),
        (
            "hooks: [{url: 'ftp://h/x'}]",
            "hooks[0].url: must be an http:// or https:// URL with a host",
        ),
        (
            "hooks: [{url: 'http://h/x', timeout: 0}]",
            "hooks[0].timeout: must be a number > 0 (seconds)",
        ),
        (
            "hooks: [{url: 'http://h/x', timeout: true}]",
            "hooks[0].timeout: expected a number, got a boolean True",
        ),
        (
            "hooks: [{url: 'http://h/x', retry_initial_delay: -1}]",
            "hooks[0].retry_initial_delay: must be a number >= 0",
        ),
        (
            "hooks: [{url: 'http://h/x', max_retries: -1}]",
            "hooks[0].max_retries: must be a whole number >= 0",
        ),
        (
            "hooks: [{url: 'http://h/x', max_retries: 1.5}]",
            "hooks[0].max_retries: expected an integer, got a number 1.5",
        ),
        ("hooks: [{url: 'http://h/x', secret: 12}]", "hooks[0].secret: expected a string, got an integer ***"),
        ("hooks: [{url: 'http://h/x', secret: ''}]", "hooks[0].secret: must be a non-empty string"),
        ("hooks: [{url: 'http://h/x', headers: [a]}]", "hooks[0].headers: must be a mapping"),
        ("hooks: [{url: 'http://h/x', headers: {A: [1]}}]", "hooks[0].headers.A: must be a string"),
        (
            "hooks: [{url: 'http://h/x', secret: '${UNSET_SECRET_VAR}'}]",
            "hooks[0].secret: environment variable UNSET_SECRET_VAR is not set",
        ),
        (
            "hooks: [{url: 'http://${UNSET_HOST}/x'}]",
            "hooks[0].url: environment variable UNSET_HOST is not set",
        ),
        ("hooks: {url: 'http://h/x'}", ":1:8: hooks: expected a list, got a mapping"),
        ("hooks: [just-a-string]", ":1:9: hooks[0]: this must be a mapping, got a string"),
        ("- url: http://h/x", ":1:1: the webhooks section must be a mapping, got a list"),
        ("queue_size: 0", "queue_size: must be a whole number >= 1"),
        ("flush_timeout: -1", "flush_timeout: must be a number >= 0"),
        ("hooks: [url: x\n", ":2:1: invalid YAML"),
        ("hooks: [{url: 'http://h/x', '${HOST}': 1}]", "unknown key '${HOST}'"),
        ("hooks: [{url: 'http://h/x', timeout: '${T:-0}'}]", "hooks[0].timeout: must be a number > 0 (seconds)"),
    ],
)
def test_each_mistake_is_located_and_the_file_is_ignored(tmp_path, text, expected):
    path = write(tmp_path, text)
    loaded = load({}, path)
    assert loaded.settings.hooks == ()
    (problem,) = loaded.problems
    assert problem.startswith(f"{path}: ignored")
    assert expected in problem


def test_one_bad_hook_disables_the_whole_file_but_not_the_environment_hook(tmp_path):
    path = write(tmp_path, "hooks: [{url: 'http://a/x'}, {url: 'http://b/x', timeout: -1}]")
    loaded = load({"MASSGEN_WEBHOOK_URL": "http://c/z"}, path)
    assert [h.url for h in loaded.settings.hooks] == ["http://c/z"]
    assert len(loaded.problems) == 1


def test_an_undecodable_file_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "webhooks.yaml"
    path.write_bytes(b"hooks: [\xff\xfe]")
    (problem,) = load({}, path).problems
    assert f"{path}: not UTF-8 text: invalid start byte" in problem


def test_the_file_is_read_from_the_user_config_dir(_isolated_home):
    (_isolated_home / "config").mkdir()
    (_isolated_home / "config" / "webhooks.yaml").write_text("hooks: [{url: 'http://a/x'}]")
    assert config.config_path() == _isolated_home / "config" / "webhooks.yaml"
    assert [h.url for h in load({}).settings.hooks] == ["http://a/x"]


def test_secret_and_header_values_stay_out_of_reprs_and_problems(tmp_path):
    path = write(
        tmp_path,
        "hooks: [{url: 'https://u:pw@h.example/T0KEN', secret: '${S}', headers: {X-Key: '${S}'}, timeout: -1}]",
    )
    loaded = load({"S": "hunter2-secret"}, path)
    assert "hunter2-secret" not in " ".join(loaded.problems)
    hook = Hook(
        url="https://u:pw@h.example/T0KEN",
        secret="hunter2-secret",
        headers={"X-Key": "hunter2-secret"},
    )
    for text in (repr(hook), hook.name):
        assert "hunter2-secret" not in text and "T0KEN" not in text and "pw" not in text


def test_redacted_urls_keep_only_scheme_host_and_port():
    assert (
        origin("https://user:pw@hooks.example.com:8443/services/T0/B1?x=y")
        == "https://hooks.example.com:8443"
    )
