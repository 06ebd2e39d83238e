"""
The page moves its account's read marker, in real headless Chromium on a
real twistd: the room shown on a visible, focused page scrolled to its end
is read, and a line session of the same account is told (ReadUpTo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from chatwire import lines
from tests.integration.browser import Browser
from tests.integration.support import ChatServer, Client

Start = Callable[..., ChatServer]


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def log_in(client: Client, name: str, password: str) -> None:
    for line in (name, password):
        client.expect(lines.Prompt)
        client.send(line)
    client.expect(lines.Welcome)


def test_a_line_read_on_the_page_moves_the_marker_for_a_line_session(
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
    laptop = Client(server.port)
    log_in(laptop, "ann", "pw")
    bob = Client(server.port)
    log_in(bob, "bob", "pw2")
    bob.send("morning ann")
    browser.wait_for_text("#log li", "morning ann")
    read = laptop.expect(lines.ReadUpTo)
    assert isinstance(read, lines.ReadUpTo)
    assert (read.target, read.unread) == ("#lobby", 0)
    assert read.id > 0
    assert browser.console_errors() == []
