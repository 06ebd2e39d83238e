"""
The server console's model: log events to lines, bounded, and the chat's
users and rooms to rows.  No Tk here.
"""

from __future__ import annotations

import time
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st
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
    RUNNING_LEVEL,
    STOPPING,
    STOPPING_LEVEL,
    ConsoleLog,
    LogLine,
    RoomRow,
    changes_rooms,
    changes_users,
    count_text,
    describe_event,
    format_since,
    room_names,
    room_rows,
    status,
    user_rows,
)
from chatserver.core.remote import RemoteUser
from chatserver.core.rooms import Room
from chatserver.doors.line.factory import LineFactory, refusal
from chatserver.limits.gate import AdmittedConnection
from chatserver.server import ChatServer
from chatserver.testing import ChatHarness, LineClient
from chatwire.errors import NoSuchUser

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
            "join",
            "part",
            "topic",
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
        for kind in (
            "connect",
            "login",
            "rename",
            "leave",
            "disconnect",
            "join",
            "part",
        ):
            self.assertTrue(changes_users(chat_event(kind, "")), kind)
        for kind in ("listening", "refused", "rejected", "message", "topic"):
            self.assertFalse(changes_users(chat_event(kind, "")), kind)
        self.assertFalse(changes_users({"chat_event": "login"}))

    def test_rooms_kinds(self) -> None:
        for kind in ("login", "leave", "join", "part", "topic"):
            self.assertTrue(changes_rooms(chat_event(kind, "")), kind)
        for kind in ("connect", "disconnect", "rename", "message", "listening"):
            self.assertFalse(changes_rooms(chat_event(kind, "")), kind)
        self.assertFalse(changes_rooms({"chat_event": "join"}))


def port_of(client: LineClient) -> int:
    port: int = client.transport.getPeer().port
    return port


class UserRowsTests(SynchronousTestCase):
    """
    Rows from the users of a real chat (line-door clients on a fake clock).
    """

    def setUp(self) -> None:
        self.chat = ChatHarness(rate=0)
        self.chat.clock.advance(NOON - 3600)

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [
            (r.name, r.peer, r.since, r.rooms)
            for r in user_rows(self.chat.realm.users(), self.chat.realm.now())
        ]

    def test_logged_in_sorted_without_case(self) -> None:
        bob = self.chat.login("bob")
        self.chat.clock.advance(3540)
        alice = self.chat.login("Alice")
        self.chat.connect()  # choosing a name: no row
        self.assertEqual(
            self.rows(),
            [
                ("Alice", f"127.0.0.1:{port_of(alice)}", "11:59:00", "#lobby"),
                ("bob", f"127.0.0.1:{port_of(bob)}", "11:00:00", "#lobby"),
            ],
        )
        rows = user_rows(self.chat.realm.users(), NOON)
        self.assertIs(rows[0].user, self.chat.realm.get("alice"))
        self.assertNotEqual(rows[0].key, rows[1].key)
        # The key follows the user, not its name.
        alice.send("/nick zed")
        renamed = user_rows(self.chat.realm.users(), NOON)
        self.assertEqual([r.name for r in renamed], ["bob", "zed"])
        self.assertEqual(renamed[1].key, rows[0].key)

    def test_rooms_in_join_order(self) -> None:
        alice = self.chat.login("alice")
        alice.send("/join #dev")
        alice.send("/join #Art")
        self.chat.login("bob")
        self.assertEqual(
            [(name, rooms) for name, _peer, _since, rooms in self.rows()],
            [("alice", "#lobby, #dev, #Art"), ("bob", "#lobby")],
        )
        alice.send("/part #dev")
        alice.send("/part #lobby")
        self.assertEqual(
            [(name, rooms) for name, _peer, _since, rooms in self.rows()],
            [("alice", "#Art"), ("bob", "#lobby")],
        )

    def test_users_of_other_nodes_have_rows_naming_their_node(self) -> None:
        self.chat.login("carol")
        realm = self.chat.realm
        dev = realm.rooms["#dev"] = Room("#dev")
        bob = RemoteUser("bob", "chat2", NOON - 60)
        bob.rooms.update({"#lobby": None, "#dev": None})
        realm.remote["bob"] = bob
        dev.addRemote("bob", "bob")
        rows = user_rows(realm.everyone(), NOON, realm.rooms)
        self.assertEqual(
            [(r.name, r.peer, r.since, r.rooms) for r in rows],
            [
                ("bob", "node chat2", "11:59:00", "#lobby, #dev"),
                ("carol", rows[1].peer, rows[1].since, "#lobby"),
            ],
        )
        self.assertIs(rows[0].user, bob)

    def test_gone_user_no_row(self) -> None:
        alice = self.chat.login("alice")
        user = self.chat.realm.get("alice")
        assert user is not None
        alice.lose()
        self.assertFalse(user.online)
        self.assertEqual(user_rows([user], NOON), [])

    def test_since_other_day(self) -> None:
        yesterday = NOON - 86400
        self.assertEqual(format_since(yesterday, NOON), "2026-11-20 12:00")
        self.assertEqual(format_since(NOON - 5, NOON), "11:59:55")

    def test_room_names(self) -> None:
        self.assertEqual(room_names([]), "")
        self.assertEqual(room_names([Room("#lobby"), Room("#Dev")]), "#lobby, #Dev")


class RoomRowsTests(SynchronousTestCase):
    def test_rooms_sorted_without_case(self) -> None:
        chat = ChatHarness(rate=0)
        self.assertEqual(room_rows(chat.realm.rooms.values()), [])
        alice = chat.login("alice")
        bob = chat.login("bob")
        alice.send("/join #Zoo")
        bob.send("/join #dev")
        bob.send("/topic release on Friday")
        alice.send("/join #dev")
        self.assertEqual(
            room_rows(chat.realm.rooms.values()),
            [
                RoomRow("#dev", "#dev", 2, "release on Friday"),
                RoomRow("#lobby", "#lobby", 2, ""),
                RoomRow("#zoo", "#Zoo", 1, ""),
            ],
        )
        alice.send("/part #Zoo")  # the last member: the room is gone
        self.assertEqual(
            [row.name for row in room_rows(chat.realm.rooms.values())],
            ["#dev", "#lobby"],
        )


class CountTextTests(SynchronousTestCase):
    def test_counts(self) -> None:
        self.assertEqual(count_text(0, 0, 0), "0 users online, 0 rooms")
        self.assertEqual(count_text(1, 1, 1), "1 user online, 1 room")
        self.assertEqual(count_text(3, 4, 2), "3 users online, 1 connecting, 2 rooms")
        self.assertEqual(count_text(0, 2, 0), "0 users online, 2 connecting, 0 rooms")

    def test_never_negative(self) -> None:
        # A user whose connection is already released, in the same turn.
        self.assertEqual(count_text(2, 1, 1), "2 users online, 1 room")

    def test_real_chat(self) -> None:
        chat = ChatHarness(rate=0)
        alice = chat.login("alice")
        chat.login("bob")
        chat.connect()
        alice.send("/join #dev")

        def count() -> str:
            return count_text(
                len(chat.realm),
                len(chat.server.admission.connections),
                len(chat.realm.rooms),
            )

        self.assertEqual(count(), "2 users online, 1 connecting, 2 rooms")
        alice.lose()
        self.assertEqual(count(), "1 user online, 1 connecting, 1 room")


class StatusTests(SynchronousTestCase):
    def test_running(self) -> None:
        self.assertEqual(
            status(False, ["127.0.0.1:8123", "[::1]:8123"]),
            (RUNNING, RUNNING_LEVEL, "listening on 127.0.0.1:8123, [::1]:8123"),
        )

    def test_stopping(self) -> None:
        self.assertEqual(
            status(True, ["127.0.0.1:8123"]),
            (STOPPING, STOPPING_LEVEL, "listening on 127.0.0.1:8123"),
        )
        self.assertEqual(STOPPING, "Stopping\N{HORIZONTAL ELLIPSIS}")

    def test_not_listening(self) -> None:
        self.assertEqual(status(False, [])[2], "not listening")


class RealEventsTests(SynchronousTestCase):
    """
    The events a real chat (the core and the line door) logs make the lines
    the console shows, and its users make the user rows.
    """

    def setUp(self) -> None:
        self.events: list[dict[str, Any]] = []
        observer = cast(ILogObserver, self.events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        self.clock = Clock()
        self.clock.advance(NOON)
        self.start(ChatConfig(logMessages=True, rate=0))

    def start(self, config: ChatConfig) -> None:
        self.server = ChatServer(config, clock=self.clock)
        self.factory = LineFactory(self.server)
        self.port = 40000

    def connect(self) -> tuple[AdmittedConnection, StringTransport]:
        """
        @return: A connection to the line door, at the service's gate.
        """
        self.port += 1
        address = IPv4Address("TCP", "127.0.0.1", self.port)
        transport = StringTransport(peerAddress=address)
        connection = self.server.gate(self.factory, refusal).buildProtocol(address)
        connection.makeConnection(transport)
        return connection, transport

    def rows(self) -> list[tuple[str, str, str, str]]:
        realm = self.server.realm
        return [
            (r.name, r.peer, r.since, r.rooms)
            for r in user_rows(realm.users(), realm.now())
        ]

    def test_session(self) -> None:
        log = ConsoleLog()
        realm = self.server.realm
        alice, _ = self.connect()
        alice.dataReceived(b"alice\r\n")
        bob, _ = self.connect()
        bob.dataReceived(b"bob\r\n")
        bob.dataReceived(b"hello\r\n/nick robert\r\n\xc3(\r\n")
        bob.dataReceived(b"/join #dev\r\n/topic ship it\r\n/part #lobby bye\r\n")
        self.clock.advance(30)
        self.connect()  # not logged in yet
        self.assertEqual(
            self.rows(),
            [
                ("alice", "127.0.0.1:40001", "12:00:00", "#lobby"),
                ("robert", "127.0.0.1:40002", "12:00:00", "#dev"),
            ],
        )
        self.assertEqual(
            count_text(
                len(realm), len(self.server.admission.connections), len(realm.rooms)
            ),
            "2 users online, 1 connecting, 2 rooms",
        )
        self.assertEqual(
            room_rows(realm.rooms.values()),
            [RoomRow("#dev", "#dev", 1, "ship it"), RoomRow("#lobby", "#lobby", 1, "")],
        )
        realm.kick("alice", "spam")
        alice.connectionLost()
        for event in self.events:
            log.add(event)
        # The core words messages its own way: the console shows its words.
        messages = [line.text for line in log.lines if line.kind == "message"]
        self.assertEqual(len(messages), 1)
        self.assertIn("bob", messages[0])
        self.assertIn("hello", messages[0])
        self.assertEqual(
            [(line.kind, line.text) for line in log.lines if line.kind != "message"],
            [
                ("connect", "Connection from 127.0.0.1:40001"),
                ("login", "alice logged in from 127.0.0.1:40001"),
                ("join", "alice joined #lobby"),
                ("connect", "Connection from 127.0.0.1:40002"),
                ("login", "bob logged in from 127.0.0.1:40002"),
                ("join", "bob joined #lobby"),
                ("rename", "bob is now known as robert"),
                (
                    "rejected",
                    "Rejected input from 127.0.0.1:40002: invalid UTF-8, "
                    "line discarded",
                ),
                ("join", "robert joined #dev"),
                ("topic", "robert set the topic of #dev: ship it"),
                ("part", "robert left #lobby (Part: bye)"),
                ("connect", "Connection from 127.0.0.1:40003"),
                ("leave", "alice left (Kicked: spam)"),
            ],
        )
        self.assertEqual([r[0] for r in self.rows()], ["robert"])
        self.assertEqual(
            [row.name for row in room_rows(realm.rooms.values())], ["#dev"]
        )

    def test_kick_unknown(self) -> None:
        self.assertRaises(NoSuchUser, self.server.realm.kick, "nobody", "spam")

    def test_messages_only_when_logged(self) -> None:
        self.start(ChatConfig(logMessages=False, rate=0))
        bob, _ = self.connect()
        bob.dataReceived(b"bob\r\nhello\r\n")
        kinds = [line.kind for line in map(describe_event, self.events) if line]
        self.assertEqual(kinds, ["connect", "login", "join"])
        self.assertEqual(LogLevel.info, self.events[-1]["log_level"])


class DoorAndIdleTests(SynchronousTestCase):
    """
    Each row names the door its user came through and how long the user
    has been idle.
    """

    def setUp(self) -> None:
        self.chat = ChatHarness(rate=0)
        self.chat.clock.advance(NOON)

    def row(self, name: str) -> console_model.UserRow:
        rows = user_rows(self.chat.realm.users(), self.chat.realm.now())
        return next(row for row in rows if row.name == name)

    def test_each_row_names_its_door(self) -> None:
        self.chat.login("alice")
        self.chat.ircLogin("bob")
        web = self.chat.web()
        web.send({"type": "login", "name": "carol"})
        self.assertEqual(
            [self.row(name).door for name in ("alice", "bob", "carol")],
            ["line", "irc", "web"],
        )

    def test_idle_counts_from_the_last_line_sent(self) -> None:
        alice = self.chat.login("alice")
        self.chat.clock.advance(90)
        self.assertEqual(self.row("alice").idle, "1m")
        alice.send("hello")
        self.chat.clock.advance(12)
        self.assertEqual(self.row("alice").idle, "12s")

    def test_idle_of_a_web_user_counts_from_its_last_message(self) -> None:
        web = self.chat.web()
        web.send({"type": "login", "name": "carol"})
        self.chat.clock.advance(7200)
        web.send({"type": "say", "room": "#lobby", "text": "back"})
        self.chat.clock.advance(5)
        self.assertEqual(self.row("carol").idle, "5s")

    def test_idle_is_said_short(self) -> None:
        self.assertEqual(
            [
                console_model.format_idle(s)
                for s in (
                    -1,
                    0,
                    59,
                    60,
                    3599,
                    3600,
                    3600 + 5 * 60,
                    86400 * 2 + 3 * 3600,
                )
            ],
            ["0s", "0s", "59s", "1m", "59m", "1h 00m", "1h 05m", "2d 3h"],
        )


class LogFilterTests(SynchronousTestCase):
    login = LogLine("12:00:00", "login", "alice logged in from 127.0.0.1:5000")
    refused = LogLine("12:00:01", "refused", "Refused 10.0.0.9: too many")

    def test_everything_is_shown_by_default(self) -> None:
        self.assertTrue(console_model.shows(self.login, ""))
        self.assertTrue(console_model.shows(self.refused, ""))

    def test_words_filter_in_any_case_each_word(self) -> None:
        self.assertTrue(console_model.shows(self.login, "ALICE 127.0.0.1"))
        self.assertFalse(console_model.shows(self.login, "alice bob"))
        self.assertTrue(console_model.shows(self.login, "12:00:00"))

    def test_a_group_shows_its_kinds_only(self) -> None:
        self.assertTrue(console_model.shows(self.refused, "", "Problems"))
        self.assertFalse(console_model.shows(self.login, "", "Problems"))
        self.assertTrue(console_model.shows(self.login, "", "Logins and leaves"))

    def test_every_kind_the_server_logs_is_in_a_group(self) -> None:
        grouped = set().union(*(k for k in console_model.LOG_GROUPS.values() if k))
        for kind in (console_model.USER_EVENTS | console_model.ROOM_EVENTS) - {"peers"}:
            self.assertIn(kind, grouped)


class FiguresTests(SynchronousTestCase):
    """
    The figures at a glance, read from the counters /metrics serves.
    """

    def setUp(self) -> None:
        self.chat = ChatHarness(rate=0)
        self.chat.clock.advance(NOON)

    def counters(self) -> console_model.Counters:
        return console_model.read_counters(self.chat.server)

    def test_users_by_door(self) -> None:
        self.chat.login("alice")
        self.chat.login("bob")
        self.chat.ircLogin("carol")
        texts = console_model.figures_text(None, self.counters())
        self.assertEqual(texts["users"], "3 (irc 1, line 2)")

    def test_lines_and_deliveries_a_second(self) -> None:
        alice = self.chat.login("alice")
        bob = self.chat.login("bob")
        self.chat.login("carol")
        before = self.counters()
        self.chat.clock.advance(2)
        for text in ("one", "two", "three", "four"):
            alice.send(text)
            bob.send(text)
            self.chat.clock.advance(0)
        texts = console_model.figures_text(before, self.counters())
        # Eight lines in two seconds; a write a turn to each of the three
        # (carol got both lines of a turn in one), as /metrics counts them.
        self.assertEqual(texts["lines"], "4.0/s")
        self.assertEqual(texts["deliveries"], "6.0/s")

    def test_the_same_counts_as_metrics(self) -> None:
        from chatserver.metrics.figures import deliveries_by_door

        alice = self.chat.login("alice")
        self.chat.login("bob")
        alice.send("hello")
        self.chat.clock.advance(0)
        counters = self.counters()
        self.assertEqual(
            dict(counters.deliveries),
            deliveries_by_door(self.chat.realm.fanout.deliveries),
        )
        self.assertEqual(dict(counters.lines), {"line": 1})

    def test_drops_by_limit(self) -> None:
        self.chat.server.counts.count("per-address")
        self.chat.server.counts.count("per-address")
        self.chat.server.counts.count("send-queue")
        texts = console_model.figures_text(None, self.counters())
        self.assertEqual(texts["drops"], "3 (per-address 2, send-queue 1)")
        self.assertEqual(
            console_model.figures_text(None, self.counters())["lines"], "0.0/s"
        )


@given(st.sampled_from(sorted(console_model.LOG_GROUPS)), st.text(max_size=40))
def test_a_line_is_shown_by_any_word_of_its_own(group: str, text: str) -> None:
    line = LogLine("12:00:00", "login", text)
    kinds = console_model.LOG_GROUPS[group]
    assert console_model.shows(line, "", group) == (kinds is None or "login" in kinds)
    for word in line.render().split():
        assert console_model.shows(line, word)
        assert console_model.shows(line, word.casefold())
