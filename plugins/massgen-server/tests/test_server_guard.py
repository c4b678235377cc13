"""The Guard in front of every route: Host, Origin and Content-Type checks, over real HTTP to a real server.

A request that is refused must not reach an endpoint: no session starts (an
``on_event`` observer sees nothing, the store stays empty) and no data is read.
"""

from __future__ import annotations

from typing import Any

import pytest

from massgen_server.guard import Policy, host_refusal, normal_host, origin_refusal
from massgen_server.testing import SECRET

JSON = {"content-type": "application/json"}
QUESTION = b'{"question": "spend my keys"}'


def refused(response: Any, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == kind
    assert SECRET not in response.text
    return str(error["message"])


def conversations(served: Any) -> int:
    return len(served.client.get("/v1/conversations").json()["conversations"])


# -- Host (DNS rebinding) -------------------------------------------------------


def test_a_foreign_host_header_is_refused_and_reads_nothing(watched, capfd):
    served, _ = watched()
    for path in ("/v1/conversations", "/v1/backends", "/v1/status", "/health"):
        message = refused(served.client.get(path, headers={"host": f"rebind.test:{served.port}"}), 421, "misdirected_request")
        assert "rebind.test" in message and "--allow-host" in message
    assert "massgen: refused GET '/v1/conversations' (421)" in capfd.readouterr().err


def test_a_foreign_host_header_starts_no_session(watched):
    served, observer = watched()
    response = served.client.post("/v1/sessions", content=QUESTION, headers={**JSON, "host": "rebind.test"})
    refused(response, 421, "misdirected_request")
    assert observer.events == []
    assert conversations(served) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "localhost:1", "[::1]:8765"])
def test_loopback_names_are_accepted_on_a_loopback_server(serve, host):
    served = serve()
    response = served.client.get("/v1/backends", headers={"host": host})
    assert response.status_code == 200, response.text


def test_an_allowed_host_name_is_accepted(serve):
    served = serve(allow_hosts=("massgen.example.com",))
    assert served.client.get("/v1/backends", headers={"host": "MassGen.example.com:443"}).status_code == 200
    refused(served.client.get("/v1/backends", headers={"host": "other.example.com"}), 421, "misdirected_request")


def test_host_rules():
    policy = Policy.build(allow_hosts=["proxy.test"])
    assert host_refusal(None, ("127.0.0.1", 1), policy) == "the request has no Host header"
    assert host_refusal("192.168.1.5:8765", ("192.168.1.5", 8765), policy) is None  # the address it came in on
    assert host_refusal("localhost", ("192.168.1.5", 8765), policy) is not None  # not loopback: not assumed
    assert host_refusal("localhost", None, policy) is not None
    assert host_refusal("localhost", ("/run/massgen.sock", None), policy) is not None  # a socket path, not an address
    assert host_refusal("proxy.test", None, policy) is None
    assert normal_host("[::1]:80") == "::1" and normal_host("::1") == "::1" and normal_host("A.B.:9") == "a.b"


# -- Origin (cross-site requests) -----------------------------------------------


def test_a_foreign_origin_is_refused_and_starts_no_session(watched):
    served, observer = watched()
    for origin in ("http://evil.test:9999", f"http://localhost:{served.port + 1}", "null"):
        response = served.client.post("/v1/sessions", content=QUESTION, headers={**JSON, "origin": origin})
        assert origin in refused(response, 403, "forbidden_origin")
        refused(served.client.get("/v1/conversations", headers={"origin": origin}), 403, "forbidden_origin")
    assert observer.events == []
    assert conversations(served) == 1


def test_a_cross_site_browser_request_without_origin_is_refused(watched):
    served, _ = watched()
    response = served.client.get("/v1/conversations", headers={"sec-fetch-site": "cross-site"})
    assert "cross-site" in refused(response, 403, "forbidden_origin")
    assert served.client.get("/v1/conversations", headers={"sec-fetch-site": "same-origin"}).status_code == 200


def test_the_servers_own_origin_is_accepted(serve):
    served = serve()
    response = served.client.post(
        "/v1/sessions", content=QUESTION, headers={**JSON, "origin": f"http://127.0.0.1:{served.port}"}
    )
    assert response.status_code == 200 and response.json()["winner"] == "a2"


def test_an_allowed_origin_gets_cors_headers_and_a_preflight(serve):
    origin = "https://app.example.com"
    served = serve(allow_origins=(origin + "/",))
    preflight = served.client.options(
        "/v1/sessions",
        headers={"origin": origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    response = served.client.post("/v1/sessions", content=QUESTION, headers={**JSON, "origin": origin})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    foreign = served.client.options(
        "/v1/sessions", headers={"origin": "https://evil.test", "access-control-request-method": "POST"}
    )
    refused(foreign, 403, "forbidden_origin")


def test_without_allowed_origins_no_cors_header_is_sent(serve):
    served = serve()
    response = served.client.get("/v1/backends", headers={"origin": f"http://127.0.0.1:{served.port}"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_origin_rules():
    policy = Policy.build(allow_origins=["HTTP://Tool.Test:3000/"])
    assert origin_refusal("http://tool.test:3000", None, "http", "127.0.0.1:1", policy) is None
    assert origin_refusal(None, None, "http", "127.0.0.1:1", policy) is None  # curl, SDKs
    assert origin_refusal(None, "none", "http", "127.0.0.1:1", policy) is None  # typed in the address bar
    assert origin_refusal("http://127.0.0.1:1", None, "http", "127.0.0.1:2", policy) is not None  # another port
    assert origin_refusal("https://127.0.0.1:1", None, "http", "127.0.0.1:1", policy) is not None  # another scheme


# -- Content-Type (no-preflight posts) ------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_not_declared_as_json_is_refused_and_starts_no_session(watched, content_type):
    served, observer = watched()
    headers = {"content-type": content_type} if content_type else {}
    message = refused(served.client.post("/v1/sessions", content=QUESTION, headers=headers), 415, "unsupported_media_type")
    assert "application/json" in message
    assert observer.events == []
    assert conversations(served) == 1


def test_json_with_a_charset_parameter_is_accepted(serve):
    served = serve()
    response = served.client.post("/v1/sessions", content=QUESTION, headers={"content-type": "Application/JSON; charset=utf-8"})
    assert response.status_code == 200 and response.json()["question"] == "spend my keys"


def test_the_checks_hold_with_a_token_too(serve):
    served = serve(token="s3cret")
    auth = {"authorization": "Bearer s3cret"}
    refused(served.client.get("/v1/backends", headers={**auth, "host": "rebind.test"}), 421, "misdirected_request")
    refused(served.client.get("/v1/backends", headers={**auth, "origin": "http://evil.test"}), 403, "forbidden_origin")
    refused(served.client.post("/v1/sessions", content=QUESTION, headers=auth), 415, "unsupported_media_type")
