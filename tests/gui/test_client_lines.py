"""
Lines in the Tk client, for real: http and https URLs are links that a
click (through the X server) opens in the browser, nothing else is, and a
wrapped line's next rows start under its text, not under its time.
"""

from __future__ import annotations

import subprocess
from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui


class LinkTests(RoomsTestCase):
    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield super().setUp()
        self.opened: list[str] = []
        self.window.openURL = self.opened.append

    def click(self, index: str) -> None:
        text = self.window.text
        text.see(index)
        self.root.update()
        box = text.bbox(index)
        assert box is not None
        x = text.winfo_rootx() + box[0] + box[2] // 2
        y = text.winfo_rooty() + box[1] + box[3] // 2
        subprocess.run(["xdotool", "mousemove", str(x), str(y)], check=True)
        subprocess.run(["xdotool", "click", "1"], check=True)

    @defer.inlineCallbacks
    def test_a_click_on_a_url_opens_it_in_the_browser(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("the notes: https://example.org/notes?x=1. see you")
        yield self.showing("#lobby", "see you")
        text = self.window.text
        start = text.search("https://", "1.0")
        assert "link" in text.tag_names(f"{start}+3c")
        assert "link" not in text.tag_names(f"{start}-2c")
        self.click(f"{start}+5c")
        yield wait_until(lambda: self.opened, "the browser asked")
        assert self.opened == ["https://example.org/notes?x=1"]

    @defer.inlineCallbacks
    def test_other_schemes_are_plain_text(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("javascript:alert(1) and ftp://example.org/f")
        yield self.showing("#lobby", "ftp://example.org/f")
        text = self.window.text
        assert text.tag_ranges("link") == ()
        self.click(text.search("javascript", "1.0") + "+3c")
        self.click(text.search("ftp://", "1.0") + "+3c")
        self.root.update()
        assert self.opened == []


class WrapTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_a_wrapped_line_hangs_under_its_text(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        words = " ".join(f"word{i}" for i in range(80))
        self.bob.say(words)
        yield self.showing("#lobby", "word79")
        text = self.window.text
        self.root.update()
        start = text.search("<bob> word0", "1.0")
        text.see(start)
        self.root.update()
        lineStart = text.index(f"{start} linestart")
        first = text.bbox(start)
        # The first character of the line's second row on the screen.
        second = text.index(f"{lineStart} + 1 display lines display linestart")
        secondRow = text.bbox(second)
        assert first is not None and secondRow is not None
        assert text.compare(second, ">", lineStart)
        assert secondRow[1] > first[1]  # a row below
        assert secondRow[0] == first[0]  # under the text, not the time
