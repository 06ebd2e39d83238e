"""
Accessibility of the page (issue 26, the page, 6; WCAG 2.2 AA): axe-core
finds nothing in the chat view in its states (history, a mention, badges,
a private conversation, search results, the finder, a phone's drawer);
one C{<main>} landmark holds the log, which is C{role="log"} with polite
announcements and made anew on a switch (so the room is not read again);
the current room has C{aria-current}; the name colours are the Tk
client's, given to the same names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from chatclient.model import PALETTE, colour_index
from chatwire import lines
from tests.integration.pagesupport import Page, Start, open_page

STYLE = Path(__file__).parents[2] / "chatserver" / "doors" / "web" / "static"


def busy_lobby(alice: object) -> None:
    from tests.integration.support import Client

    assert isinstance(alice, Client)
    alice.send("/topic plans for the week")
    alice.send("said before, see https://example.org/notes")
    alice.send("/me waves")
    alice.send("/who")
    alice.expect(lines.UserList)


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, before=busy_lobby)


@pytest.fixture
def phone(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, width=390, height=800, before=busy_lobby)


def no_violations(page: Page) -> None:
    violations = page.axe()
    assert violations == [], "\n".join(
        f"{v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in violations
    )


def test_axe_finds_nothing_in_a_busy_chat_view(page: Page) -> None:
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    page.alice.send("webby: a mention for you")
    page.alice.send("/msg webby a private line")
    page.alice.send("x" * 700)
    page.browser.wait(lambda: page.browser.all("#private-list .badge"), "badges")
    page.browser.click_text("#room-list li", "#lobby")
    page.wait_for_line("a mention for you")
    page.say("/rooms")
    page.browser.wait(lambda: page.browser.all("#log .room-link"), "the rooms")
    page.say("/search said")
    page.browser.wait(lambda: page.browser.find("#search-panel").is_displayed(), "")
    no_violations(page)


def test_axe_finds_nothing_with_the_finder_open(page: Page) -> None:
    page.browser.find("#input").send_keys(Keys.CONTROL, "k")
    page.browser.wait(lambda: page.browser.find("#finder").is_displayed(), "finder")
    page.browser.find("#finder-input").send_keys("a")
    no_violations(page)


def test_axe_finds_nothing_on_the_login_form(start_server: Start) -> None:
    pages = open_page(start_server)
    page = next(pages)
    try:
        page.browser.open(f"http://127.0.0.1:{page.port}/")
        page.browser.wait(lambda: page.browser.find("#name").is_displayed(), "form")
        no_violations(page)
    finally:
        pages.close()


def test_axe_finds_nothing_in_a_phones_open_drawer(phone: Page) -> None:
    phone.alice.send("/msg webby hello phone")
    phone.browser.wait(lambda: phone.browser.find("#menu-badge").is_displayed(), "")
    phone.browser.find("#menu-toggle").click()
    no_violations(phone)


def test_the_chat_view_has_one_main_landmark_holding_the_log(page: Page) -> None:
    mains = page.js(
        "return [...document.querySelectorAll('main')]"
        ".filter((m) => m.offsetParent !== null).map((m) => m.id)"
    )
    assert mains == ["conversation"]
    assert page.js("return !!document.querySelector('main #log')")


def test_the_log_announces_politely(page: Page) -> None:
    log = page.browser.find("#log-live")
    assert log.get_attribute("role") == "log"
    assert log.get_attribute("aria-live") == "polite"
    assert log.get_attribute("aria-relevant") == "additions"


def test_a_switch_does_not_add_the_room_to_the_live_log(page: Page) -> None:
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    # What a screen reader would announce: nodes added to the live log
    # while it is in the page.
    page.js(
        "window.__added = 0;"
        "const log = document.getElementById('log-live');"
        "new MutationObserver((ms) => { for (const m of ms) if (log.isConnected)"
        " window.__added += m.addedNodes.length; })"
        ".observe(log, { childList: true, subtree: true });"
    )
    page.browser.click_text("#room-list li", "#lobby")
    page.browser.wait(lambda: page.browser.find("#title").text == "#lobby", "#lobby")
    page.wait_for_line("waves")
    assert page.js("return window.__added") == 0
    log = page.browser.find("#log-live")
    assert (log.get_attribute("role"), log.get_attribute("aria-live")) == (
        "log",
        "polite",
    )


def test_the_current_room_has_aria_current(page: Page) -> None:
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    current = page.browser.all("#sidebar button[aria-current]")
    assert [b.get_attribute("data-conv") for b in current] == ["#dev"]
    assert current[0].get_attribute("aria-current") == "page"


def test_the_name_colours_are_the_tk_clients_palette() -> None:
    css = (STYLE / "style.css").read_text(encoding="utf-8")
    found = dict(re.findall(r"\.name-(\d+) \{ color: (#[0-9a-f]{6}); \}", css))
    assert [found[str(i)] for i in range(len(found))] == list(PALETTE)


def test_a_name_has_the_colour_the_tk_client_gives_it(page: Page) -> None:
    names = [
        "alice",
        "Bob",
        "carol",
        "ŁUKASZ",
        "Straße",
        "\uff46\uff55\uff4c\uff4c",
        "δημήτρης",
        "x",
    ]
    names += [f"user{n}" for n in range(40)]
    classes = page.js("return arguments[0].map(ChatText.colourClass)", names)
    assert classes == [f"name-{colour_index(name)}" for name in names]


def test_the_log_has_no_dimmed_text(page: Page) -> None:
    page.wait_for_line("said before")
    opacities = page.js(
        "return [...document.querySelectorAll('#log *')]"
        ".map((e) => getComputedStyle(e).opacity).filter((o) => o !== '1')"
    )
    assert opacities == []


def test_the_check_finds_text_under_four_and_a_half_to_one(page: Page) -> None:
    # The check itself: today's main had timestamps at 3.15:1.
    page.js(
        "const li = document.createElement('li'); li.textContent = 'faint';"
        "li.style.color = '#8a929b'; document.getElementById('log').appendChild(li);"
    )
    assert "color-contrast" in [v["id"] for v in page.axe()]
