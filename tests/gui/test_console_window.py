"""
The server console window, for real: a Tk window on the Xvfb display, in
the same reactor as a real chat server listening on 127.0.0.1, with real TCP
clients.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, cast

import pytest
from twisted.internet import defer, reactor, task, threads
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import connectionDone
from twisted.logger import ILogObserver, Logger, globalLogPublisher
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from chatclient.theme import STATUS_COLOURS_BY_THEME
from chatserver import tap
from chatserver.config import ChatConfig
from chatserver.console import model as console_model
from chatserver.console.service import ConsoleService
from chatserver.doors.line.factory import door as line_door
from chatserver.server import ChatServer
from chatserver.service import ChatService

pytestmark = pytest.mark.gui

TIMEOUT = 10.0


def wait_until(condition: Callable[[], object], what: str) -> defer.Deferred[None]:
    """
    Let the reactor run until C{condition()} is true.
    """

    @defer.inlineCallbacks
    def poll() -> Generator[defer.Deferred[None], None, None]:
        waited = 0.0
        while not condition():
            if waited > TIMEOUT:
                raise AssertionError(f"timed out waiting for {what}")
            yield task.deferLater(reactor, 0.01, lambda: None)
            waited += 0.01

    return poll()


class LineClient(LineReceiver):
    """
    A chat client that remembers every line it receives.
    """

    delimiter = b"\r\n"

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.closed: defer.Deferred[None] = defer.Deferred()

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line.decode("utf-8"))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed.callback(None)

    @property
    def port(self) -> int:
        """
        The client's own port: the server sees it as the peer's.
        """
        port: int = cast(Any, self.transport).getHost().port
        return port

    def say(self, text: str) -> None:
        self.sendLine(text.encode("utf-8"))

    def received(self, line: str) -> defer.Deferred[None]:
        return wait_until(lambda: line in self.lines, f"{line!r} in {self.lines}")


class ConsoleTestCase(TestCase):
    """
    A console on a real chat server listening on 127.0.0.1, and what the
    tests of its window share.
    """

    timeout = 60

    def setUp(self) -> None:
        self.startConsole(ChatConfig(rate=0))

    def startConsole(
        self,
        config: ChatConfig,
        maxLines: int = 100,
        privileged: bool = False,
        theme: str = "light",
        doors: list[tuple[Any, str]] | None = None,
    ) -> None:
        self.chat = ChatService(
            ChatServer(config),
            [(line_door, "tcp:0:interface=127.0.0.1"), *(doors or [])],
        )
        self.stopCalls: list[defer.Deferred[None]] = []
        self.console = ConsoleService(
            self.chat, stop=self.stopFromWindow, maxLines=maxLines, theme=theme
        )
        if privileged:  # as twistd does: it listens before startService
            self.console.privilegedStartService()
        self.console.startService()
        self.clients: list[LineClient] = []
        self.addCleanup(self.stopAll)

    def stopFromWindow(self) -> None:
        # What reactor.stop does under twistd, without stopping the reactor
        # the tests run in.
        self.stopCalls.append(self.console.stopService())

    @defer.inlineCallbacks
    def stopAll(self) -> Generator[defer.Deferred[Any], None, None]:
        if self.console.running:
            yield self.console.stopService()
        for client in self.clients:
            yield client.closed

    @property
    def window(self) -> Any:
        assert self.console.window is not None
        return self.console.window

    @property
    def port(self) -> int:
        return int(self.chat.addresses[0].rsplit(":", 1)[1])

    @defer.inlineCallbacks
    def connect(self) -> Generator[defer.Deferred[Any], Any, LineClient]:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        client: LineClient = yield connectProtocol(endpoint, LineClient())
        self.clients.append(client)
        yield client.received(">>> name: What's your name?")
        return client

    @defer.inlineCallbacks
    def login(self, name: str) -> Generator[defer.Deferred[Any], Any, LineClient]:
        client: LineClient = yield self.connect()
        client.say(name)
        yield client.received(f"=== Welcome to chat, {name}!")
        return client

    def users(self) -> list[tuple[str, ...]]:
        tree = self.window.userTree
        return [tuple(tree.item(key, "values")) for key in tree.get_children()]

    def userNames(self) -> list[str]:
        return [row[0] for row in self.users()]

    def rooms(self) -> list[tuple[str, ...]]:
        tree = self.window.roomTree
        return [
            tuple(str(value) for value in tree.item(key, "values"))
            for key in tree.get_children()
        ]

    def count(self) -> str:
        return str(self.window.countLabel.cget("text"))

    def logText(self) -> str:
        return "\n".join(self.window.logLines())


class ConsoleWindowTests(ConsoleTestCase):
    @defer.inlineCallbacks
    def test_status(self) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.assertEqual(window.root.title(), "Chat server")
        self.assertEqual(window.statusWord.cget("text"), "Running")
        self.assertEqual(
            str(window.statusWord.cget("foreground")),
            STATUS_COLOURS_BY_THEME["light"][console_model.RUNNING_LEVEL],
        )
        self.assertEqual(
            str(window.addressLabel.cget("text")),
            f"listening on 127.0.0.1:{self.port}",
        )
        self.assertEqual(self.count(), "0 users online, 0 rooms")
        self.assertEqual(self.rooms(), [])
        listening = f"Chat server listening on 127.0.0.1:{self.port}"
        yield wait_until(lambda: listening in self.logText(), "the listening line")
        # tksupport runs Tk's updates: the window appears on the display.
        yield wait_until(window.root.winfo_viewable, "the window to show")

    @defer.inlineCallbacks
    def test_started_by_twistd(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopAll()
        self.startConsole(ChatConfig(rate=0), privileged=True)
        self.assertEqual(str(self.window.statusWord.cget("text")), "Running")
        self.assertIn(f"Chat server listening on 127.0.0.1:{self.port}", self.logText())
        yield self.login("alice")
        yield wait_until(lambda: self.userNames() == ["alice"], "alice listed")

    @defer.inlineCallbacks
    def test_users_follow_joins_and_leaves(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        yield wait_until(lambda: self.userNames() == ["alice"], "alice listed")
        _name, door, address, since, _idle, rooms = self.users()[0]
        self.assertEqual(door, "line")
        self.assertEqual(address, f"127.0.0.1:{alice.port}")
        self.assertRegex(since, r"^\d\d:\d\d:\d\d$")
        self.assertEqual(rooms, "#lobby")
        self.assertEqual(self.count(), "1 user online, 1 room")

        bob = yield self.login("Bob")
        yield self.connect()  # still choosing a name
        yield wait_until(
            lambda: self.count() == "2 users online, 1 connecting, 1 room",
            "the count",
        )
        self.assertEqual(self.userNames(), ["alice", "Bob"])

        # The selection follows the user across a rename.
        tree = self.window.userTree
        tree.selection_set(tree.get_children()[1])
        bob.say("/nick zed")
        yield alice.received("--- Bob is now known as zed")
        yield wait_until(lambda: self.userNames() == ["alice", "zed"], "the rename")
        self.assertEqual(tree.item(tree.selection()[0], "values")[0], "zed")

        alice.say("/quit")
        yield alice.closed
        yield bob.received("<-- alice has left (Quit)")
        yield wait_until(lambda: self.userNames() == ["zed"], "alice gone")
        self.assertIn("alice left (Quit)", self.logText())

    @defer.inlineCallbacks
    def test_rooms(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield wait_until(
            lambda: self.rooms() == [("#lobby", "2", "")], "the lobby listed"
        )
        self.assertEqual(self.count(), "2 users online, 1 room")

        # Joins show in the Rooms column (in join order) and the room list.
        alice.say("/join #dev")
        alice.say("/topic release on Friday")
        bob.say("/join #Art")
        bob.say("/join #dev")
        yield wait_until(
            lambda: (
                self.rooms()
                == [
                    ("#Art", "1", ""),
                    ("#dev", "2", "release on Friday"),
                    ("#lobby", "2", ""),
                ]
            ),
            "the rooms",
        )
        yield wait_until(
            lambda: (
                [row[5] for row in self.users()]
                == ["#lobby, #dev", "#lobby, #Art, #dev"]
            ),
            "the rooms column",
        )
        self.assertEqual(self.count(), "2 users online, 3 rooms")
        self.assertIn("alice joined #dev", self.logText())
        text = self.window.logText
        self.assertIn("topic", text.tag_names(text.search("set the topic", "1.0")))

        # A topic change alone redraws the room list.
        alice.say("/topic shipped")
        yield wait_until(
            lambda: ("#dev", "2", "shipped") in self.rooms(), "the new topic"
        )

        # A part empties #Art, which goes away.
        bob.say("/part #Art")
        yield wait_until(
            lambda: [room[0] for room in self.rooms()] == ["#dev", "#lobby"],
            "#Art gone",
        )
        yield wait_until(
            lambda: (
                [row[5] for row in self.users()] == ["#lobby, #dev", "#lobby, #dev"]
            ),
            "bob's rooms",
        )
        self.assertIn("bob left #Art (Part)", self.logText())

        # A user who leaves the chat leaves the member counts.
        alice.say("/quit")
        yield alice.closed
        yield wait_until(
            lambda: self.rooms() == [("#dev", "1", "shipped"), ("#lobby", "1", "")],
            "alice's rooms",
        )
        yield wait_until(lambda: self.count() == "1 user online, 2 rooms", "the count")

    @defer.inlineCallbacks
    def test_log_shows_login(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        port = alice.port
        expected = f"alice logged in from 127.0.0.1:{port}"
        yield wait_until(lambda: expected in self.logText(), "the login line")
        text = self.window.logText
        start = text.search(expected, "1.0")
        self.assertIn("login", text.tag_names(start))
        # The realm logs the login, then the user joining the default room.
        yield wait_until(
            lambda: self.window.logLines()[-1].endswith("alice joined #lobby"),
            "the join line",
        )
        self.assertRegex(self.window.logLines()[-2], rf"^\d\d:\d\d:\d\d  {expected}$")
        self.assertIn("join", text.tag_names(text.search("alice joined", "1.0")))
        # Message bodies are not logged unless --log-messages is on.
        alice.say("a secret")
        alice.say("/who")
        yield alice.received("=== Users online (1): alice")
        self.assertNotIn("a secret", self.logText())

    @defer.inlineCallbacks
    def test_log_shows_messages_when_logged(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopAll()
        self.startConsole(ChatConfig(rate=0, logMessages=True))
        alice = yield self.login("alice")
        alice.say("hello there")
        yield wait_until(lambda: "hello there" in self.logText(), "the message")
        text = self.window.logText
        self.assertIn("message", text.tag_names(text.search("hello there", "1.0")))

    @defer.inlineCallbacks
    def test_events_from_other_threads(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        # Tk may only be touched from the reactor thread: an event logged in
        # another thread is drawn from the reactor thread.
        def logInThread() -> None:
            Logger(namespace="chatserver").info("from a thread", chat_event="rejected")

        yield threads.deferToThread(logInThread)
        yield wait_until(lambda: "from a thread" in self.logText(), "the line")

    @defer.inlineCallbacks
    def test_log_bounded(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopAll()
        self.startConsole(ChatConfig(rate=0), maxLines=3)
        for name in ("a1", "a2", "a3"):
            yield self.login(name)
        yield wait_until(
            lambda: self.window.logLines()[-1].endswith("a3 joined #lobby"),
            "the last login",
        )
        lines = self.window.logLines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(len(self.console.log.lines), 3)
        self.assertIn("Connection from", lines[0])
        self.assertTrue(
            lines[1].endswith(f"a3 logged in from 127.0.0.1:{self.clients[-1].port}")
        )

    @defer.inlineCallbacks
    def test_kick(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        bob = yield self.login("bob")
        yield wait_until(lambda: self.userNames() == ["alice", "bob"], "both")
        window = self.window
        window.userTree.selection_set(window.userTree.get_children()[0])
        window.reasonEntry.insert(0, "flooding")
        window.kickButton.invoke()
        yield alice.closed
        self.assertIn("-!- You were disconnected by the server: flooding", alice.lines)
        yield bob.received("<-- alice has left (Kicked: flooding)")
        yield wait_until(lambda: self.userNames() == ["bob"], "alice gone")
        self.assertIn("alice left (Kicked: flooding)", self.logText())
        self.assertEqual(window.reasonEntry.get(), "")
        self.assertEqual(str(window.hintLabel.cget("text")), "")

    @defer.inlineCallbacks
    def test_kick_with_enter(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        yield wait_until(lambda: self.userNames() == ["alice"], "alice listed")
        window = self.window
        window.userTree.selection_set(window.userTree.get_children()[0])
        yield wait_until(window.root.winfo_viewable, "the window to show")
        window.reasonEntry.focus_force()
        window.root.update()
        window.reasonEntry.event_generate("<Return>")
        yield wait_until(lambda: alice.closed.called, "alice to be disconnected")
        self.assertIn("-!- You were disconnected by the server: kicked", alice.lines)
        yield wait_until(lambda: "alice left (Kicked)" in self.logText(), "the leave")

    @defer.inlineCallbacks
    def test_kick_needs_a_selection(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.login("alice")
        self.window.kickButton.invoke()
        self.assertEqual(
            str(self.window.hintLabel.cget("text")), "Select a user to kick."
        )

    @defer.inlineCallbacks
    def test_kick_gone_user(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        yield wait_until(lambda: self.userNames() == ["alice"], "alice listed")
        tree = self.window.userTree
        tree.selection_set(tree.get_children()[0])

        # The operator presses Kick as alice leaves, before the list is
        # redrawn.
        def kickAsAliceLeaves(event: dict[str, Any]) -> None:
            if event.get("chat_event") == "leave":
                self.window.kickButton.invoke()

        observer = cast(ILogObserver, kickAsAliceLeaves)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        alice.say("/quit")
        yield alice.closed
        yield wait_until(lambda: self.userNames() == [], "alice gone")
        self.assertEqual(
            str(self.window.hintLabel.cget("text")),
            "alice is not connected any more.",
        )
        self.window.kickButton.invoke()
        self.assertEqual(
            str(self.window.hintLabel.cget("text")), "Select a user to kick."
        )

    @defer.inlineCallbacks
    def test_stop_button(self) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        window = self.window
        window.stopButton.invoke()
        window.confirmButton.invoke()
        self.assertEqual(len(self.stopCalls), 1)
        self.assertEqual(
            window.statusWord.cget("text"), "Stopping\N{HORIZONTAL ELLIPSIS}"
        )
        self.assertEqual(
            str(window.statusWord.cget("foreground")),
            STATUS_COLOURS_BY_THEME["light"][console_model.STOPPING_LEVEL],
        )
        self.assertTrue(window.stopButton.instate(["disabled"]))
        self.assertTrue(window.kickButton.instate(["disabled"]))
        window.stopButton.invoke()
        self.assertEqual(len(self.stopCalls), 1)
        yield self.stopCalls[0]
        yield alice.closed
        self.assertEqual(alice.lines[-1], "-!- The server is shutting down. Goodbye!")
        self.assertIsNone(self.console.window)
        self.assertFalse(self.chat.running)

    @defer.inlineCallbacks
    def test_stop_stops_the_reactor(self) -> Generator[defer.Deferred[Any], Any, None]:
        """
        The console C{twistd chat --console} makes stops the reactor when the
        operator presses Stop: twistd's own shutdown follows.
        """
        yield self.stopAll()
        stops: list[None] = []
        self.patch(reactor, "stop", lambda: stops.append(None))
        options = tap.Options()
        options.parseOptions(
            ["--console", "--rate", "0", "--port", "tcp:0:interface=127.0.0.1"]
        )
        console = tap.makeService(options)
        assert isinstance(console, ConsoleService)
        console.startService()
        try:
            assert console.window is not None
            console.window.stopButton.invoke()
            self.assertEqual(stops, [])
            console.window.confirmButton.invoke()
            self.assertEqual(stops, [None])
            self.assertTrue(console.window.stopButton.instate(["disabled"]))
        finally:
            yield console.stopService()
        self.assertIsNone(console.window)

    @defer.inlineCallbacks
    def test_closing_the_window_stops(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        root = self.window.root
        close = root.protocol("WM_DELETE_WINDOW")
        root.tk.call(close)
        root.tk.call(close)
        self.window.confirmButton.invoke()
        self.window.confirmButton.invoke()
        self.assertEqual(len(self.stopCalls), 1)
        yield self.stopCalls[0]
        yield alice.closed
        self.assertEqual(alice.lines[-1], "-!- The server is shutting down. Goodbye!")
