"""
The chat page in real headless Chromium (Debian's, through selenium) on a
real twistd: log in, see history, talk with a line-protocol user over a raw
socket, switch rooms, private messages, the input's history and name
completion, a phone-sized window, and a server restart survived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from chatwire import lines
from tests.integration.browser import Browser, free_port
from tests.integration.support import ChatServer, Client

Start = Callable[..., ChatServer]


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def log_in(browser: Browser, port: int, name: str) -> None:
    browser.open(f"http://127.0.0.1:{port}/")
    browser.wait(lambda: browser.find("#server-name").text == "chat", "the hello")
    browser.find("#name").send_keys(name)
    browser.find("#login-button").click()
    browser.wait(lambda: browser.find("#chat-view").is_displayed(), "the chat view")


def say(browser: Browser, text: str) -> None:
    field = browser.find("#input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)


def test_the_page_chats_with_a_line_user_and_survives_a_restart(
    start_server: Start, browser: Browser, tmp_path: Path
) -> None:
    webPort = free_port()
    options = (
        "--rate",
        "0",
        "--history",
        f"sqlite:{tmp_path / 'history.db'}",
        "--web",
        f"tcp:{webPort}:interface=127.0.0.1",
    )
    server = start_server(*options)
    alice = server.login("alice")
    alice.send("said <b>before</b> you came")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    alice.send("/join #lobby")  # alice's lines go to the lobby again
    alice.expect(lines.InRoom("#lobby", lines.Info("#lobby is your current room now")))

    log_in(browser, webPort, "webby")
    alice.expect(lines.InRoom("#lobby", lines.Joined("webby")))
    lobby_history_and_input(browser, alice)
    rooms_unread_and_private(browser, alice)
    assert browser.console_errors() == []

    # The server restarts: the page reconnects by itself, logs in again and
    # is back in its rooms.
    server.stop()
    browser.wait_for_text("#connection-text", "Reconnecting")
    server = start_server(*options)
    bob = server.login("bob")
    bob.expect(lines.Joined("webby"))
    browser.wait(lambda: not browser.find("#connection").is_displayed(), "reconnect")
    bob.send("/join #dev")
    bob.expect(lines.InRoom("#dev", lines.UserList(("bob", "webby"))))
    browser.click_text("#room-list li", "#dev")
    browser.wait(lambda: browser.find("#title").text == "#dev", "#dev shown")
    say(browser, "still here")
    bob.expect(lines.InRoom("#dev", lines.Message("webby", "still here")))
    # What was shown before is not shown twice after the history replay.
    texts = browser.log_texts()
    assert sum("in dev now" in text for text in texts) == 1, texts


def lobby_history_and_input(browser: Browser, alice: Client) -> None:
    """
    The lobby's history, talking there, and the input's keys.
    """
    # History, marked as such, with its time; text is never HTML.
    item = browser.wait_for_text("#log li.history", "said <b>before</b> you came")
    assert item.find_elements("css selector", "b") == []
    assert item.find_element("css selector", ".time").text[2] == ":"
    browser.wait_for_text("#log li.history-mark", "history")
    assert browser.find("#title").text == "#lobby"
    assert [li.text for li in browser.all("#members li")] == ["alice", "webby"]

    # Send and receive in the lobby.
    say(browser, "hello from chromium")
    alice.expect(lines.InRoom("#lobby", lines.Message("webby", "hello from chromium")))
    alice.send("hi webby")
    line = browser.wait_for_text("#log li", "hi webby")
    sender = line.find_element("css selector", ".sender")
    assert sender.text == "alice" and sender.value_of_css_property("color")
    assert "history" not in (line.get_attribute("class") or "")

    # Input history and name completion.
    field = browser.find("#input")
    field.send_keys(Keys.ARROW_UP)
    assert field.get_attribute("value") == "hello from chromium"
    field.clear()
    field.send_keys("al")
    field.send_keys(Keys.TAB)
    assert field.get_attribute("value") == "alice: "
    field.clear()


def rooms_unread_and_private(browser: Browser, alice: Client) -> None:
    """
    A second room, an unread count, a private conversation.
    """
    # Another room: joined from the side bar, shown, with its own messages.
    browser.find("#join-name").send_keys("#dev")
    browser.find("#join-form button").click()
    browser.wait(lambda: browser.find("#title").text == "#dev", "#dev shown")
    alice.expect(lines.InRoom("#dev", lines.Joined("webby")))
    say(browser, "in dev now")
    alice.expect(lines.InRoom("#dev", lines.Message("webby", "in dev now")))
    # A line in the lobby while #dev is shown: an unread count.
    alice.send("/msg webby psst")
    alice.send("lobby news")
    browser.wait_for_text("#room-list li", "#lobby")
    browser.wait(
        lambda: any(
            badge.text.startswith("1") for badge in browser.all("#room-list li .badge")
        ),
        "an unread count on #lobby",
    )
    assert "lobby news" not in browser.log_texts()
    # The private conversation.
    browser.click_text("#private-list li", "alice")
    browser.wait_for_text("#log li", "psst")
    say(browser, "psst back")
    alice.expect(lines.PrivateIn("webby", "psst back"))
    # Back to the lobby: the unread line is there, the count gone.
    browser.click_text("#room-list li", "#lobby")
    browser.wait_for_text("#log li", "lobby news")
    assert browser.all("#room-list li[data-conv='#lobby'] .badge") == []


def test_the_page_fits_a_phone(start_server: Start, tmp_path: Path) -> None:
    server = start_server("--rate", "0", "--web", "tcp:0:interface=127.0.0.1")
    phone = Browser(390, 800)
    try:
        log_in(phone, server.webPorts[0], "tiny")
        width = phone.driver.execute_script(
            "return document.documentElement.scrollWidth"
        )
        assert width <= 390
        assert phone.find("#input").is_displayed()
        assert not phone.find("#members-panel").is_displayed()
        assert not phone.find("#room-list").is_displayed()
        phone.find("#menu-toggle").click()
        phone.click_text("#room-list li", "#lobby")
        assert not phone.find("#room-list").is_displayed()
        say(phone, "from a phone")
        phone.wait_for_text("#log li", "from a phone")
    finally:
        phone.close()


def test_the_page_asks_for_a_password_when_names_are_accounts(
    start_server: Start, browser: Browser
) -> None:
    server = start_server(
        "--rate", "0", "--web", "tcp:0:interface=127.0.0.1", "--auth", "memory:ann:pw"
    )
    browser.open(f"http://127.0.0.1:{server.webPorts[0]}/")
    browser.wait(lambda: browser.find("#password").is_displayed(), "a password field")
    browser.find("#name").send_keys("ann")
    browser.find("#password").send_keys("wrong")
    browser.find("#login-button").click()
    browser.wait_for_text("#login-status", "wrong name or password")
    assert not browser.find("#chat-view").is_displayed()
    browser.find("#password").clear()
    browser.find("#password").send_keys("pw")
    browser.wait(lambda: browser.find("#login-button").is_enabled(), "the button")
    browser.find("#login-button").click()
    browser.wait(lambda: browser.find("#chat-view").is_displayed(), "the chat view")
    assert browser.find("#me").text == "You are ann"


def test_the_pages_unread_count_follows_a_read_on_another_device(
    start_server: Start, browser: Browser
) -> None:
    server = start_server(
        "--rate",
        "0",
        "--web",
        "tcp:0:interface=127.0.0.1",
        "--auth",
        "memory:ann:pw:bob:pw2",
    )
    browser.open(f"http://127.0.0.1:{server.webPorts[0]}/")
    browser.wait(lambda: browser.find("#password").is_displayed(), "a password field")
    browser.find("#name").send_keys("ann")
    browser.find("#password").send_keys("pw")
    browser.find("#login-button").click()
    browser.wait(lambda: browser.find("#chat-view").is_displayed(), "the chat view")
    say(browser, "/join #dev")
    browser.wait_for_text("#log li", "You joined #dev")
    browser.click_text("#room-list li", "#lobby")
    laptop = Client(server.port)
    for line in ("ann", "pw"):
        laptop.expect(lines.Prompt)
        laptop.send(line)
    laptop.expect(lines.Welcome)
    bob = Client(server.port)
    for line in ("bob", "pw2"):
        bob.expect(lines.Prompt)
        bob.send(line)
    bob.expect(lines.Welcome)
    bob.send("/join #dev")
    bob.send("#dev is busy")
    unread = "#room-list li[data-conv='#dev'] .badge"
    browser.wait(
        lambda: browser.all(unread) and browser.find(unread).text.startswith("1"),
        "1",
    )
    laptop.send("/read #dev")
    browser.wait(lambda: not browser.all(unread), "the count to follow the laptop")
    assert browser.console_errors() == []


def test_the_page_signs_up_and_a_line_user_is_then_asked_the_password(
    start_server: Start, browser: Browser
) -> None:
    server = start_server(
        "--rate", "0", "--web", "tcp:0:interface=127.0.0.1", "--accounts", "memory"
    )
    browser.open(f"http://127.0.0.1:{server.webPorts[0]}/")
    browser.wait(lambda: browser.find("#signup").is_displayed(), "the sign-up choice")
    browser.find("#name").send_keys("ann")
    browser.find("#password").send_keys("s3cret")
    browser.find("#signup").click()
    browser.find("#login-button").click()
    browser.wait(lambda: browser.find("#chat-view").is_displayed(), "the chat view")
    line = server.connect()
    line.expect(lines.Prompt)
    line.send("ann")
    assert line.expect(lines.Prompt) == lines.Prompt("password", "Password for ann?")
