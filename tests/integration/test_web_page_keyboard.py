"""
The keyboard (issue 26, the page, 5): rooms, private conversations and
members are buttons in the Tab order; Tab completes a name when there is
one and leaves the input when there is none; Alt+Up/Down move between
rooms; Ctrl+K finds a room or a person; Escape closes what is open.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.integration.pagesupport import Page, Start, open_page


@pytest.fixture
def page(start_server: Start) -> Iterator[Page]:
    yield from open_page(start_server)


def chord(page: Page, modifier: str, key: str) -> None:
    ActionChains(page.browser.driver).key_down(modifier).send_keys(key).key_up(
        modifier
    ).perform()


def join_dev(page: Page) -> None:
    page.say("/join #dev")
    page.browser.wait(lambda: page.browser.find("#title").text == "#dev", "#dev")


def shown(page: Page, title: str) -> None:
    page.browser.wait(lambda: page.browser.find("#title").text == title, title)


def test_rooms_private_conversations_and_members_are_buttons(page: Page) -> None:
    page.alice.send("/msg webby hi")
    page.browser.wait(lambda: page.browser.all("#private-list button"), "a private")
    for css in (
        "#room-list li > button",
        "#private-list li > button",
        "#members button",
    ):
        buttons = page.browser.all(css)
        assert buttons, css
        for button in buttons:
            assert button.tag_name == "button"
            assert button.get_attribute("tabindex") in (None, "0")


def test_tab_leaves_the_input_when_there_is_nothing_to_complete(page: Page) -> None:
    field = page.browser.find("#input")
    field.click()
    field.send_keys(Keys.TAB)
    assert page.focused() == "Send"


def test_tab_completes_a_name_and_keeps_the_focus(page: Page) -> None:
    field = page.browser.find("#input")
    field.send_keys("al")
    field.send_keys(Keys.TAB)
    assert field.get_attribute("value") == "alice: "
    assert page.focused() == "input"


def test_tab_moves_on_after_a_word_that_is_no_name(page: Page) -> None:
    field = page.browser.find("#input")
    field.send_keys("zz")
    field.send_keys(Keys.TAB)
    assert page.focused() == "Send"
    assert field.get_attribute("value") == "zz"


def test_alt_up_and_down_move_between_rooms(page: Page) -> None:
    join_dev(page)
    chord(page, Keys.ALT, Keys.ARROW_UP)
    shown(page, "#lobby")
    chord(page, Keys.ALT, Keys.ARROW_DOWN)
    shown(page, "#dev")


def test_ctrl_k_finds_a_person(page: Page) -> None:
    chord(page, Keys.CONTROL, "k")
    finder = page.browser.find("#finder")
    assert finder.is_displayed()
    assert page.focused() == "finder-input"
    page.browser.find("#finder-input").send_keys("ali")
    page.browser.wait_for_text("#finder-list li", "alice")
    page.browser.find("#finder-input").send_keys(Keys.ENTER)
    shown(page, "private: alice")
    assert not finder.is_displayed()


def test_ctrl_k_finds_a_room_and_joins_one(page: Page) -> None:
    join_dev(page)
    page.browser.find("#input").send_keys(Keys.ALT, Keys.ARROW_UP)
    shown(page, "#lobby")
    chord(page, Keys.CONTROL, "k")
    page.browser.find("#finder-input").send_keys("de")
    page.browser.find("#finder-input").send_keys(Keys.ENTER)
    shown(page, "#dev")
    chord(page, Keys.CONTROL, "k")
    page.browser.find("#finder-input").send_keys("#new")
    page.browser.find("#finder-input").send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    shown(page, "#new")


def test_escape_closes_the_finder(page: Page) -> None:
    chord(page, Keys.CONTROL, "k")
    page.browser.find("#finder-input").send_keys(Keys.ESCAPE)
    assert not page.browser.find("#finder").is_displayed()
    assert page.focused() == "input"


def test_escape_closes_the_search_results(page: Page) -> None:
    page.alice.send("findable words")
    page.wait_for_line("findable words")
    page.say("/search findable")
    page.browser.wait(lambda: page.browser.find("#search-panel").is_displayed(), "")
    page.browser.find("#input").send_keys(Keys.ESCAPE)
    assert not page.browser.find("#search-panel").is_displayed()


def test_a_private_line_is_reached_with_alt_down(page: Page) -> None:
    page.alice.send("/msg webby over here")
    page.browser.wait(lambda: page.browser.all("#private-list button"), "a private")
    chord(page, Keys.ALT, Keys.ARROW_DOWN)
    shown(page, "private: alice")
    assert any("over here" in t for t in page.texts())
