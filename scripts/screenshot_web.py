#!/usr/bin/env python3
"""
Take the screenshots of the chat page in the docs (docs/web.png, and
docs/web-phone.png beside it: a phone with the drawer open).

Starts a real C{twistd -n chat --web} on 127.0.0.1, a few raw TCP users who
chat, and headless Chromium logged in as C{alice}; then saves the window
and stops everything.

    .venv/bin/python scripts/screenshot_web.py [OUTPUT.png]

Needs Debian's chromium and chromium-driver (scripts/test installs them).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatwire import lines  # noqa: E402
from tests.integration.browser import Browser, free_port  # noqa: E402
from tests.integration.support import ChatServer, Client  # noqa: E402


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        server = ChatServer(
            Path(directory), "--rate", "0", "--web", f"tcp:{port}:interface=127.0.0.1"
        )
        browser = Browser(1100, 640)
        try:
            bob = server.login("bob")
            carol = server.login("carol")
            bob.send("/join #dev")
            bob.send("/topic release on Friday")
            bob.send("the build is green")
            carol.send("/join #dev")
            carol.send("nice, shipping the web door then")
            carol.expect(lines.InRoom)
            browser.open(f"http://127.0.0.1:{port}/")
            browser.wait(lambda: browser.find("#server-name").is_displayed(), "form")
            browser.find("#name").send_keys("alice")
            browser.find("#login-button").click()
            browser.wait(lambda: browser.find("#chat-view").is_displayed(), "chat")
            browser.find("#join-name").send_keys("#dev")
            browser.find("#join-form button").click()
            browser.wait(lambda: browser.find("#title").text == "#dev", "#dev")
            bob.send("/join #dev")
            bob.send("welcome alice! the notes: https://example.org/release-notes")
            bob.send("/me waves")
            carol.send("/msg alice lunch at noon?")
            carol.send("/join #lobby")
            carol.send("anyone in the lobby?")
            carol.send("alice: the lobby misses you")
            field = browser.find("#input")
            field.send_keys("thanks! it runs in the same reactor")
            field.send_keys("\n")
            browser.wait_for_text("#log li", "same reactor")
            bob.send("alice, can you check the web door?")
            browser.wait_for_text("#log li.mention", "web door")
            time.sleep(0.5)
            field.send_keys("b")
            field.send_keys("\t")
            field.send_keys("looks good")
            browser.driver.save_screenshot(str(output))
        finally:
            browser.close()
        try:
            phone_shot(port, carol, output.with_name("web-phone.png"))
        finally:
            server.stop()


def phone_shot(port: int, carol: Client, output: Path) -> None:
    """
    A phone logged in as C{dave}, with a private line and a mention from
    C{carol}, its drawer open.
    """
    phone = Browser(390, 740)
    try:
        phone.open(f"http://127.0.0.1:{port}/")
        phone.wait(lambda: phone.find("#server-name").is_displayed(), "form")
        phone.find("#name").send_keys("dave")
        phone.find("#login-button").click()
        phone.wait(lambda: phone.find("#chat-view").is_displayed(), "chat")
        carol.send("/msg dave welcome, dave")
        carol.send("dave: say hi")
        phone.wait(lambda: phone.find("#menu-badge").is_displayed(), "badge")
        phone.find("#menu-toggle").click()
        time.sleep(0.5)
        phone.driver.save_screenshot(str(output))
    finally:
        phone.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "web.png")
