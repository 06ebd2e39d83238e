"""
The Tk client's rooms and private conversations, for real: its window on
the Xvfb display against a real chat server in the same reactor, raw TCP
clients playing the other users and watching what the client sends.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Generator
from functools import partial
from typing import Any

import pytest
from twisted.internet import defer

from chatclient.model import Conversation
from chatserver.history.memory import MemoryHistory
from chatwire import lines
from tests.gui.client_support import ClientTestCase, OtherUser, wait_until

pytestmark = pytest.mark.gui


class RoomsTestCase(ClientTestCase):
    """
    Alice logged in (in the default room, #lobby) with bob beside her.
    """

    name = "alice"

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield super().setUp()
        self.bob = yield self.otherUser("bob")
        yield self.loggedIn()
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby"], "#lobby")

    def conversation(self, name: str) -> Conversation:
        conversation = self.model.conversation(name)
        assert conversation is not None, name
        return conversation

    def view(self, name: str) -> tk.Text:
        return self.window.views[id(self.conversation(name))][2]

    def text(self, name: str) -> str:
        return self.window.conversationText(name)

    def showing(self, name: str, text: str) -> defer.Deferred[None]:
        return wait_until(lambda: text in self.text(name), f"{text!r} in {name}")

    def selectTab(self, name: str) -> None:
        """
        Choose C{name}'s tab, as a click on it would.
        """
        frame = self.window.views[id(self.conversation(name))][0]
        self.window.notebook.select(frame)
        self.root.update()
        assert self.model.selected is self.conversation(name)

    def say(self, text: str) -> None:
        self.type(self.window.entry, text)

    @defer.inlineCallbacks
    def join(self, *rooms: str) -> Generator[defer.Deferred[Any], Any, None]:
        """
        Type C{/join ROOM} for each room and wait for its tab.
        """
        for room in rooms:
            self.say(f"/join {room}")
            yield wait_until(partial(self.hasTab, room), f"{room} tab")

    def hasTab(self, name: str) -> bool:
        return name in self.window.tabLabels()

    @defer.inlineCallbacks
    def otherIn(
        self, name: str, *rooms: str
    ) -> Generator[defer.Deferred[Any], Any, OtherUser]:
        """
        Log in another user and have them join C{rooms} (the last one is
        where their lines go).
        """
        other: OtherUser = yield self.otherUser(name)
        for room in rooms:
            other.say(f"/join {room}")
            yield other.received(lines.InRoom(room, lines.Joined(name)))
        return other

    def heard(self, other: OtherUser, text: str) -> defer.Deferred[None]:
        """
        Wait until C{other} has a chat line saying C{text}, in any room.
        """

        def said(event: lines.Event) -> bool:
            if isinstance(event, lines.InRoom):
                return getattr(event.line, "text", None) == text
            return getattr(event, "text", None) == text

        return wait_until(lambda: any(said(e) for e in other.events), f"{text!r} heard")

    def unfocus(self) -> None:
        entry = self.window.entry
        entry.focus_force()
        self.root.update()
        entry.event_generate("<FocusIn>")
        entry.event_generate("<FocusOut>")
        assert not self.model.focused


class TabsTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_two_rooms_and_switching_tabs(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev")
        assert self.window.tabLabels() == ["#lobby", "#dev"]
        # A room joined is selected, with its members and topic.
        assert self.model.selected is self.conversation("#dev")
        # Alice made it: she is its operator.
        yield wait_until(lambda: self.userList() == ["@alice"], "#dev's members")
        self.bob.say("/join #dev")
        yield wait_until(lambda: self.userList() == ["@alice", "bob"], "bob in #dev")
        self.bob.say("in dev")
        yield self.showing("#dev", "<bob> in dev")
        assert "in dev" not in self.text("#lobby")
        # The input goes to the selected tab's room.
        self.say("hello dev")
        yield self.bob.received(
            lines.InRoom("#dev", lines.Message("alice", "hello dev"))
        )
        self.selectTab("#lobby")
        yield wait_until(lambda: self.userList() == ["alice", "bob"], "#lobby's")
        self.say("hello lobby")
        yield self.bob.received(
            lines.InRoom("#lobby", lines.Message("alice", "hello lobby"))
        )
        assert "<alice> hello lobby" in self.text("#lobby")
        assert "hello lobby" not in self.text("#dev")
        self.selectTab("#dev")
        self.say("dev again")
        yield self.bob.received(
            lines.InRoom("#dev", lines.Message("alice", "dev again"))
        )
        assert self.text("#dev").count("<alice> dev again") == 1

    @defer.inlineCallbacks
    def test_topic_shows_above_the_room(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev")
        self.say("/topic release on friday")
        topic = self.window.views[id(self.conversation("#dev"))][1]
        yield wait_until(
            lambda: topic.cget("text") == "release on friday", "the topic label"
        )

    @defer.inlineCallbacks
    def test_unread_count_and_mention_on_a_tab_not_selected(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev")
        self.selectTab("#lobby")
        bob = yield self.otherIn("carol", "#dev")
        bob.say("one")
        bob.say("two")
        yield wait_until(
            lambda: self.window.tabLabels() == ["#lobby", "#dev (2)"], "2 unread"
        )
        assert not self.conversation("#dev").mention
        bob.say("are you there, Alice?")
        yield wait_until(
            lambda: self.window.tabLabels() == ["#lobby", "@ #dev (3)"], "a mention"
        )
        view = self.view("#dev")
        start = view.search("are you there", "1.0")
        assert "mention" in view.tag_names(start)
        # Reading the tab clears both.
        self.selectTab("#dev")
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby", "#dev"], "read")


class PrivateTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_private_tab_opened_by_an_incoming_message(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("/msg alice psst")
        yield wait_until(
            lambda: self.window.tabLabels() == ["#lobby", "@ bob (1)"], "bob's tab"
        )
        assert "*bob* psst" in self.text("bob")
        assert "psst" not in self.text("#lobby")
        assert self.model.selected is self.conversation("#lobby")
        # A plain line in that tab goes to bob alone.
        self.selectTab("bob")
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby", "bob"], "read")
        self.say("what is it?")
        yield self.bob.received(lines.PrivateIn("alice", "what is it?"))
        yield self.showing("bob", "-> *bob* what is it?")
        assert "what is it?" not in self.text("#lobby")

    @defer.inlineCallbacks
    def test_private_tab_opened_by_sending(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.say("/msg bob lunch?")
        yield self.bob.received(lines.PrivateIn("alice", "lunch?"))
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby", "bob"], "tab")
        yield self.showing("bob", "-> *bob* lunch?")
        self.bob.say("/msg alice yes, at noon")
        yield self.showing("bob", "*bob* yes, at noon")
        assert "noon" not in self.text("#lobby")

    @defer.inlineCallbacks
    def test_closing_a_private_tab_only_hides_it(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("/msg alice first")
        yield self.showing("bob", "*bob* first")
        self.selectTab("bob")
        self.window.closeButton.invoke()
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby"], "hidden")
        assert self.model.selected is self.conversation("#lobby")
        self.bob.say("/msg alice second")
        yield wait_until(lambda: len(self.window.tabLabels()) == 2, "shown again")
        # Its scrollback was kept.
        assert "*bob* first" in self.text("bob")
        yield self.showing("bob", "*bob* second")


class HistoryTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_history_replay_muted_with_its_separator(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        watcher = yield self.otherIn("watcher", "#dev")
        carol = yield self.otherIn("carol", "#dev")
        for i in range(3):
            carol.say(f"earlier {i}")
        yield self.heard(watcher, "earlier 2")
        yield self.join("#dev")
        yield self.showing("#dev", "── live ──")
        carol.say("now live")
        yield self.showing("#dev", "<carol> now live")
        text = self.text("#dev")
        rows = text.splitlines()
        separator = next(i for i, row in enumerate(rows) if "── live ──" in row)
        for i in range(3):
            row = next(r for r in rows if f"<carol> earlier {i}" in r)
            assert rows.index(row) < separator
        assert next(i for i, r in enumerate(rows) if "now live" in r) > separator
        view = self.view("#dev")
        old = view.search("earlier 0", "1.0")
        assert "history" in view.tag_names(old)
        # The time before it is the line's own, muted too.
        assert "history" in view.tag_names(f"{old} linestart")
        assert "separator" in view.tag_names(view.search("── live ──", "1.0"))
        live = view.search("now live", "1.0")
        assert "history" not in view.tag_names(live)
        # Muted: the history colour is not the colour of live lines.
        assert view.tag_cget("history", "foreground") != view.cget("foreground")

    @defer.inlineCallbacks
    def test_scrolling_up_pages_older_history_above_without_moving_the_view(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        watcher = yield self.otherIn("watcher", "#dev")
        carol = yield self.otherIn("carol", "#dev")
        for i in range(100):
            carol.say(f"old {i}")
        yield self.heard(watcher, "old 99")
        yield self.join("#dev")
        yield self.showing("#dev", "── live ──")
        # The join replays the last 20; live lines fill the view below.
        for i in range(60):
            carol.say(f"new {i}")
        yield self.showing("#dev", "<carol> new 59")
        assert "<carol> old 79" not in self.text("#dev")
        assert "<carol> old 80" in self.text("#dev")
        view = self.view("#dev")
        yield wait_until(lambda: view.yview()[1] == 1.0, "following the end")

        def top() -> str:
            return view.get("@0,0 linestart", "@0,0 lineend")

        def pageAbove(newest: int) -> defer.Deferred[None]:
            view.yview_moveto(0.0)
            self.root.update()
            reading = top()
            line = f"<carol> old {newest}"
            done = wait_until(lambda: line in self.text("#dev"), line)

            def stayed(_: object) -> None:
                self.root.update()
                assert top() == reading
                assert view.yview()[0] > 0.0

            return done.addCallback(stayed)

        yield pageAbove(79)  # old 30 to old 79
        assert "<carol> old 29" not in self.text("#dev")
        yield pageAbove(29)  # old 0 to old 29
        view.yview_moveto(0.0)
        yield self.showing("#dev", "── start of history ──")
        text = self.text("#dev")
        for i in range(100):
            assert text.count(f"<carol> old {i}\n") == 1, i
        rows = [r for r in text.splitlines() if "<carol> old" in r]
        assert [r.split("old ")[1] for r in rows] == [str(i) for i in range(100)]
        assert "history" in view.tag_names(view.search("old 5", "1.0"))


class ReconnectTests(RoomsTestCase):
    #: Connect again only when the test presses "Reconnect now".
    retryDelay = 300.0

    def setUp(self) -> defer.Deferred[None]:  # type: ignore[override]
        self.history = MemoryHistory()
        return super().setUp()

    @defer.inlineCallbacks
    def test_reconnect_rejoins_every_room_in_order_without_duplicates(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev", "#ops")
        carol = yield self.otherIn("carol", "#ops", "#dev")
        self.selectTab("#dev")
        for i in range(3):
            carol.say(f"before {i}")
        yield self.showing("#dev", "<carol> before 2")
        self.say("mine before")
        yield self.heard(carol, "mine before")
        yield self.stopServer()
        lost = f"Connection to 127.0.0.1:{self.port} lost"
        yield wait_until(lambda: lost in self.statusText(), "lost")
        yield self.startServer()
        watcher = yield self.otherIn("watcher", "#dev")
        carol = yield self.otherIn("carol", "#dev")
        for i in range(3):
            carol.say(f"while away {i}")
        yield self.heard(watcher, "while away 2")
        self.window.reconnectButton.invoke()
        yield self.showing("#dev", "<carol> while away 2")
        user = self.server.realm.get("alice")
        yield wait_until(
            lambda: user is not None and len(user.rooms) == 3, "three rooms again"
        )
        assert user is not None
        assert [r.name for r in user.rooms] == ["#lobby", "#dev", "#ops"]
        assert self.window.tabLabels()[:3] == ["#lobby", "#dev", "#ops"]
        yield wait_until(
            lambda: any(
                e == lines.InRoom("#dev", lines.Joined("alice")) for e in watcher.events
            ),
            "alice back in #dev",
        )
        text = self.text("#dev")
        for said in ["before 0", "before 1", "before 2", "while away 0"]:
            assert text.count(f"<carol> {said}\n") == 1, said
        assert text.count("<alice> mine before\n") == 1
        rows = [r.split("> ", 1)[1] for r in text.splitlines() if "> " in r]
        ours = [r for r in rows if r.startswith(("before", "mine", "while"))]
        assert ours == [
            "before 0",
            "before 1",
            "before 2",
            "mine before",
            "while away 0",
            "while away 1",
            "while away 2",
        ]

    @defer.inlineCallbacks
    def test_reconnect_adds_no_second_live_separator_nor_welcome(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("before")
        yield self.showing("#lobby", "<bob> before")
        separators = self.text("#lobby").count("── live ──")
        yield self.stopServer()
        yield self.startServer()
        yield wait_until(self.window.reconnectButton.winfo_ismapped, "the button")
        self.window.reconnectButton.invoke()
        yield self.showing("#lobby", "Reconnected.")
        text = self.text("#lobby")
        # Nothing was said while away: the separator shown still holds.
        assert text.count("── live ──") == separators
        assert text.count("=== Welcome to chat, alice!") == 1
        assert text.count("=== Users online") == 1

    @defer.inlineCallbacks
    def test_the_layout_does_not_jump_when_reconnect_now_shows(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.root.update()
        before = (window.chat.winfo_height(), window.statusBar.winfo_height())
        yield self.stopServer()
        yield wait_until(window.reconnectButton.winfo_ismapped, "the button")
        self.root.update()
        after = (window.chat.winfo_height(), window.statusBar.winfo_height())
        assert after == before


class RoomsPanelTests(RoomsTestCase):
    def rows(self) -> list[tuple[str, str]]:
        tree = self.window.roomsTree
        return [
            (str(tree.item(item, "text")), str(tree.item(item, "values")[0]))
            for item in tree.get_children()
        ]

    @defer.inlineCallbacks
    def test_counts_follow_joins_and_parts(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield wait_until(lambda: self.rows() == [("#lobby", "2")], "the lobby")
        carol = yield self.otherUser("carol")
        yield wait_until(lambda: self.rows() == [("#lobby", "3")], "carol came")
        yield self.join("#dev")
        yield wait_until(
            lambda: self.rows() == [("#dev", "1"), ("#lobby", "3")], "#dev listed"
        )
        carol.say("/join #dev")
        yield wait_until(
            lambda: self.rows() == [("#dev", "2"), ("#lobby", "3")], "carol in #dev"
        )
        carol.say("/part #dev")
        yield wait_until(
            lambda: self.rows() == [("#dev", "1"), ("#lobby", "3")], "carol left #dev"
        )
        self.say("/part #dev")
        yield wait_until(lambda: self.rows() == [("#lobby", "3")], "#dev gone")
        self.bob.say("/quit")
        yield wait_until(lambda: self.rows() == [("#lobby", "2")], "bob quit")


class ClosingTests(RoomsTestCase):
    @defer.inlineCallbacks
    def test_closing_a_room_tab_parts_the_room(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev")
        self.bob.say("/join #dev")
        yield self.showing("#dev", "--> bob has joined")
        assert self.model.selected is self.conversation("#dev")
        self.window.closeButton.invoke()
        yield wait_until(
            lambda: any(
                isinstance(e, lines.InRoom)
                and e.room == "#dev"
                and isinstance(e.line, lines.Left)
                and e.line.name == "alice"
                for e in self.bob.events
            ),
            "alice parts #dev",
        )
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby"], "the tab gone")
        assert self.model.selected is self.conversation("#lobby")
        user = self.server.realm.get("alice")
        assert user is not None
        assert [r.name for r in user.rooms] == ["#lobby"]

    @defer.inlineCallbacks
    def test_title_shows_the_total_unread_count_while_not_focused(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.join("#dev")
        self.selectTab("#lobby")
        self.unfocus()
        self.bob.say("in the lobby")
        carol = yield self.otherIn("carol", "#dev")
        carol.say("in dev")
        carol.say("in dev again")
        yield wait_until(lambda: self.root.title().startswith("(3) "), "3 unread")
        assert self.window.tabLabels() == ["#lobby (1)", "#dev (2)"]
        self.window.entry.event_generate("<FocusIn>")
        yield wait_until(lambda: self.root.title().startswith("alice on "), "focused")
        # Focusing reads the selected tab only.
        assert self.window.tabLabels() == ["#lobby", "#dev (2)"]
