"""
Links and drafts (issue 26, the page, 3 and 4): http(s) URLs are links to a
new tab with C{rel="noopener noreferrer"} and nothing else ever is; what
you typed stays until the server took it (a line too long stays in the
input, a refused one comes back to it, one typed while disconnected is
sent on reconnecting), with the room left shown near the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatwire import lines
from tests.integration.browser import Browser, free_port
from tests.integration.pagesupport import FAKES, Page, Start, log_in, open_page


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, "--max-line", "100")


def links(page: Page, text: str) -> list[dict[str, Any]]:
    """
    @return: The links of the line C{text} once shown.
    """
    page.alice.send(text)
    page.wait_for_line(text)
    return list(
        page.js(
            "const li = [...document.querySelectorAll('#log > li')].pop();"
            "return [...li.querySelectorAll('a')].map((a) => ({href: a.href,"
            " text: a.textContent, target: a.target, rel: a.rel}));"
        )
    )


def test_an_http_url_is_a_link_to_a_new_tab(page: Page) -> None:
    assert links(page, "see https://example.org/a?b=1, then http://x.test") == [
        {
            "href": "https://example.org/a?b=1",
            "text": "https://example.org/a?b=1",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
        {
            "href": "http://x.test/",
            "text": "http://x.test",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
    ]


def test_javascript_and_other_schemes_stay_text(page: Page) -> None:
    text = "javascript:alert(1) data:text/html,hi ftp://x.test file:///etc"
    assert links(page, text) == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.sampled_from(
            [
                "https://a.test/x",
                "http://b.test",
                "javascript:",
                "x",
                " ",
                ".",
                ")",
                "<b>",
                '"',
                "https:",
                "//",
                "é",
                "\u00a0",
                "?q=1",
                "#f",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_lines_keep_their_text_and_link_only_to_http(page: Page, text: str) -> None:
    result = page.js(
        "const span = document.createElement('span');"
        "ChatText.appendLinked(span, arguments[0]);"
        "return {text: span.textContent, tags: [...span.querySelectorAll('*')]"
        ".map((e) => e.tagName), hrefs: [...span.querySelectorAll('a')]"
        ".map((a) => a.getAttribute('href'))};",
        text,
    )
    assert result["text"] == text
    assert set(result["tags"]) <= {"A"}
    assert all(h.startswith(("http://", "https://")) for h in result["hrefs"])


def test_a_line_over_the_limit_stays_in_the_input(page: Page) -> None:
    field = page.browser.find("#input")
    page.say("x" * 101)
    page.wait_for_line("Too long by 1 byte (at most 100): not sent.")
    assert field.get_attribute("value") == "x" * 101


def test_the_room_left_is_shown_near_the_limit(page: Page) -> None:
    field = page.browser.find("#input")
    left = page.browser.find("#room-left")
    field.send_keys("x" * 10)
    assert not left.is_displayed()
    field.send_keys("é" * 40)  # two bytes each: 90 of 100
    page.browser.wait(left.is_displayed, "the room left")
    assert left.text == "10 left"
    field.send_keys("é" * 6)
    page.browser.wait(lambda: left.text == "2 too many", "2 too many")


def test_a_line_the_server_refuses_comes_back_to_the_input(page: Page) -> None:
    field = page.browser.find("#input")
    page.say("turned \u202e around")
    page.browser.wait(
        lambda: field.get_attribute("value") == "turned \u202e around",
        "the line back in the input",
    )
    assert page.browser.all("#log li.pending") == []
    assert page.browser.all("#log li.notice.error")


def test_a_line_typed_while_disconnected_is_sent_on_reconnecting(
    start_server: Start,
) -> None:
    web = free_port()
    options = ("--web", f"tcp:{web}:interface=127.0.0.1")
    server = start_server("--rate", "0", *options)
    browser = Browser()
    try:
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": FAKES}
        )
        page = Page(server, browser, server.login("alice"))
        log_in(page, "webby")
        server.stop()
        browser.wait_for_text("#connection-text", "Reconnecting")
        page.say("typed while away")
        pending = browser.wait_for_text("#log li.pending", "typed while away")
        assert "waiting for the connection" in pending.text
        assert browser.find("#input").get_attribute("value") == ""
        server = start_server("--rate", "0", *options)
        bob = server.login("bob")
        bob.expect(lines.Message("webby", "typed while away"))
        browser.wait(lambda: not browser.all("#log li.pending"), "the line taken")
        assert any(t.endswith("typed while away") for t in page.texts())
    finally:
        browser.close()
