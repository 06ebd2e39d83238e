"""
The page's search box in real headless Chromium on a real twistd: the
results listed with their room, and a click showing the room and the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium.webdriver.common.keys import Keys

from chatwire import lines
from tests.integration.browser import Browser, free_port
from tests.integration.support import ChatServer
from tests.integration.test_web_page import log_in

Start = Callable[..., ChatServer]


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def test_the_search_box_lists_results_and_a_click_shows_the_line(
    start_server: Start, browser: Browser
) -> None:
    webPort = free_port()
    server = start_server("--rate", "0", "--web", f"tcp:{webPort}:interface=127.0.0.1")
    alice = server.login("alice")
    alice.send("the café <b>deployment</b> is done")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    log_in(browser, webPort, "webby")
    alice.expect(lines.InRoom("#lobby", lines.Joined("webby")))
    browser.wait_for_text("#log li.history", "deployment")
    browser.click_text("#room-list li", "#lobby")

    box = browser.find("#search-query")
    box.send_keys("cafe deploy*")
    box.send_keys(Keys.ENTER)
    result = browser.wait_for_text("#results li", "the café <b>deployment</b> is done")
    assert result.find_elements("css selector", "b") == []
    assert result.find_element("css selector", ".result-room").text == "#lobby"
    assert "(no more)" in browser.find("#search-title").text
    assert not browser.find("#search-more").is_displayed()
    result.click()
    browser.wait(lambda: browser.all("#log li.found"), "the line marked")
    assert browser.find("#title").text == "#lobby"
    assert browser.console_errors() == []
