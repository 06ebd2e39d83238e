"""
Moderation on the chat page in real headless Chromium on a real twistd:
the members panel shows @ and + as roles change, a member's menu (by mouse
and by keyboard) offers an operator kick, ban, mute and roles, the form asks
in the panel, a refusal is the server's error, and axe-core finds nothing
with the menu or the form open.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.keys import Keys

from chatwire import lines
from tests.integration.browser import Browser
from tests.integration.pagesupport import Page, Start, open_page


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    """
    The page's user webby made #ops (so is its operator); alice (a line
    user) joined it.
    """
    pages = open_page(start_server)
    page = next(pages)
    try:
        join_ops(page)
        yield page
        next(pages, None)  # its checks after the test
    finally:
        pages.close()


def join_ops(page: Page) -> None:
    browser = page.browser
    page.say("/join #ops")
    browser.wait(lambda: browser.find("#title").text == "#ops", "#ops")
    page.alice.send("/join #ops")
    page.alice.expect(lines.InRoom("#ops", lines.UserList(("alice", "webby"))))
    browser.wait(lambda: members(browser) == ["@webby", "alice"], "alice")


def members(browser: Browser) -> list[str]:
    return [button.text for button in browser.all("#members li .member")]


def menu(browser: Browser) -> list[str]:
    return [item.text for item in browser.all("#member-menu [role=menuitem]")]


def open_menu(page: Page, name: str) -> None:
    page.browser.click_text("#members .member", name)
    page.browser.wait(lambda: menu(page.browser), "the menu")


def no_violations(page: Page) -> None:
    violations = page.axe()
    assert violations == [], "\n".join(
        f"{v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in violations
    )


def test_an_operators_menu_offers_every_action(page: Page) -> None:
    open_menu(page, "alice")
    assert menu(page.browser) == [
        "Private message",
        "Kick…",
        "Ban…",
        "Mute…",
        "Op",
        "Voice",
    ]


def test_voice_from_the_menu_shows_at_once(page: Page) -> None:
    open_menu(page, "alice")
    page.browser.click_text("#member-menu [role=menuitem]", "Voice")
    page.alice.expect(
        lines.InRoom("#ops", lines.RoleChanged("webby", "alice", "v", True))
    )
    page.browser.wait(lambda: members(page.browser) == ["@webby", "+alice"], "+alice")


def test_a_member_without_a_role_is_offered_a_private_message_only(
    page: Page,
) -> None:
    open_menu(page, "alice")
    page.browser.click_text("#member-menu [role=menuitem]", "Op")
    page.browser.wait(lambda: members(page.browser) == ["@alice", "@webby"], "@alice")
    page.alice.send("/deop #ops webby")
    page.browser.wait(lambda: members(page.browser) == ["@alice", "webby"], "deop")
    open_menu(page, "alice")
    assert menu(page.browser) == ["Private message"]


def test_the_menu_works_from_the_keyboard(page: Page) -> None:
    button = page.browser.wait_for_text("#members .member", "alice")
    button.send_keys(Keys.ENTER)
    page.browser.wait(lambda: menu(page.browser), "the menu")
    assert page.focused() == "Private message"
    page.browser.driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert page.focused() == "Kick…"
    page.browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert menu(page.browser) == []
    assert page.focused() == "alice"


def test_kick_asks_a_reason_in_the_panel_then_kicks(page: Page) -> None:
    open_menu(page, "alice")
    page.browser.click_text("#member-menu [role=menuitem]", "Kick…")
    assert page.browser.find("#member-form-title").text == "Kick alice in #ops"
    reason = page.browser.find("#member-reason")
    reason.send_keys("spam")
    reason.send_keys(Keys.ENTER)
    page.alice.expect(lines.InRoom("#ops", lines.Left.kick("alice", "webby", "spam")))
    page.browser.wait(lambda: members(page.browser) == ["@webby"], "alice gone")
    assert not page.browser.find("#member-form").is_displayed()


def test_a_refused_ban_shows_the_servers_error(page: Page) -> None:
    open_menu(page, "alice")
    page.browser.click_text("#member-menu [role=menuitem]", "Ban…")
    page.browser.find("#member-duration").send_keys("10x")
    reason = page.browser.find("#member-reason")
    reason.send_keys("flood")
    reason.send_keys(Keys.ENTER)
    page.wait_for_line("invalid duration '10x'")


def test_axe_finds_nothing_with_a_members_menu_open(page: Page) -> None:
    open_menu(page, "alice")
    no_violations(page)


def test_axe_finds_nothing_with_the_ban_form_open(page: Page) -> None:
    open_menu(page, "alice")
    page.browser.click_text("#member-menu [role=menuitem]", "Ban…")
    no_violations(page)
