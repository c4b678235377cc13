"""The web interface in a real headless Chromium (Debian's), driven by Playwright: a whole session end to end."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from massgen_core.config.loader import config_from_dict
from massgen_server.testing import chromium, make_manager

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("MASSGEN_SCREENSHOTS", "")) if os.environ.get("MASSGEN_SCREENSHOTS") else None


def _chromium() -> str:
    return chromium("web interface tests")


@pytest.fixture
def browser():
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright is not installed: the README's test command (uv run --all-groups pytest) installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=_chromium(), args=FLAGS, headless=True)
        yield launched
        launched.close()


def team(manager: Any) -> Any:
    """Two scripted agents answering slowly enough to be watched: bob answers first (with HTML in it), alice
    restarts to read it and votes for it, and bob wins."""
    return config_from_dict({"agents": [
        {"id": "alice", "backend": {"type": "scripted", "model": "s-1", "token_delay": 0.05,
                                    "script": [{"answer": "Alice: short", "delay": 2.0}, {"vote": "best"}]}},
        {"id": "bob", "backend": {"type": "scripted", "model": "s-2", "token_delay": 0.05,
                                  "script": [{"answer": "Bob: a longer answer " + HOSTILE}, {"vote": "best"}]}},
    ]}, manager=manager)


def page_errors(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


@pytest.mark.slow
def test_a_whole_session_live_then_in_the_history_and_exported(serve, browser, tmp_path):
    import massgen_export_markdown

    manager = make_manager()
    manager.register(massgen_export_markdown, name="massgen-export-markdown")
    served = serve(manager=manager, config=team(manager))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    problems = page_errors(page)
    response = page.goto(served.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.title() == "MassGen"

    page.fill("#question", "What is best? " + HOSTILE)
    page.click("#ask")
    # Live: bob's answer streams into his panel while the session is still running.
    # (Locators, not wait_for_function: the page's CSP forbids the eval that one would need.)
    page.locator('.agent[data-agent="bob"] .text', has_text="Bob:").wait_for(timeout=20_000)
    assert page.inner_text("#summary") == ""
    page.wait_for_selector("#winner:not([hidden])", timeout=30_000)
    page.locator("#summary", has_text="ended by").wait_for(timeout=30_000)
    assert page.locator(".agent").count() == 2
    assert "Winner: bob" in page.inner_text("#winner")
    assert page.locator('.agent[data-agent="bob"]').get_attribute("class") == "agent won"
    assert "voted for bob" in page.inner_text('.agent[data-agent="alice"] .log')
    assert "submitted answer 1 as agent" in page.inner_text('.agent[data-agent="bob"] .log')
    assert page.inner_text('.agent[data-agent="bob"] .answer').startswith("Bob: a longer answer")
    assert not page.locator("#token-form").is_visible()  # no token needed here
    final = page.inner_text("#final")
    assert final.startswith("Bob: a longer answer") and HOSTILE in final  # the markup is text, not an element
    assert page.locator("main img").count() == 0 and page.title() == "MassGen"
    if SHOTS:
        page.screenshot(path=str(SHOTS / "web-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SHOTS / "web-phone.png"), full_page=True)

    page.click("#tab-history")
    page.wait_for_selector("#conversations li[data-id]", timeout=10_000)
    page.fill("#search", "best")
    page.click("#search-form button")
    page.wait_for_selector("#conversations li[data-id]", timeout=10_000)
    assert page.locator("#conversations li[data-id]").count() == 1
    page.click("#conversations li[data-id]")
    page.wait_for_selector("#conversation:not([hidden]) .turn", timeout=10_000)
    assert "Turn 1: What is best?" in page.inner_text("#turns")
    with page.expect_download() as download:
        page.click('.exports button[data-format="markdown"]')
    saved = tmp_path / "export.md"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".md") and "What is best?" in saved.read_text()
    if SHOTS:
        page.screenshot(path=str(SHOTS / "web-history-phone.png"), full_page=True)
    assert problems == []


@pytest.mark.slow
def test_behind_a_token_the_page_asks_for_it(serve, browser):
    served = serve(token="web-token-1234567")
    page = browser.new_page()
    page.goto(served.url + "/")
    page.fill("#question", "Secret?")
    page.click("#ask")
    page.wait_for_selector("#token-form:not([hidden])", timeout=10_000)
    assert "API token" in page.inner_text("#error")
    page.fill("#token", "web-token-1234567")
    page.click("#token-form button")
    page.click("#ask")
    page.locator("#summary", has_text="ended by").wait_for(timeout=30_000)
    assert page.inner_text("#final").startswith("A2 says Secret?")


@pytest.mark.slow
def test_stop_cancels_the_session(serve, browser):
    from massgen_server.testing import scripted_config

    manager = make_manager()
    served = serve(manager=manager, config=scripted_config(manager, first_delay=5))
    page = browser.new_page()
    page.goto(served.url + "/")
    page.fill("#question", "Slow?")
    page.click("#ask")
    page.wait_for_selector(".agent", timeout=10_000)
    page.click("#stop")
    page.locator("#status", has_text="stopped").wait_for(timeout=10_000)
    assert served.wait_idle()["sessions"]["active"] == 0
