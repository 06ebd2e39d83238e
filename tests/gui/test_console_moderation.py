"""
The server console's moderation panel, for real: the bans and mutes of
every room and the klines, listed as they are set, each lifted through the
core's operations as the server operator C{console}.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from tests.gui.test_console_window import ConsoleTestCase, LineClient, wait_until

pytestmark = pytest.mark.gui


class ModerationPanelTests(ConsoleTestCase):
    def bans(self) -> list[tuple[str, ...]]:
        tree = self.window.banTree
        return [
            tuple(str(value) for value in tree.item(key, "values"))
            for key in tree.get_children()
        ]

    def hint(self) -> str:
        return str(self.window.banHint.cget("text"))

    @defer.inlineCallbacks
    def operatorOfDev(self) -> Generator[defer.Deferred[Any], Any, LineClient]:
        """
        Alice made #dev: she is its operator.
        """
        alice: LineClient = yield self.login("alice")
        alice.say("/join #dev")
        yield alice.received("#dev --> alice has joined")
        return alice

    @defer.inlineCallbacks
    def test_a_ban_set_in_a_room_is_listed(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.operatorOfDev()
        alice.say("/ban #dev spam* flooding")
        yield wait_until(self.bans, "the ban listed")
        room, kind, mask, setter, _, ends, reason = self.bans()[0]
        assert (room, kind, mask, setter, ends, reason) == (
            "#dev",
            "ban",
            "spam*",
            "alice",
            "until lifted",
            "flooding",
        )

    @defer.inlineCallbacks
    def test_the_tab_says_how_many_are_listed(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.operatorOfDev()
        alice.say("/mute #dev bob 10m")
        yield wait_until(self.bans, "the mute listed")
        panels = self.window.panels
        assert panels.tab(self.window.moderationPanel, "text") == "Moderation (1)"

    def test_a_kline_is_listed_for_the_server(self) -> None:
        self.console.actor().kline("203.0.113.0/24", "2h", "bots")
        self.console._refresh()
        room, kind, mask, setter, _, ends, reason = self.bans()[0]
        assert (room, kind, mask, setter, reason) == (
            "(server)",
            "kline",
            "203.0.113.0/24",
            "console",
            "bots",
        )
        assert ends != "until lifted"

    @defer.inlineCallbacks
    def test_lift_lifts_a_ban_and_the_room_is_told(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.operatorOfDev()
        alice.say("/ban #dev spam*")
        yield wait_until(self.bans, "the ban listed")
        tree = self.window.banTree
        tree.selection_set(tree.get_children()[0])
        self.window.liftButton.invoke()
        yield alice.received("#dev -!- console lifted the ban on spam*")
        yield wait_until(lambda: not self.bans(), "the ban gone")
        assert self.hint() == ""

    @defer.inlineCallbacks
    def test_lift_lifts_a_mute(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.operatorOfDev()
        alice.say("/mute #dev bob")
        yield wait_until(self.bans, "the mute listed")
        tree = self.window.banTree
        tree.selection_set(tree.get_children()[0])
        self.window.liftButton.invoke()
        yield alice.received("#dev -!- console lifted the mute on bob")

    @defer.inlineCallbacks
    def test_lift_lifts_a_kline_and_logs_it_as_the_console(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.console.actor().kline("spam*")
        self.console._refresh()
        tree = self.window.banTree
        tree.selection_set(tree.get_children()[0])
        self.window.liftButton.invoke()
        assert self.bans() == []
        assert not self.chat.server.realm.moderation.bans("", "kline")
        yield wait_until(
            lambda: "console did unkline on spam* in the server" in self.logText(),
            "the log line",
        )

    def test_lift_needs_a_selection(self) -> None:
        self.window.liftButton.invoke()
        assert self.hint() == "Select a ban, a mute or a kline to lift."
