"""
The Tk client, for real: its window on the Xvfb display, in the same
reactor as a real chat server on 127.0.0.1 and raw TCP clients playing the
other users.
"""

from __future__ import annotations

from collections.abc import Generator
from tkinter import font as tkfont
from typing import Any

import pytest
from twisted.internet import defer

from chatclient.theme import LINE_COLOURS, NAME_COLOURS, PALETTES
from chatserver.config import ChatConfig
from chatwire import lines
from tests.gui.client_support import ClientTestCase, wait_until

pytestmark = pytest.mark.gui


class ConnectFormTests(ClientTestCase):
    @defer.inlineCallbacks
    def test_connect_form_and_login(self) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        assert window.form.winfo_ismapped()
        assert not window.chat.winfo_ismapped()
        assert window.hostVar.get() == "127.0.0.1"
        bob = yield self.otherUser("bob")
        # An empty name is refused before anything is sent.
        self.type(window.formEntries["name"], "")
        assert window.formErrors["name"].cget("text") == "enter a name"
        yield self.login("alice")
        yield bob.received(lines.Joined("alice"))
        yield wait_until(lambda: self.userList() == ["alice", "bob"], "the users")
        assert window.usersLabel.cget("text") == "Members (2)"
        assert "alice on 127.0.0.1:" in self.root.title()
        assert self.statusText() == f"Logged in to 127.0.0.1:{self.port} as alice."
        yield wait_until(
            lambda: "=== Welcome to chat, alice!" in self.chatText(),
            "=== Welcome to chat, alice!",
        )

    @defer.inlineCallbacks
    def test_name_taken_then_another(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.otherUser("bob")
        nameEntry = self.window.formEntries["name"]
        self.type(nameEntry, "Bob")
        error = self.window.formErrors["name"]
        yield wait_until(lambda: error.cget("text"), "the name error")
        assert error.cget("text") == "the name Bob is taken, choose another"
        protocol = self.session.connection.protocol
        self.type(nameEntry, "bad name")
        yield wait_until(lambda: "invalid name" in error.cget("text"), "invalid")
        assert "a space" in error.cget("text")
        self.type(nameEntry, "robert")
        yield self.loggedIn()
        # The same connection all along.
        assert self.session.connection.protocol is protocol
        assert len(self.server.admission.connections) == 2

    @defer.inlineCallbacks
    def test_refused_shows_why_and_retries(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopServer()
        self.type(self.window.formEntries["name"], "alice")
        refused = f"cannot reach 127.0.0.1:{self.port}, is the server running?"
        yield wait_until(lambda: refused in self.statusText(), "refused")
        yield wait_until(self.window.reconnectButton.winfo_ismapped, "the button")
        attempts = self.session.connection
        yield self.startServer()
        yield self.loggedIn()
        assert attempts.protocol is not None

    @defer.inlineCallbacks
    def test_server_full_says_why(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopServer()
        yield self.startServer(ChatConfig(maxClients=1, rate=0, loginTimeout=0))
        yield self.otherUser("bob")
        self.type(self.window.formEntries["name"], "alice")
        full = "the server is full, please try again later"
        yield wait_until(lambda: full in self.statusText(), "the server is full")
        yield wait_until(lambda: "Retrying in" in self.statusText(), "retrying")
        assert f"({full})" in self.statusText()


class ChatTests(ClientTestCase):
    name = "alice"

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield super().setUp()
        self.bob = yield self.otherUser("bob")
        yield self.loggedIn()  # --name given: it connects at once
        yield wait_until(lambda: self.userList() == ["alice", "bob"], "two users")

    @defer.inlineCallbacks
    def test_messages_each_way(self) -> Generator[defer.Deferred[Any], Any, None]:
        bob, entry = self.bob, self.window.entry
        self.type(entry, "hello bob")
        yield bob.received(lines.Message("alice", "hello bob"))
        assert entry.get() == ""
        # Your own line shows at once: the server sends no copy.
        assert "<alice> hello bob" in self.chatText()
        bob.say("hi Alice, welcome")
        yield wait_until(lambda: "<bob> hi Alice, welcome" in self.chatText(), "bob")
        text = self.window.text
        start = text.search("<bob> hi Alice", "1.0")
        assert "mention" in text.tag_names(start)
        assert "message" in text.tag_names(start)
        # The name is coloured; the line starts with the time.
        nameTags = [t for t in text.tag_names(f"{start}+1c") if t.startswith("name")]
        assert len(nameTags) == 1
        lineStart = text.index(f"{start} linestart")
        assert "time" in text.tag_names(lineStart)
        assert text.get(lineStart, f"{lineStart}+5c")[2] == ":"

    @defer.inlineCallbacks
    def test_commands(self) -> Generator[defer.Deferred[Any], Any, None]:
        bob, entry = self.bob, self.window.entry
        self.type(entry, "/me waves")
        yield bob.received(lines.Action("alice", "waves"))
        self.type(entry, "/msg bob psst")
        yield bob.received(lines.PrivateIn("alice", "psst"))
        yield wait_until(
            lambda: "-> *bob* psst" in self.window.conversationText("bob"), "PrivateOut"
        )
        bob.say("/msg alice back")
        yield wait_until(
            lambda: "*bob* back" in self.window.conversationText("bob"), "PrivateIn"
        )
        # A private conversation has its own tab, both ways.
        assert self.window.tabLabels()[-1].startswith(("bob", "@ bob"))
        self.type(entry, "/msg nobody x")
        failed = "!!! Not sent: nobody is not online. Your line was: x"
        yield wait_until(lambda: failed in self.chatText(), "err")
        self.type(entry, "/help")
        yield wait_until(lambda: "/msg NAME TEXT" in self.chatText(), "help")
        text = self.window.text
        kinds = {"* alice waves": "action", "!!! Not sent": "error"}
        for found, kind in kinds.items():
            assert kind in text.tag_names(text.search(found, "1.0")), found
        private = self.window.views[id(self.model.conversations["bob"])][2]
        for found in ("-> *bob* psst", "*bob* back"):
            assert "private" in private.tag_names(private.search(found, "1.0"))

    @defer.inlineCallbacks
    def test_user_list_follows(self) -> Generator[defer.Deferred[Any], Any, None]:
        carol = yield self.otherUser("carol")
        yield wait_until(lambda: self.userList() == ["alice", "bob", "carol"], "join")
        assert self.window.usersLabel.cget("text") == "Members (3)"
        carol.say("/nick Anna")
        yield wait_until(lambda: self.userList() == ["alice", "Anna", "bob"], "nick")
        self.bob.say("/quit")
        yield wait_until(lambda: self.userList() == ["alice", "Anna"], "leave")
        yield wait_until(
            lambda: "--> carol has joined" in self.chatText(), "--> carol has joined"
        )
        yield wait_until(
            lambda: "--- carol is now known as Anna" in self.chatText(),
            "--- carol is now known as Anna",
        )
        yield wait_until(
            lambda: "<-- bob has left (Quit)" in self.chatText(),
            "<-- bob has left (Quit)",
        )
        # Our own /nick is followed too: the title and the next login.
        self.type(self.window.entry, "/nick alicia")
        yield wait_until(lambda: "alicia" in self.userList(), "own nick")
        assert self.root.title().startswith("alicia on")

    @defer.inlineCallbacks
    def test_history_and_completion(self) -> Generator[defer.Deferred[Any], Any, None]:
        entry = self.window.entry
        for text in ("one", "two"):
            self.type(entry, text)
        yield self.bob.received(lines.Message("alice", "two"))
        entry.insert(0, "draft")
        self.press(entry, "<Up>")
        assert entry.get() == "two"
        self.press(entry, "<Up>")
        assert entry.get() == "one"
        self.press(entry, "<Down>")
        self.press(entry, "<Down>")
        assert entry.get() == "draft"
        entry.delete(0, "end")
        entry.insert(0, "b")
        self.press(entry, "<Tab>")
        assert entry.get() == "bob: "
        assert self.root.focus_get() is entry  # Tab did not move the focus

    @defer.inlineCallbacks
    def test_unread_count_in_title(self) -> Generator[defer.Deferred[Any], Any, None]:
        entry = self.window.entry
        entry.focus_force()
        self.root.update()  # let the focus settle
        entry.event_generate("<FocusIn>")
        entry.event_generate("<FocusOut>")
        assert not self.model.focused
        assert self.model.unread == 0
        self.bob.say("one")
        self.bob.say("two")
        yield wait_until(lambda: self.root.title().startswith("(2) "), "unread")
        entry.event_generate("<FocusIn>")
        yield wait_until(lambda: self.root.title().startswith("alice"), "read")

    @defer.inlineCallbacks
    def test_reading_older_lines_is_not_interrupted(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        text = self.window.text
        for i in range(100):
            self.bob.say(f"line {i}")
        yield wait_until(lambda: "line 99" in self.chatText(), "100 lines")
        yield wait_until(lambda: text.yview()[1] == 1.0, "following")
        text.yview_moveto(0.0)
        self.root.update()
        top = text.index("@0,0")
        self.bob.say("line 100")
        yield wait_until(lambda: "line 100" in self.chatText(), "line 100")
        self.root.update()
        assert text.index("@0,0") == top
        text.yview_moveto(1.0)
        self.bob.say("line 101")
        yield wait_until(lambda: "line 101" in self.chatText(), "line 101")
        self.root.update()
        assert text.yview()[1] == 1.0

    @defer.inlineCallbacks
    def test_close_says_goodbye(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.client.close()
        yield self.bob.received(lines.Left("alice", "Quit"))
        assert self.session.connection.protocol is None


class ReconnectTests(ClientTestCase):
    name = "alice"

    @defer.inlineCallbacks
    def test_server_goes_away_and_comes_back(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.loggedIn()
        yield self.stopServer()
        lost = f"Connection to 127.0.0.1:{self.port} lost"
        yield wait_until(lambda: lost in self.statusText(), "lost")
        yield wait_until(lambda: lost in self.chatText(), lost)
        yield wait_until(lambda: "Retrying in" in self.statusText(), "countdown")
        button = self.window.reconnectButton
        yield wait_until(button.winfo_ismapped, "the Reconnect now button")
        assert self.userList() == []
        refused = f"cannot reach 127.0.0.1:{self.port}, is the server running?"
        yield wait_until(lambda: refused in self.statusText(), "refused")
        yield self.startServer()
        bob = yield self.otherUser("bob")
        button.invoke()
        yield bob.received(lines.Joined("alice"))  # the same name again
        yield self.loggedIn()
        yield wait_until(lambda: self.userList() == ["alice", "bob"], "users again")
        yield wait_until(lambda: not button.winfo_ismapped(), "the button hidden")
        assert self.statusText() == f"Logged in to 127.0.0.1:{self.port} as alice."


class ScaledTests(ClientTestCase):
    withWindow = True
    scale = 2.0

    def test_scale_doubles_fonts_padding_and_size(self) -> None:
        root, window = self.root, self.window
        assert abs(float(root.tk.call("tk", "scaling")) - 96 * 2 / 72) < 0.01
        root.update()
        assert (root.winfo_width(), root.winfo_height()) == (1800, 1120)
        # What is remembered is the size at 96 DPI.
        assert window.unscaledSize() == "900x560"
        # Fonts are in points: at 96 DPI the same font is half as tall.
        scaled = window.font.metrics("linespace")
        family = window.font.actual("family")
        root.tk.call("tk", "scaling", 96 / 72)
        try:
            plain = tkfont.Font(root, family=family, size=10).metrics("linespace")
        finally:
            root.tk.call("tk", "scaling", 96 * 2 / 72)
        assert scaled >= 1.8 * plain
        assert window.px(10) == 20
        assert [str(p) for p in window.form.cget("padding")] == ["48"]


class DarkThemeTests(ClientTestCase):
    name = "alice"
    theme = "dark"

    @defer.inlineCallbacks
    def test_dark_lines_use_the_dark_colours(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.loggedIn()
        text = self.window.text
        assert text.cget("background") == PALETTES["dark"]["panel"]
        for kind in ("own", "join", "error", "separator", "info"):
            colour = text.tag_cget(kind, "foreground")
            assert colour == LINE_COLOURS["dark"][kind], kind
        assert text.tag_cget("name0", "foreground") == NAME_COLOURS["dark"][0]
