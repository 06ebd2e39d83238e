"""
The Tk client's search bar, for real: Ctrl+F, the words, the results, and a
result shown in its tab.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui


class SearchTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_search_and_show_a_result_in_its_tab(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        yield self.join("#dev")
        bob = yield self.otherIn("bobby", "#dev")
        bob.say("the déploy is done")
        yield self.showing("#dev", "the déploy is done")
        self.selectTab("#lobby")
        self.press(window.entry, "<Control-f>")
        assert window.searchBar.winfo_manager() == "pack"
        self.type(window.searchEntry, "deploy")
        yield wait_until(lambda: window.results.size() == 1, "one result")
        assert window.results.get(0).startswith("#dev  ")
        assert window.results.get(0).endswith("<bobby> the déploy is done")
        assert window.searchLabel.cget("text") == "1 found for deploy (no more)"
        self.press(window.results, "<Return>")
        yield wait_until(
            lambda: self.view("#dev").tag_ranges("found"), "the line marked"
        )
        assert self.model.selected is self.conversation("#dev")
        self.press(window.searchEntry, "<Escape>")
        assert not window.searchBar.winfo_manager()
