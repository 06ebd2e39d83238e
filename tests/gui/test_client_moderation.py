"""
Moderation in the Tk client, for real: the member list shows C{@} and C{+}
as roles change, a member's context menu (right-click, the Menu key)
offers operators kick, ban, mute and roles, the form asks in the window,
and a refusal is the server's one line.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from chatwire import lines
from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui


class ModerationTestCase(RoomsTestCase):
    """
    Alice made #dev (she is its operator) and bob joined it.
    """

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield super().setUp()
        self.addCleanup(self.window.memberMenu.menu.unpost)
        self.say("/join #dev")
        yield wait_until(lambda: self.userList() == ["@alice"], "alice as operator")
        self.bob.say("/join #dev")
        yield self.members("@alice", "bob")

    def members(self, *shown: str) -> defer.Deferred[None]:
        return wait_until(lambda: self.userList() == list(shown), f"members {shown}")

    def rightClick(self, name: str) -> None:
        users = self.window.users
        index = self.userList().index(name)
        users.see(index)
        self.root.update()
        box = users.bbox(index)
        assert box is not None
        users.event_generate("<Button-3>", x=box[0] + 4, y=box[1] + 2, when="now")

    def menuLabels(self) -> list[str]:
        menu = self.window.memberMenu.menu
        end = menu.index("end")
        if end is None:
            return []
        return [
            str(menu.entrycget(i, "label")) if menu.type(i) != "separator" else "-"
            for i in range(end + 1)
        ]

    def choose(self, label: str) -> None:
        menu = self.window.memberMenu.menu
        index = self.menuLabels().index(label)
        menu.unpost()
        menu.invoke(index)
        self.root.update()


class MemberListTests(ModerationTestCase):
    def test_the_maker_of_a_room_shows_as_its_operator(self) -> None:
        assert self.userList() == ["@alice", "bob"]

    @defer.inlineCallbacks
    def test_a_role_given_shows_in_the_list_at_once(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.say("/voice #dev bob")
        yield self.members("@alice", "+bob")

    @defer.inlineCallbacks
    def test_a_role_taken_leaves_the_list(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.say("/op #dev bob")
        yield self.members("@alice", "@bob")
        self.bob.say("/deop #dev alice")
        yield self.members("@bob", "alice")


class MemberMenuTests(ModerationTestCase):
    def test_a_right_click_offers_an_operator_every_action(self) -> None:
        self.rightClick("bob")
        assert self.menuLabels() == [
            "Private message",
            "-",
            "Kick...",
            "Ban...",
            "Mute...",
            "-",
            "Op",
            "Voice",
        ]

    @defer.inlineCallbacks
    def test_a_member_without_a_role_is_offered_a_private_message_only(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.say("/deop #dev alice")
        yield self.members("alice", "bob")
        self.rightClick("bob")
        assert self.menuLabels() == ["Private message"]

    def test_the_menu_key_opens_the_menu_of_the_selected_member(self) -> None:
        users = self.window.users
        users.selection_set(1)
        self.press(users, "<Shift-F10>")
        assert self.menuLabels()[0] == "Private message"
        assert users.curselection() == (1,)

    @defer.inlineCallbacks
    def test_op_from_the_menu_makes_the_member_an_operator(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.rightClick("bob")
        self.choose("Op")
        yield self.members("@alice", "@bob")

    @defer.inlineCallbacks
    def test_kick_asks_a_reason_in_the_window_then_kicks(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.rightClick("bob")
        self.choose("Kick...")
        form = self.window.memberMenu
        assert form.isOpen
        self.type(form.reason, "spam")
        yield self.bob.received(
            lines.InRoom("#dev", lines.Left.kick("bob", "alice", "spam"))
        )
        yield self.members("@alice")
        assert not form.isOpen

    @defer.inlineCallbacks
    def test_ban_sends_its_duration_and_reason(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.rightClick("bob")
        self.choose("Ban...")
        form = self.window.memberMenu
        form.duration.insert(0, "10m")
        self.type(form.reason, "flood")
        yield self.showing("#dev", "-!- alice banned bob until ")
        # A time, not "until lifted".
        assert re.search(r"banned bob until \d{4}-\S+ \S+Z: flood", self.text("#dev"))

    @defer.inlineCallbacks
    def test_escape_closes_the_form_and_sends_nothing(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.rightClick("bob")
        self.choose("Mute...")
        form = self.window.memberMenu
        self.type(form.reason, "shh", "<Escape>")
        assert not form.isOpen
        self.bob.say("/bans #dev")
        yield self.bob.received(lines.Info("Mutes of #dev (0):"))

    @defer.inlineCallbacks
    def test_a_refusal_shows_the_servers_one_line(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.rightClick("bob")
        self.choose("Ban...")
        form = self.window.memberMenu
        form.duration.insert(0, "10x")
        self.type(form.reason, "flood")
        yield self.showing("#dev", "!!! invalid duration '10x'")
