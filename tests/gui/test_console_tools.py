"""
The server console's tools, for real on the Xvfb display with a real chat
server on 127.0.0.1: stopping asks first (the Stop button and the close
box), each user's door and idle time, the log filtered, searched and
paused, the figures at a glance, Reload, the client's theme, and a browser
tab closed shown as an ordinary leave.
"""

from __future__ import annotations

import socket
from collections.abc import Generator
from typing import Any, cast

import pytest
from twisted.internet import defer, threads
from zope.interface import implementer

from chatclient.theme import LINE_COLOURS, PALETTES
from chatserver.config import ChatConfig
from chatserver.doors.web.factory import door as web_door
from chatserver.ops.reload import IReloadable
from tests.gui.test_console_window import ConsoleTestCase, wait_until

pytestmark = pytest.mark.gui


class StopQuestionTests(ConsoleTestCase):
    @defer.inlineCallbacks
    def test_stop_asks_first(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.login("alice")
        yield wait_until(lambda: self.userNames() == ["alice"], "alice listed")
        window = self.window
        window.stopButton.invoke()
        self.assertEqual(self.stopCalls, [])
        self.assertTrue(window.confirming())
        self.assertEqual(
            window.confirmLabel.cget("text"),
            "Stop the server? 1 user is online and will be disconnected.",
        )
        window.confirmButton.invoke()
        self.assertEqual(len(self.stopCalls), 1)

    def test_cancel_keeps_the_server_running(self) -> None:
        window = self.window
        window.stopButton.invoke()
        window.cancelButton.invoke()
        self.assertFalse(window.confirming())
        self.assertEqual(self.stopCalls, [])
        self.assertTrue(self.chat.running)

    def test_closing_the_window_asks_first(self) -> None:
        root = self.window.root
        root.tk.call(root.protocol("WM_DELETE_WINDOW"))
        self.assertTrue(self.window.confirming())
        self.assertEqual(self.stopCalls, [])
        self.assertEqual(
            self.window.confirmLabel.cget("text"), "Stop the server? Nobody is online."
        )


class UserColumnsTests(ConsoleTestCase):
    def column(self, name: str) -> list[str]:
        tree = self.window.userTree
        return [str(tree.set(item, name)) for item in tree.get_children()]

    @defer.inlineCallbacks
    def test_each_user_shows_its_door(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.login("alice")
        yield wait_until(lambda: self.column("door") == ["line"], "the door")

    @defer.inlineCallbacks
    def test_each_user_shows_its_idle_time(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.login("alice")
        yield wait_until(lambda: self.column("idle") == ["0s"], "idle 0s")
        user = self.chat.server.realm.get("alice")
        assert user is not None
        # As if alice had said nothing for 90 seconds: the list is drawn
        # again on its own.
        cast(Any, user.mind).session.lastActive -= 90
        user.since -= 90
        yield wait_until(lambda: self.column("idle") == ["1m"], "idle 1m")


class LogToolsTests(ConsoleTestCase):
    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        super().setUp()
        self.alice = yield self.login("alice")
        self.bob = yield self.login("bob")
        yield wait_until(lambda: "bob joined #lobby" in self.logText(), "bob")

    def test_the_log_filtered_by_words(self) -> None:
        window = self.window
        window.filterVar.set("BOB")
        lines = window.logLines()
        self.assertTrue(lines)
        self.assertTrue(all("bob" in line for line in lines), lines)
        window.filterVar.set("")
        self.assertIn("alice joined #lobby", self.logText())

    def test_the_log_filtered_by_kind(self) -> None:
        window = self.window
        window.groupVar.set("Rooms")
        window.groupBox.event_generate("<<ComboboxSelected>>")
        self.assertEqual(
            [line.split("  ", 1)[1] for line in window.logLines()],
            ["alice joined #lobby", "bob joined #lobby"],
        )

    @defer.inlineCallbacks
    def test_a_filtered_log_shows_new_lines_that_match(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.window.filterVar.set("#dev")
        self.alice.say("/join #dev")
        self.bob.say("/join #ops")
        yield wait_until(lambda: "alice joined #dev" in self.logText(), "#dev")
        yield wait_until(
            lambda: any("#ops" in line.text for line in self.console.log.lines), "#ops"
        )
        self.assertNotIn("#ops", self.logText())

    def test_find_marks_every_match_and_moves_to_the_next(self) -> None:
        window = self.window
        window.findEntry.insert(0, "JOINED")
        window.findNextButton.invoke()
        text = window.logText
        self.assertEqual(len(text.tag_ranges("found")), 4)  # two matches
        first = text.index("current.first")
        self.assertEqual(text.get("current.first", "current.last"), "joined")
        window.findNextButton.invoke()
        second = text.index("current.first")
        self.assertTrue(text.compare(second, ">", first))
        window.findPreviousButton.invoke()
        self.assertEqual(text.index("current.first"), first)
        self.assertEqual(str(window.findLabel.cget("text")), "1 of 2 found")

    @defer.inlineCallbacks
    def test_pause_holds_new_lines_then_shows_them(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        window.pauseBox.invoke()
        self.assertTrue(window.paused)
        self.alice.say("/join #dev")
        yield wait_until(
            lambda: str(window.logStateLabel.cget("text")) == "paused, 1 new line",
            "the count of waiting lines",
        )
        self.assertNotIn("alice joined #dev", self.logText())
        window.pauseBox.invoke()
        self.assertIn("alice joined #dev", self.logText())
        self.assertEqual(str(window.logStateLabel.cget("text")), "")


class FiguresTests(ConsoleTestCase):
    def figure(self, key: str) -> str:
        return str(self.window.figureLabels[key].cget("text"))

    @defer.inlineCallbacks
    def test_users_by_door_lines_and_deliveries_a_second(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        alice = yield self.login("alice")
        yield self.login("bob")
        yield wait_until(lambda: self.figure("users") == "2 (line 2)", "users")
        alice.say("hello")
        yield wait_until(lambda: self.figure("lines") != "0.0/s", "lines a second")
        self.assertNotEqual(self.figure("deliveries"), "0.0/s")
        yield wait_until(lambda: self.figure("lines") == "0.0/s", "quiet again")

    @defer.inlineCallbacks
    def test_drops(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.stopAll()
        self.startConsole(ChatConfig(rate=0, maxClients=1))
        yield self.login("alice")
        refused = socket.create_connection(("127.0.0.1", self.port))
        self.addCleanup(refused.close)
        yield wait_until(lambda: self.figure("drops").startswith("1 ("), "a drop")


class ReloadTests(ConsoleTestCase):
    @defer.inlineCallbacks
    def test_reload_asks_the_service_and_says_how_it_went(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        asked: list[None] = []

        def reload() -> list[str]:
            asked.append(None)
            return []

        self.patch(self.console, "reload", reload)
        self.window.reloadButton.invoke()
        self.assertEqual(asked, [None])
        self.assertTrue(
            str(self.window.reloadLabel.cget("text")).startswith("Reloaded at ")
        )
        self.patch(self.console, "reload", lambda: ["--motd-file: cannot read it"])
        self.window.reloadButton.invoke()
        self.assertEqual(
            str(self.window.reloadLabel.cget("text")), "--motd-file: cannot read it"
        )
        yield defer.succeed(None)

    def test_reload_reads_every_reloadable_part_of_the_server_again(self) -> None:
        @implementer(IReloadable)
        class Part:
            name = "a part"
            reloads = 0

            def reload(self) -> None:
                self.reloads += 1

        part = Part()
        self.console.server.reloader.register(part)
        self.window.reloadButton.invoke()
        self.assertEqual(part.reloads, 1)
        self.assertTrue(
            str(self.window.reloadLabel.cget("text")).startswith("Reloaded at ")
        )

    @defer.inlineCallbacks
    def test_reload_is_logged(self) -> Generator[defer.Deferred[Any], Any, None]:
        self.window.reloadButton.invoke()
        yield wait_until(
            lambda: "Reload asked for from the console" in self.logText(), "logged"
        )


class ThemeTests(ConsoleTestCase):
    def setUp(self) -> None:
        self.startConsole(ChatConfig(rate=0), theme="dark")

    def test_the_dark_theme_of_the_client(self) -> None:
        window = self.window
        dark = PALETTES["dark"]
        self.assertEqual(str(window.logText.cget("background")), dark["panel"])
        self.assertEqual(str(window.root.cget("background")), dark["bg"])
        self.assertEqual(
            str(window.logText.tag_cget("login", "foreground")),
            LINE_COLOURS["dark"]["join"],
        )


class BrowserTabTests(ConsoleTestCase):
    def setUp(self) -> None:
        self.startConsole(
            ChatConfig(rate=0), doors=[(web_door, "tcp:0:interface=127.0.0.1")]
        )

    @defer.inlineCallbacks
    def test_a_browser_tab_closed_is_an_ordinary_leave(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        port = int(self.chat.addresses[1].rsplit(":", 1)[1])

        def tabClosed() -> None:
            from tests.integration.wsclient import WebSocketClient

            page = WebSocketClient(port)
            page.login("carol")
            # A closed tab resets its connection (SO_LINGER 0: an RST).
            page.sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            page.sock.close()

        yield threads.deferToThread(tabClosed)
        yield wait_until(lambda: "carol left" in self.logText(), "carol's leave")
        text = self.window.logText
        where = text.search("carol left", "1.0")
        self.assertIn("carol left (Connection closed)", self.logText())
        self.assertEqual(text.tag_names(where), ("leave",))
        faults = [line for line in self.console.log.lines if line.kind == "error"]
        self.assertEqual(faults, [])
