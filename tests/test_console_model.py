"""
The server console's model: log events to lines, bounded, and connections to
user rows.  No Tk here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import ILogObserver, Logger, LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from chatserver.config import ChatConfig
from chatserver.console import model as console_model
from chatserver.console.model import (
    ERROR,
    RUNNING,
    RUNNING_COLOUR,
    STOPPING,
    STOPPING_COLOUR,
    ConsoleLog,
    LogLine,
    changes_users,
    count_text,
    describe_event,
    format_since,
    status,
    user_rows,
)
from chatserver.doors.line.factory import ChatFactory
from chatserver.doors.line.protocol import ChatProtocol

# Noon, local time, so that "same day" does not depend on the time zone.
NOON = time.mktime((2026, 11, 21, 12, 0, 0, 0, 0, -1))


def chat_event(kind: str, format: str, **fields: Any) -> dict[str, Any]:
    """
    An event as the server's Logger emits it.
    """
    events: list[dict[str, Any]] = []
    Logger(namespace="chatserver", observer=cast(ILogObserver, events.append)).info(
        format, chat_event=kind, **fields
    )
    return events[0]


class DescribeEventTests(SynchronousTestCase):
    def test_login(self) -> None:
        event = chat_event(
            "login", "{name} logged in from {peer}", name="alice", peer="1.2.3.4:5"
        )
        event["log_time"] = NOON + 61
        self.assertEqual(
            describe_event(event),
            LogLine("12:01:01", "login", "alice logged in from 1.2.3.4:5"),
        )

    def test_render(self) -> None:
        self.assertEqual(
            LogLine("12:01:01", "leave", "bob left (Quit)").render(),
            "12:01:01  bob left (Quit)",
        )

    def test_every_kind_keeps_its_kind(self) -> None:
        for kind in (
            "listening",
            "connect",
            "refused",
            "login",
            "rename",
            "leave",
            "disconnect",
            "rejected",
            "message",
        ):
            line = describe_event(chat_event(kind, "something"))
            assert line is not None
            self.assertEqual((line.kind, line.text), (kind, "something"))

    def test_leave_reason(self) -> None:
        line = describe_event(
            chat_event(
                "leave",
                "{name} left ({reason})",
                name="bob",
                peer="x",
                reason="Kicked: spam",
            )
        )
        assert line is not None
        self.assertEqual(line.text, "bob left (Kicked: spam)")

    def test_other_namespace_ignored(self) -> None:
        events: list[dict[str, Any]] = []
        Logger(namespace="other", observer=cast(ILogObserver, events.append)).info(
            "hi", chat_event="login"
        )
        self.assertIsNone(describe_event(events[0]))

    def test_chatserver_event_without_kind_ignored(self) -> None:
        events: list[dict[str, Any]] = []
        Logger(namespace="chatserver", observer=cast(ILogObserver, events.append)).info(
            "debugging"
        )
        self.assertIsNone(describe_event(events[0]))

    def test_errors_from_elsewhere_shown(self) -> None:
        events: list[dict[str, Any]] = []
        log = Logger(
            namespace="twisted.whatever", observer=cast(ILogObserver, events.append)
        )
        try:
            raise ZeroDivisionError("division by zero")
        except ZeroDivisionError:
            log.failure("Unhandled error in Deferred")
        log.error("plain {what}", what="error")
        log.warn("only a warning")
        first, second = (describe_event(e) for e in events[:2])
        assert first is not None and second is not None
        self.assertEqual(first.kind, ERROR)
        self.assertEqual(
            first.text,
            "Unhandled error in Deferred: ZeroDivisionError: division by zero",
        )
        self.assertEqual((second.kind, second.text), (ERROR, "plain error"))
        self.assertIsNone(describe_event(events[2]))

    def test_one_line(self) -> None:
        line = describe_event(chat_event("rejected", "a\nb\r\nc"))
        assert line is not None
        self.assertEqual(line.text, "a b c")


class ConsoleLogTests(SynchronousTestCase):
    def test_bounded(self) -> None:
        log = ConsoleLog(maxLines=3)
        for n in range(5):
            log.add(chat_event("connect", "c{n}", n=n))
        self.assertEqual([line.text for line in log.lines], ["c2", "c3", "c4"])

    def test_add_returns_line_or_none(self) -> None:
        log = ConsoleLog()
        self.assertEqual(log.maxLines, console_model.DEFAULT_MAX_LINES)
        line = log.add(chat_event("connect", "hello"))
        assert line is not None
        self.assertEqual(line.text, "hello")
        self.assertIsNone(log.add({"log_namespace": "x", "log_format": "y"}))
        self.assertEqual(list(log.lines), [line])

    def test_at_least_one_line(self) -> None:
        self.assertRaises(ValueError, ConsoleLog, 0)


class ChangesUsersTests(SynchronousTestCase):
    def test_kinds(self) -> None:
        for kind in ("connect", "login", "rename", "leave", "disconnect"):
            self.assertTrue(changes_users(chat_event(kind, "")), kind)
        for kind in ("listening", "refused", "rejected", "message"):
            self.assertFalse(changes_users(chat_event(kind, "")), kind)
        self.assertFalse(changes_users({"chat_event": "login"}))


@dataclass
class FakeConnection:
    name: str
    loggedIn: bool
    peer: str
    connectedAt: float


class UserRowsTests(SynchronousTestCase):
    def test_logged_in_sorted_without_case(self) -> None:
        bob = FakeConnection("bob", True, "1.1.1.1:1", NOON - 3600)
        alice = FakeConnection("Alice", True, "[::1]:2", NOON - 60)
        pending = FakeConnection("", False, "2.2.2.2:2", NOON)
        rows = user_rows([bob, pending, alice], now=NOON)
        self.assertEqual(
            [(r.name, r.peer, r.since) for r in rows],
            [("Alice", "[::1]:2", "11:59:00"), ("bob", "1.1.1.1:1", "11:00:00")],
        )
        self.assertIs(rows[0].connection, alice)
        self.assertNotEqual(rows[0].key, rows[1].key)
        # The key follows the connection, not its name.
        alice.name = "zed"
        self.assertEqual(user_rows([alice], NOON)[0].key, rows[0].key)

    def test_since_other_day(self) -> None:
        yesterday = NOON - 86400
        self.assertEqual(format_since(yesterday, NOON), "2026-11-20 12:00")
        self.assertEqual(format_since(NOON - 5, NOON), "11:59:55")

    def test_count_text(self) -> None:
        def c(loggedIn: bool) -> FakeConnection:
            return FakeConnection("x", loggedIn, "p", NOON)

        self.assertEqual(count_text([]), "0 users online")
        self.assertEqual(count_text([c(True)]), "1 user online")
        self.assertEqual(
            count_text([c(True), c(True), c(False)]), "2 users online, 1 connecting"
        )


class StatusTests(SynchronousTestCase):
    def test_running(self) -> None:
        self.assertEqual(
            status(False, ["127.0.0.1:8123", "[::1]:8123"]),
            (RUNNING, RUNNING_COLOUR, "listening on 127.0.0.1:8123, [::1]:8123"),
        )

    def test_stopping(self) -> None:
        self.assertEqual(
            status(True, ["127.0.0.1:8123"]),
            (STOPPING, STOPPING_COLOUR, "listening on 127.0.0.1:8123"),
        )
        self.assertEqual(STOPPING, "Stopping\N{HORIZONTAL ELLIPSIS}")

    def test_not_listening(self) -> None:
        self.assertEqual(status(False, [])[2], "not listening")


class RealEventsTests(SynchronousTestCase):
    """
    The events a real L{ChatProtocol} logs make the lines the console shows,
    and its connections make the user rows.
    """

    def setUp(self) -> None:
        self.events: list[dict[str, Any]] = []
        observer = cast(ILogObserver, self.events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        self.clock = Clock()
        self.clock.advance(NOON)
        self.factory = ChatFactory(ChatConfig(logMessages=True), clock=self.clock)
        self.port = 40000

    def connect(self) -> tuple[ChatProtocol, StringTransport]:
        self.port += 1
        address = IPv4Address("TCP", "127.0.0.1", self.port)
        transport = StringTransport(peerAddress=address)
        protocol = self.factory.buildProtocol(address)
        protocol.makeConnection(transport)
        return protocol, transport

    def test_session(self) -> None:
        log = ConsoleLog()
        alice, _ = self.connect()
        alice.dataReceived(b"alice\r\n")
        bob, _ = self.connect()
        bob.dataReceived(b"bob\r\n")
        bob.dataReceived(b"hello\r\n/nick robert\r\n\xc3(\r\n")
        self.clock.advance(30)
        self.connect()  # not logged in yet
        self.assertEqual(
            [
                (r.name, r.peer, r.since)
                for r in user_rows(self.factory.connections, self.clock.seconds())
            ],
            [
                ("alice", "127.0.0.1:40001", "12:00:00"),
                ("robert", "127.0.0.1:40002", "12:00:00"),
            ],
        )
        self.assertEqual(
            count_text(self.factory.connections), "2 users online, 1 connecting"
        )
        alice.kick("spam")
        alice.connectionLost()
        for event in self.events:
            log.add(event)
        self.assertEqual(
            [(line.kind, line.text) for line in log.lines],
            [
                ("connect", "Connection from 127.0.0.1:40001"),
                ("login", "alice logged in from 127.0.0.1:40001"),
                ("connect", "Connection from 127.0.0.1:40002"),
                ("login", "bob logged in from 127.0.0.1:40002"),
                ("message", "<bob> hello"),
                ("rename", "bob is now known as robert"),
                (
                    "rejected",
                    "Rejected input from 127.0.0.1:40002: invalid UTF-8, "
                    "line discarded",
                ),
                ("connect", "Connection from 127.0.0.1:40003"),
                ("leave", "alice left (Kicked: spam)"),
            ],
        )
        self.assertEqual(
            [r.name for r in user_rows(self.factory.connections, self.clock.seconds())],
            ["robert"],
        )

    def test_messages_only_when_logged(self) -> None:
        self.factory = ChatFactory(ChatConfig(logMessages=False), clock=self.clock)
        bob, _ = self.connect()
        bob.dataReceived(b"bob\r\nhello\r\n")
        kinds = [line.kind for line in map(describe_event, self.events) if line]
        self.assertEqual(kinds, ["connect", "login"])
        self.assertEqual(LogLevel.info, self.events[-1]["log_level"])
