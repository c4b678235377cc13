"""One redaction rule for the whole project: secret names, URL credentials, planted secrets never survive."""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
from hypothesis import assume, given
from hypothesis import strategies as st

from massgen_core import redaction
from massgen_core.redaction import (
    REDACTED,
    is_secret_name,
    origin,
    redact,
    redact_headers,
    redact_text,
    redact_url,
)

ROOT = Path(__file__).resolve().parents[2]

# The words a credential's name is made of, as the project's five former rules listed them, and more.
SECRET_WORDS = [
    "key", "api_key", "apikey", "api-key", "x-api-key", "x-goog-api-key", "token", "access_token", "refresh_token",
    "authorization", "proxy-authorization", "credential", "credentials", "password", "passwd", "secret",
    "client_secret", "private_key", "cookie", "set-cookie", "sig", "signature", "bearer", "auth", "id_token",
    "session_token", "secret_access_key", "passphrase",
]  # fmt: skip
HARMLESS_NAMES = [
    "model", "base_url", "max_tokens", "input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens",
    "temperature", "type", "id", "key_env", "monkey", "hotkeys", "tokenizer", "TOKENIZERS_PARALLELISM", "PATH",
    "PWD", "HOME", "LANG", "enable_code_execution", "system_message", "x", "", "_", "author", "keyword",
]  # fmt: skip

secrets = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=24)
plain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
hosts = st.sampled_from(["api.example.com", "127.0.0.1:8080", "[::1]:11434", "localhost", "h"])


def _spellings(word: str) -> list[str]:
    parts = re.split(r"[-_]", word)
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    return [word, word.upper(), word.replace("-", "_"), word.replace("_", "-"), camel, camel[:1].upper() + camel[1:]]


secret_names = st.builds(
    lambda word, spelling, prefix: (prefix + _spellings(word)[spelling]) if prefix else _spellings(word)[spelling],
    st.sampled_from(SECRET_WORDS),
    st.integers(0, 5),
    st.sampled_from(["", "openai_", "MY_SERVICE_", "x-", "upstream."]),
)


# -- names -------------------------------------------------------------------


@given(secret_names)
def test_every_spelling_of_a_credential_name_is_secret(name):
    assert is_secret_name(name), name


def test_names_that_only_look_alike_are_not_secret():
    assert [n for n in HARMLESS_NAMES if is_secret_name(n)] == []


def test_the_names_the_former_rules_disagreed_about_are_all_secret():
    # debug.py missed "credential", checker.py missed "authorization" and "apikey", recorder.py missed "cookie"...
    for name in ("authorization", "Authorization", "apikey", "apiKey", "credential", "credentials", "x-api-key",
                 "X-Goog-Api-Key", "cookie", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "db_password"):  # fmt: skip
        assert is_secret_name(name), name


# -- URLs --------------------------------------------------------------------


@st.composite
def urls_with_a_planted_secret(draw):
    """(url, secret): the secret as username, password, a query or fragment value, anywhere among others."""
    secret = draw(secrets)
    where = draw(st.sampled_from(["password", "username", "query", "fragment", "bare-userinfo"]))
    scheme = draw(st.sampled_from(["http", "https", "postgres", "wss"]))
    user = draw(plain)
    host = draw(hosts)
    path = draw(st.sampled_from(["", "/", "/v1", "/openai/v1/chat"]))
    others = draw(st.lists(st.tuples(st.sampled_from(["model", "x", "api-version", "alt"]), plain), max_size=3))
    position = draw(st.integers(0, len(others)))
    params = [f"{k}={v}" for k, v in others]
    if where in ("query", "fragment"):
        params.insert(position, f"{draw(secret_names)}={secret}")
    query = ("?" + "&".join(params)) if params and where != "fragment" else ""
    fragment = ("#" + "&".join(params)) if where == "fragment" else ""
    userinfo = {"password": f"{user}:{secret}@", "username": f"{secret}@", "bare-userinfo": f"{secret}:{user}@"}.get(where, "")
    if where == "bare-userinfo":
        url = f"{userinfo}{host}{path}{query}"
    else:
        url = f"{scheme}://{userinfo}{host}{path}{query}{fragment}"
    assume(secret not in url.replace(secret, "", 1))  # planted once, nowhere else by chance
    return url, secret


@given(urls_with_a_planted_secret())
def test_a_secret_planted_anywhere_in_a_url_never_survives_redact_url(case):
    url, secret = case
    out = redact_url(url)
    assert secret not in out
    assert REDACTED in out


@given(urls_with_a_planted_secret(), st.sampled_from(["", "error: ", "(see ", "connect to '", "GET "]),
       st.sampled_from(["", " failed", ").", "', retrying", "\n"]))  # fmt: skip
def test_a_secret_planted_in_a_url_inside_any_text_never_survives_redact_text(case, before, after):
    url, secret = case
    assume("://" in url)  # inside prose a URL is recognised by its scheme
    assert secret not in redact_text(f"{before}{url}{after}")


def test_url_redaction_keeps_everything_else_readable():
    url = "http://user:secret@host:8080/v1?key=secret2&model=gpt-4o#frag"
    assert redact_url(url) == "http://***@host:8080/v1?key=***&model=gpt-4o#frag"
    assert redact_url("https://api.openai.com/v1") == "https://api.openai.com/v1"
    assert redact_url("user:pw@host/v1") == "***@host/v1"
    assert redact_url("/v1/models?api_key=abc&x=1") == "/v1/models?api_key=***&x=1"
    assert redact_text("see (http://u:p@h/v1?token=abc).") == "see (http://***@h/v1?token=***)."
    assert redact_text("empty key= stays") == "empty key= stays"


def test_origin_keeps_scheme_host_and_port_only():
    assert origin("https://user:pw@hooks.example.com:8443/services/T0/B1?x=y") == "https://hooks.example.com:8443"
    assert origin("not a url") == REDACTED


# -- text ----------------------------------------------------------------------


PAIR_FORMATS = ["{n}={s}", "--{n}={s}", '"{n}": "{s}"', "'{n}': '{s}'", '{{"{n}":"{s}"}}']
HEADER_FORMATS = ["{n}: {s}", "{n}:{s}", "{n}: Bearer {s}", "{n}: Token {s}"]


@given(secret_names, secrets, st.sampled_from(PAIR_FORMATS + HEADER_FORMATS),
       st.sampled_from(["", "request failed: ", "headers {", "\n"]), st.sampled_from(["", ", retrying", "}", "\n"]))  # fmt: skip
def test_a_secret_written_as_a_named_value_in_text_never_survives(name, secret, form, before, after):
    assume(form not in HEADER_FORMATS or name.lower() != "key")  # "key: ..." is prose more often than not
    text = before + form.format(n=name, s=secret) + after
    assume(text.count(secret) == 1)
    assert secret not in redact_text(text)


def test_named_values_that_are_not_credentials_are_left_alone():
    for text in ("The key: press enter", "time 12:30, ratio 1:2", "model=gpt-4o&max_tokens=5", '{"model": "m"}',
                 "{'token': ''}", "see https://example.com: ok", "a header named api_key:"):  # fmt: skip
        assert redact_text(text) == text


def test_the_log_formatter_masks_every_line_it_formats():
    import logging

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: GET %s", ("http://u:pw-log-1@h/v1",), None)
    assert redaction.RedactingFormatter("%(name)s %(message)s").format(record) == "httpx HTTP Request: GET http://***@h/v1"


def test_key_shaped_tokens_known_keys_and_json_pairs_are_masked():
    redaction.remember_secret("weird-format-key-0002")
    redaction.remember_secret("short")  # too short to mask everywhere without mangling text
    text = (
        'bad key weird-format-key-0002; sk-abcdefghijklmnop; AIza' + "x" * 30 + '; Bearer abc.def.ghi1; '
        'Basic dXNlcjpwYXNz; {"api_key": "plain-json-secret", "model": "m"}; key xai-abcdefghijklmn here; short'
    )
    out = redact_text(text)
    for secret in ("weird-format-key-0002", "sk-abcdefghijklmnop", "AIza", "abc.def.ghi1", "dXNlcjpwYXNz", "plain-json-secret",
                   "xai-abcdefghijklmn"):  # fmt: skip
        assert secret not in out
    assert '"model": "m"' in out and out.endswith("; short")
    assert redact_text("Basic Authentication is fine, a Bearer of news") == "Basic Authentication is fine, a Bearer of news"


def test_headers_are_masked_by_name_and_their_values_redacted_as_text():
    headers = redact_headers({"Authorization": "Bearer sk-1234567890abcdef", "x-goog-api-key": "AIza" + "x" * 30,
                              "Content-Type": "application/json", "Referer": "http://u:pw@h/"})  # fmt: skip
    assert headers == {"Authorization": REDACTED, "x-goog-api-key": REDACTED, "Content-Type": "application/json",
                       "Referer": "http://***@h/"}  # fmt: skip
    assert redact_headers([("api-key", "v"), ("Cookie", "session=1")]) == {"api-key": REDACTED, "Cookie": REDACTED}


# -- data ----------------------------------------------------------------------


@st.composite
def data_with_a_planted_secret(draw):
    """(data, secret): nested dicts and lists, the secret under a secret name or in a URL, at any depth."""
    secret = draw(secrets)
    how = draw(st.sampled_from(["named", "url", "query"]))
    if how == "named":
        leaf: object = {draw(secret_names): secret}
    elif how == "url":
        leaf = {draw(plain): f"https://svc:{secret}@{draw(hosts)}/v1"}
    else:
        leaf = [f"http://{draw(hosts)}/v1?{draw(secret_names)}={secret}"]
    node = leaf
    for _ in range(draw(st.integers(0, 4))):
        siblings = draw(st.dictionaries(st.sampled_from(["model", "temperature", "agents", "max_tokens"]),
                                        st.integers(0, 9) | plain, max_size=2))  # fmt: skip
        node = draw(st.sampled_from([{**siblings, draw(plain): node}, [draw(plain), node], (node,)]))
    assume(json.dumps(node).count(secret) == 1)  # planted once, nowhere else by chance
    return node, secret


@given(data_with_a_planted_secret())
def test_a_secret_planted_at_any_depth_of_data_never_survives_redact(case):
    data, secret = case
    out = redact(data)
    assert secret not in json.dumps(out)


def test_redact_keeps_token_counts_empty_values_and_makes_data_json_ready():
    @attrs.frozen
    class Backend:
        api_key: str
        max_tokens: int
        base_url: str

    data = {"backend": Backend("sk-x", 9, "http://u:p@h/v1"), "input_tokens": 5, "token": "", "password": None,
            "when": Path("/tmp"), "tags": frozenset({"b", "a"}), "ok": True, "ratio": 0.5}  # fmt: skip
    assert redact(data) == {
        "backend": {"api_key": REDACTED, "max_tokens": 9, "base_url": "http://***@h/v1"},
        "input_tokens": 5, "token": "", "password": None, "when": "/tmp", "tags": ["a", "b"], "ok": True, "ratio": 0.5,
    }  # fmt: skip


# -- one rule --------------------------------------------------------------------

# What defining a rule of one's own looks like: a redaction or secret-name function, a collection
# or regex of secret words, a key-shaped-token pattern.
_OWN_RULE = [
    re.compile(r"^\s*def\s+(redact\w*|_?is_secret\w*|_secret\w*|_?mask\w*)\s*\(", re.M),
    re.compile(r"^\s*_?[A-Z_]*SECRET[A-Z_]*\s*=\s*(re\.compile|frozenset|set|\(|\[|\{)", re.M),
    re.compile(r"re\.compile\([^)]*(?i:secret|password|passwd|token|api_?key|credential|authorization|sk-|AIza|Bearer)"),
]
_SECRET_LITERALS = re.compile(r"[\"'](?:authorization|api_?key|apikey|password|secret|credential|token|cookie)[\"']", re.I)
# Functions that apply the rule to something (they call massgen_core.redaction), not rules.
_ALLOWED = {"massgen_core/redaction.py", "massgen_core/presets.py:_mask"}


def _own_rules(path: Path, text: str) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    if rel in _ALLOWED:
        return []
    found = []
    for pattern in _OWN_RULE:
        for match in pattern.finditer(text):
            name = match.group(1) if pattern.groups else match.group(0)
            if f"{rel}:{name}" not in _ALLOWED:
                found.append(f"{rel}: {match.group(0).strip()[:80]}")
    for line in text.splitlines():  # one line listing two secret words is a list of secret names
        if len(_SECRET_LITERALS.findall(line)) >= 2:
            found.append(f"{rel}: {line.strip()[:80]}")
    return found


def _sources() -> list[Path]:
    files = list((ROOT / "massgen_core").rglob("*.py"))
    for plugin in (ROOT / "plugins").iterdir():
        for package in plugin.glob("massgen_*"):
            files += package.rglob("*.py")
    return sorted(files)


def test_no_module_but_the_redaction_module_defines_what_a_secret_is():
    files = _sources()
    assert len(files) > 50 and ROOT / "massgen_core" / "redaction.py" in files
    offenders = [hit for path in files for hit in _own_rules(path, path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_one_rule_check_recognises_the_copies_it_replaced():
    old = {
        "massgen_core/http/debug.py": 'SECRET_HEADERS = frozenset(\n    {"authorization", "x-api-key"})\n',
        "massgen_core/config/checker.py": '_SECRET_KEY = re.compile(r"(?:^|_)(?:api_key|key|token)$")\n',
        "massgen_core/store/recorder.py": 'def is_secret_key(key: str) -> bool:\n    return False\n',
        "massgen_core/config/loader.py": "def redact(value):\n    return value\n",
        "plugins/massgen-webhooks/massgen_webhooks/config.py": "def redact_url(url):\n    return url\n",
        "massgen_core/cli/x.py": 'NAMES = ("password", "token")\n',
    }
    for rel, text in old.items():
        assert _own_rules(ROOT / rel, text), rel
