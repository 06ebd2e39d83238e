"""
Where you are (issue 26, the page, 7) and a phone (8): a "new messages"
button when lines arrive while you are scrolled up; an "unread from here"
line when you come back to a room or to the tab; on a phone, a badge on
the menu button, a drawer over the chat, targets of 44 px or more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.keys import Keys

from chatwire import lines
from tests.integration.pagesupport import Page, Start, open_page
from tests.integration.support import Client


def forty_lines(alice: Client) -> None:
    for n in range(1, 41):
        alice.send(f"line {n}")
    alice.send("/who")
    alice.expect(lines.UserList)


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, height=420, before=forty_lines)


@pytest.fixture
def phone(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, width=390, height=800)


def scroll_up(page: Page) -> None:
    page.wait_for_line("line 40")
    page.js("document.getElementById('log').scrollTop = 60")


def test_a_line_below_while_scrolled_up_shows_new_messages(page: Page) -> None:
    scroll_up(page)
    page.alice.send("fresh news")
    button = page.browser.find("#new-messages")
    page.browser.wait(button.is_displayed, "the new messages button")
    assert button.text == "1 new message ↓"
    button.click()
    page.browser.wait(lambda: not button.is_displayed(), "the button gone")
    at_bottom = "const l = document.getElementById('log');"
    at_bottom += "return l.scrollTop + l.clientHeight >= l.scrollHeight - 2"
    assert page.js(at_bottom)


def test_no_new_messages_button_at_the_bottom(page: Page) -> None:
    page.wait_for_line("line 40")
    page.alice.send("fresh news")
    page.wait_for_line("fresh news")
    assert not page.browser.find("#new-messages").is_displayed()


def test_scrolling_down_hides_the_new_messages_button(page: Page) -> None:
    scroll_up(page)
    page.alice.send("fresh news")
    button = page.browser.find("#new-messages")
    page.browser.wait(button.is_displayed, "the new messages button")
    page.js("const l = document.getElementById('log'); l.scrollTop = l.scrollHeight")
    page.browser.wait(lambda: not button.is_displayed(), "the button gone")


def test_unread_from_here_when_coming_back_to_a_room(page: Page) -> None:
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    page.alice.send("first unread")
    page.alice.send("second unread")
    page.browser.wait_for_text("#room-list .badge", "2")
    page.browser.click_text("#room-list li", "#lobby")
    page.wait_for_line("second unread")
    texts = page.texts()
    mark = texts.index("unread from here")
    assert not any("unread" in t for t in texts[:mark])
    assert texts[mark + 1].endswith("first unread")


def test_unread_from_here_when_coming_back_to_the_tab(page: Page) -> None:
    page.wait_for_line("line 40")
    page.hide()
    page.alice.send("while you were away")
    page.wait_for_line("while you were away")
    assert "unread from here" not in page.texts()
    page.hide(False)
    page.browser.wait(lambda: "unread from here" in page.texts(), "the mark")
    texts = page.texts()
    assert texts[texts.index("unread from here") + 1].endswith("while you were away")


def test_the_menu_button_has_a_badge_on_a_phone(phone: Page) -> None:
    assert not phone.browser.find("#menu-badge").is_displayed()
    phone.alice.send("/msg webby psst")
    badge = phone.browser.find("#menu-badge")
    phone.browser.wait(badge.is_displayed, "the menu badge")
    assert badge.get_attribute("textContent") == "1 unread, for you among them"
    assert "mention" in (badge.get_attribute("class") or "")


def test_the_drawer_covers_the_chat_instead_of_pushing_it(phone: Page) -> None:
    top = "return document.getElementById('conversation').getBoundingClientRect().top"
    before = phone.js(top)
    phone.browser.find("#menu-toggle").click()
    drawer = phone.browser.find("#sidebar-body")
    assert drawer.is_displayed()
    assert phone.js(top) == before
    assert drawer.rect["y"] + drawer.rect["height"] > before + 100
    assert phone.browser.find("#menu-toggle").get_attribute("aria-expanded") == "true"


def test_targets_on_a_phone_are_44_px_at_least(phone: Page) -> None:
    phone.alice.send("/msg webby psst")
    phone.browser.find("#menu-toggle").click()
    small = phone.js(
        "return [...document.querySelectorAll('button, input')]"
        ".filter((e) => e.offsetParent !== null)"
        ".map((e) => [e.id || e.textContent, e.getBoundingClientRect()])"
        ".filter(([, r]) => r.width < 44 || r.height < 44)"
    )
    assert small == []


def test_escape_closes_the_drawer(phone: Page) -> None:
    phone.browser.find("#menu-toggle").click()
    assert phone.browser.find("#sidebar-body").is_displayed()
    phone.browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not phone.browser.find("#sidebar-body").is_displayed()
    assert phone.focused() == "menu-toggle"
