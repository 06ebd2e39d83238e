"""
History in order (issue 26, the page, 2): older lines go above, in order,
on C{/history} or on scrolling to the top, keeping your place; "no more
history" is said; day separators; the full date and time on hover.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.browser import Browser
from tests.integration.pagesupport import FAKES, Page, Start, log_in, open_page
from tests.integration.support import Client


def forty_five_lines(alice: Client) -> None:
    for n in range(1, 46):
        alice.send(f"line {n}")
    alice.send("/who")  # answered after the others: all said
    alice.expect(lines.UserList)


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, before=forty_five_lines)


@pytest.fixture
def short_page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server, height=420, before=forty_five_lines)


def numbers(page: Page) -> list[int]:
    """
    @return: The numbers of the "line N" lines in the log, top to bottom.
    """
    found = []
    for text in page.texts():
        match = re.search(r"line (\d+)$", text)
        if match:
            found.append(int(match.group(1)))
    return found


def test_the_replay_on_joining_is_the_newest_lines_in_order(page: Page) -> None:
    page.wait_for_line("line 45")
    assert numbers(page) == list(range(26, 46))


def test_history_typed_puts_older_lines_above_in_order(page: Page) -> None:
    page.wait_for_line("line 45")
    page.say("/history 10")
    page.wait_for_line("line 16")
    assert numbers(page) == list(range(16, 46))


def test_scrolling_to_the_top_loads_older_lines_keeping_the_place(
    short_page: Page,
) -> None:
    page = short_page
    page.wait_for_line("line 45")
    top = "return [...document.querySelectorAll('#log > li')].find((e) =>"
    top += " e.textContent.endsWith('line 26')).getBoundingClientRect().top"
    page.js("document.getElementById('log').scrollTop = 0")
    page.wait_for_line("line 1")
    before = page.js(top)
    assert numbers(page) == list(range(1, 46))
    # Line 26 stays where it was on the screen: the place is kept.
    page.browser.wait(lambda: page.js(top) == before, "the place kept")
    assert page.js("return document.getElementById('log').scrollTop") > 100


def test_no_more_history_is_said_at_the_top(short_page: Page) -> None:
    page = short_page
    page.wait_for_line("line 45")
    page.js("document.getElementById('log').scrollTop = 0")
    page.wait_for_line("line 1")
    page.js("document.getElementById('log').scrollTop = 0")
    page.browser.wait(
        lambda: page.texts()[0] == "no more history", "no more history at the top"
    )


def test_a_day_separator_stands_before_each_day(
    start_server: Start, tmp_path: Path
) -> None:
    database = tmp_path / "history.db"
    options = ("--rate", "0", "--history", f"sqlite:{database}")
    server = start_server(*options)
    alice = server.login("alice")
    alice.send("two days ago")
    alice.send("today")
    alice.send("/who")
    alice.expect(lines.UserList)
    server.stop()
    then = time.time() - 2 * 86400
    with sqlite3.connect(database) as db:
        db.execute("UPDATE history SET time = ? WHERE text = 'two days ago'", (then,))
    server = start_server(*options, "--web", "tcp:0:interface=127.0.0.1")
    browser = Browser()
    try:
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": FAKES}
        )
        page = Page(server, browser, server.login("alice"))
        log_in(page, "webby")
        page.wait_for_line("today")
        kinds = page.js(
            "return [...document.querySelectorAll('#log > li')]"
            ".map((e) => e.classList.contains('day') ? 'day' : e.textContent)"
        )
        days = [i for i, k in enumerate(kinds) if k == "day"]
        old = next(i for i, k in enumerate(kinds) if k.endswith("two days ago"))
        new = next(i for i, k in enumerate(kinds) if k.endswith("today"))
        assert len(days) == 2 and days[0] < old < days[1] < new, kinds
        separators = browser.all("#log > li.day")
        assert str(time.localtime().tm_year) in separators[1].text
    finally:
        browser.close()


def test_the_time_tells_the_full_date_and_time_on_hover(page: Page) -> None:
    page.wait_for_line("line 45")
    stamp = page.browser.find("#log > li.history time")
    title = stamp.get_attribute("title") or ""
    assert str(time.localtime().tm_year) in title
    assert re.search(r"\d\d:\d\d:\d\d", title), title
    assert re.match(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", stamp.get_attribute("datetime") or ""
    )
