"""
Private conversations in the Tk client, for real: a line to someone who
left says which line was not sent, and private tabs come back after the
client is closed and started again (kept in its config file).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from chatclient import config
from chatclient.app import ChatClient, Options
from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui


class PrivateLineTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_a_line_to_someone_who_left_says_which_line_failed(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.say("/msg bob hello")
        yield self.showing("bob", "-> *bob* hello")
        self.bob.say("/quit")
        yield self.showing("bob", "<-- bob has left (Quit)")
        self.selectTab("bob")
        self.say("still there?")
        yield self.showing(
            "bob", "!!! Not sent: bob is not online. Your line was: still there?"
        )
        assert "no such user" not in self.text("#lobby")


class RestartTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_private_tabs_come_back_after_a_restart(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        carol = yield self.otherUser("carol")
        self.say("/msg bob hello")
        carol.say("/msg alice hi")
        yield wait_until(
            lambda: self.window.tabLabels()[1:] == ["bob", "@ carol (1)"], "two tabs"
        )
        # What closing the program saves.
        config.save(self.client.remembered())
        yield self.client.close()
        remembered = config.load()
        assert remembered.privates == ["bob", "carol"]
        options = Options("127.0.0.1", self.port, privates=tuple(remembered.privates))
        again = ChatClient(self.root, self.clock(), options)
        self.addCleanup(again.close)
        again.model.flush()
        assert again.window.tabLabels() == ["…", "bob", "carol"]

    def clock(self) -> Any:
        from twisted.internet import reactor

        return reactor
