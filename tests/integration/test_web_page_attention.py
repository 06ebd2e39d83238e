"""
The page gets your attention (issue 26, the page, 1): mentions
highlighted, badges of their own for mentions and private lines, the
unread count in the title while the tab is in the background, and
notifications (asked for once) of mentions and private lines then.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatwire import lines
from tests.integration.pagesupport import Page, Start, open_page


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server)


def join_dev(page: Page) -> None:
    page.alice.send("/join #dev")
    page.alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")
    page.alice.expect(lines.InRoom("#dev", lines.Joined("webby")))


def test_a_line_naming_you_is_highlighted(page: Page) -> None:
    page.alice.send("hey webby, look")
    page.alice.send("nothing for you")
    page.wait_for_line("nothing for you")
    mention = page.browser.wait_for_text("#log li.mention", "hey webby, look")
    assert "(mentions you)" in (mention.get_attribute("textContent") or "")
    assert page.browser.all("#log li.mention") == [mention]


def test_a_name_inside_a_word_is_no_mention(page: Page) -> None:
    page.alice.send("webbyish is not a mention")
    page.wait_for_line("webbyish")
    assert page.browser.all("#log li.mention") == []


def test_a_room_with_a_mention_gets_a_badge_of_its_own(page: Page) -> None:
    join_dev(page)
    page.alice.send("/join #lobby")
    page.alice.send("just talk")
    page.alice.send("webby: are you there?")
    badge = page.browser.wait(
        lambda: page.browser.all(
            "#room-list button[data-conv='#lobby'] .badge.mention"
        ),
        "a mention badge",
    )[0]
    assert badge.get_attribute("textContent") == "@11 mention of you"
    unread = page.browser.find(
        "#room-list button[data-conv='#lobby'] .badge:not(.mention)"
    )
    assert unread.get_attribute("textContent") == "2 unread lines"


def test_a_private_line_gets_a_mention_badge(page: Page) -> None:
    page.alice.send("/msg webby psst")
    badge = page.browser.wait(
        lambda: page.browser.all("#private-list .badge.mention"), "a private badge"
    )[0]
    assert badge.get_attribute("textContent") == "1 unread private line"


def test_the_title_counts_lines_while_the_tab_is_hidden(page: Page) -> None:
    assert page.browser.driver.title == "chat"
    page.hide()
    page.alice.send("one")
    page.alice.send("two")
    page.browser.wait(lambda: page.browser.driver.title == "(2) chat", "(2) chat")
    page.alice.send("three, webby")
    page.browser.wait(lambda: page.browser.driver.title == "(3*) chat", "(3*) chat")
    page.hide(False)
    page.browser.wait(lambda: page.browser.driver.title == "chat", "the title again")


def test_notification_permission_is_asked_once(page: Page) -> None:
    assert page.js("return window.__asked") == 1
    # Logging in again in this browser does not ask again.
    page.browser.open(f"http://127.0.0.1:{page.port}/")
    page.js("window.__permission = 'default'")
    page.browser.wait(lambda: page.browser.find("#server-name").text == "chat", "hello")
    page.browser.find("#name").send_keys("webby2")
    page.browser.find("#login-button").click()
    page.browser.wait(lambda: page.browser.find("#chat-view").is_displayed(), "chat")
    assert page.js("return window.__asked") == 0


def test_mentions_and_private_lines_are_notified_while_hidden(page: Page) -> None:
    page.hide()
    page.alice.send("plain line")
    page.alice.send("webby: deploy?")
    page.alice.send("/msg webby psst")
    page.browser.wait(lambda: len(page.js("return window.__notes")) == 2, "2 notes")
    notes = page.js("return window.__notes")
    assert notes == [
        {"title": "alice in #lobby", "body": "webby: deploy?"},
        {"title": "alice (private)", "body": "psst"},
    ]


def test_nothing_is_notified_while_the_tab_is_shown(page: Page) -> None:
    page.alice.send("webby: deploy?")
    page.wait_for_line("deploy?")
    assert page.js("return window.__notes") == []


names = st.text(st.sampled_from("abzAZé_-.ßΣς"), min_size=1, max_size=8).filter(
    lambda n: n.strip("_-.") == n
)
around = st.text(st.sampled_from(" ,:!?()'\"@\n"), min_size=1, max_size=3)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names, around, around, st.text(max_size=20))
def test_a_name_between_spaces_or_punctuation_is_a_mention(
    page: Page, name: str, left: str, right: str, rest: str
) -> None:
    text = rest + left + name.upper() + right + rest
    assert page.js("return ChatText.mentions(arguments[0], arguments[1])", text, name)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names, st.text(st.sampled_from("xy0123 ,:"), max_size=30))
def test_a_text_without_the_name_is_no_mention(
    page: Page, name: str, text: str
) -> None:
    assert not page.js(
        "return ChatText.mentions(arguments[0], arguments[1])", text, name
    )
