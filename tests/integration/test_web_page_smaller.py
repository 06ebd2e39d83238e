"""
The smaller points (issue 26, the page, 9): C{/me} and C{/part} in a
private conversation, C{/msg} to nobody, the member list after a rename,
long lines folded, clickable rooms in C{/rooms}, one join line after a
reconnect, the topic header after a server restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.browser import Browser, free_port
from tests.integration.pagesupport import FAKES, Page, Start, log_in, open_page


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server)


def private_with_alice(page: Page) -> None:
    page.alice.send("/msg webby hi there")
    page.browser.click_text("#private-list li", "alice")
    page.browser.wait(lambda: page.browser.find("#title").text == "private: alice", "")


def test_me_in_a_private_conversation_is_an_action(page: Page) -> None:
    private_with_alice(page)
    page.say("/me waves")
    event = page.alice.expect(lines.PrivateIn)
    assert isinstance(event, lines.PrivateIn) and event.sender == "webby"
    assert "waves" in event.text
    line = page.browser.wait_for_text("#log li.action", "waves")
    assert line.find_element("css selector", ".sender").text == "* webby"


def test_part_in_a_private_conversation_closes_it(page: Page) -> None:
    private_with_alice(page)
    page.say("/part")
    page.browser.wait(lambda: page.browser.find("#title").text == "#lobby", "lobby")
    assert page.browser.all("#private-list li") == []


def test_msg_to_nobody_says_there_is_no_such_user(page: Page) -> None:
    page.say("/msg nobody hello?")
    page.browser.wait_for_text("#log li.error", "no such user: nobody")
    assert page.browser.all("#private-list li") == []
    assert page.browser.find("#title").text == "#lobby"
    value = page.browser.find("#input").get_attribute("value")
    assert value == "/msg nobody hello?"


def test_msg_without_text_to_someone_unknown_opens_nothing(page: Page) -> None:
    page.say("/msg nobody")
    page.browser.wait_for_text("#log li.error", "No such user here: nobody")
    assert page.browser.all("#private-list li") == []


def test_the_member_list_is_sorted_again_after_a_rename(page: Page) -> None:
    page.browser.wait(lambda: len(page.browser.all("#members li")) == 2, "2 members")
    page.alice.send("/nick zed")
    page.browser.wait(
        lambda: [li.text for li in page.browser.all("#members li")] == ["webby", "zed"],
        "webby, zed",
    )


def test_a_long_line_is_folded_with_show_more(page: Page) -> None:
    text = "word " * 799 + "end"
    page.alice.send(text)
    line = page.browser.wait_for_text("#log li", "word word")
    shown = line.find_element("css selector", ".folded").get_attribute("textContent")
    assert len(shown or "") < 500
    more = line.find_element("css selector", "button.show-more")
    assert more.get_attribute("aria-expanded") == "false"
    more.click()
    page.browser.wait(lambda: more.get_attribute("aria-expanded") == "true", "open")
    full = line.find_element("css selector", ".folded").get_attribute("textContent")
    assert full == text
    assert more.text == "show less"


def test_room_names_in_rooms_can_be_clicked(page: Page) -> None:
    page.alice.send("/join #dev")
    page.alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    page.say("/rooms")
    page.browser.click_text("#log button.room-link", "#dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    page.alice.expect(lines.InRoom("#dev", lines.Joined("webby")))


def restarting_page(start_server: Start, tmp_path: Path) -> Iterator[Page]:
    web = free_port()
    options = (
        "--rate",
        "0",
        "--history",
        f"sqlite:{tmp_path / 'history.db'}",
        "--web",
        f"tcp:{web}:interface=127.0.0.1",
    )
    server = start_server(*options)
    browser = Browser()
    try:
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": FAKES}
        )
        page = Page(server, browser, server.login("alice"))
        page.alice.send("/topic release on Friday")
        page.alice.send("/who")
        page.alice.expect(lines.UserList)
        log_in(page, "webby")
        page.say("/join #dev")
        browser.wait(lambda: browser.find("#title").text == "#dev", "#dev")
        page.say("/join #lobby")
        browser.wait(lambda: browser.find("#title").text == "#lobby", "#lobby")
        server.stop()
        browser.wait_for_text("#connection-text", "Reconnecting")
        page.server = start_server(*options)
        browser.wait(lambda: not browser.find("#connection").is_displayed(), "back")
        yield page
    finally:
        browser.close()


@pytest.fixture
def restarted(start_server: Start, tmp_path: Path) -> Iterator[Page]:
    yield from restarting_page(start_server, tmp_path)


def test_a_reconnect_shows_one_join_line_per_room(restarted: Page) -> None:
    page = restarted
    page.browser.find("#room-list button[data-conv='#dev']").click()
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    bob = page.server.login("bob")
    bob.send("/join #dev")
    bob.send("hello after the restart")
    page.wait_for_line("hello after the restart")
    joins = [t for t in page.texts() if re.search(r"joined #dev$", t)]
    # One for the first join, one for the join again after the restart.
    assert len(joins) == 2 and all("You joined #dev" in t for t in joins), joins


def test_the_topic_header_survives_a_server_restart(restarted: Page) -> None:
    page = restarted
    page.browser.wait(
        lambda: page.browser.find("#topic").text == "release on Friday", "the topic"
    )
    page.say("still here")
    page.wait_for_line("still here")
    assert page.browser.find("#topic").text == "release on Friday"
