"""
Moderation on the chat page in real headless Chromium on a real twistd:
the members panel shows @ and + as roles change, a member's menu (by mouse
and by keyboard) offers an operator kick, ban, mute and roles, the form asks
in the panel, and a refusal is the server's error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from selenium.webdriver.common.keys import Keys

from chatwire import lines
from tests.integration.browser import Browser, free_port
from tests.integration.support import ChatServer, Client
from tests.integration.test_web_page import log_in

Start = Callable[..., ChatServer]


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def in_ops(start_server: Start, browser: Browser) -> Client:
    """
    The page's user webby made #ops (so is its operator); alice (a line
    user) joined it.
    """
    webPort = free_port()
    server = start_server("--rate", "0", "--web", f"tcp:{webPort}:interface=127.0.0.1")
    alice = server.login("alice")
    log_in(browser, webPort, "webby")
    browser.find("#join-name").send_keys("#ops")
    browser.find("#join-form button").click()
    browser.wait(lambda: browser.find("#title").text == "#ops", "#ops shown")
    alice.send("/join #ops")
    alice.expect(lines.InRoom("#ops", lines.UserList(("alice", "webby"))))
    browser.wait(lambda: members(browser) == ["@webby", "alice"], "alice in #ops")
    return alice


def members(browser: Browser) -> list[str]:
    return [li.text for li in browser.all("#members li .member")]


def menu(browser: Browser) -> list[str]:
    return [item.text for item in browser.all("#member-menu [role=menuitem]")]


def test_an_operators_menu_offers_every_action_and_voice_shows_at_once(
    in_ops: Client, browser: Browser
) -> None:
    browser.click_text("#members .member", "alice")
    assert menu(browser) == [
        "Private message",
        "Kick…",
        "Ban…",
        "Mute…",
        "Op",
        "Voice",
    ]
    browser.click_text("#member-menu [role=menuitem]", "Voice")
    in_ops.expect(lines.InRoom("#ops", lines.RoleChanged("webby", "alice", "v", True)))
    browser.wait(lambda: members(browser) == ["@webby", "+alice"], "+alice")
    assert browser.console_errors() == []


def test_the_menu_works_from_the_keyboard(in_ops: Client, browser: Browser) -> None:
    button = browser.wait_for_text("#members .member", "alice")
    button.send_keys(Keys.ENTER)
    browser.wait(lambda: menu(browser), "the menu")
    active = browser.driver.switch_to.active_element
    assert active.text == "Private message"
    active.send_keys(Keys.ARROW_DOWN)
    assert browser.driver.switch_to.active_element.text == "Kick…"
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert menu(browser) == []
    assert browser.driver.switch_to.active_element.text == "alice"


def test_kick_asks_a_reason_in_the_panel_then_kicks(
    in_ops: Client, browser: Browser
) -> None:
    browser.click_text("#members .member", "alice")
    browser.click_text("#member-menu [role=menuitem]", "Kick…")
    assert browser.find("#member-form-title").text == "Kick alice in #ops"
    reason = browser.find("#member-reason")
    reason.send_keys("spam")
    reason.send_keys(Keys.ENTER)
    in_ops.expect(lines.InRoom("#ops", lines.Left.kick("alice", "webby", "spam")))
    browser.wait(lambda: members(browser) == ["@webby"], "alice gone")
    assert not browser.find("#member-form").is_displayed()


def test_a_refused_ban_shows_the_servers_error(
    in_ops: Client, browser: Browser
) -> None:
    browser.click_text("#members .member", "alice")
    browser.click_text("#member-menu [role=menuitem]", "Ban…")
    browser.find("#member-duration").send_keys("10x")
    reason = browser.find("#member-reason")
    reason.send_keys("flood")
    reason.send_keys(Keys.ENTER)
    browser.wait_for_text("#log li.error", "invalid duration '10x'")
