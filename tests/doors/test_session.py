"""
The door session (L{chatserver.doors.session}): what every door does with a
connection, written once, tested here through a door of its own that only
records; and the mind every door hands the chat.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.credentials import UsernamePassword
from twisted.internet import error
from twisted.internet.testing import StringTransport
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface.verify import verifyObject

from chatserver.auth.checkers import ChosenName
from chatserver.core.minds import IMind
from chatserver.core.users import ChatUser
from chatserver.doors.irc.protocol import IrcProtocol
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.doors.session import DoorSession
from chatserver.limits.flow import SEND_QUEUE_EXCEEDED
from chatserver.testing import ChatHarness
from chatwire.errors import ChatError
from tests.core.fakes import RecordingMind
from tests.doors.line.test_telnet import TelnetClient
from tests.doors.test_web import session as web_session


class RecordingDoor:
    """
    A door that only records what its session asks of it.
    """

    peer = "127.0.0.1:40000"
    host = "127.0.0.1"
    name = "someone"

    def __init__(self, server: ChatHarness) -> None:
        self.server = server.server
        self.session = DoorSession(self)
        self.transport = StringTransport()
        self.said: list[str] = []
        self.readOns = 0
        self.ended = False
        self.session.start(self.transport)

    def readLine(self) -> bool:
        self.readOns += 1
        return False

    def endTransport(self) -> None:
        self.ended = True

    def close(self, reason: str) -> None:
        self.session.close(reason, b"bye\n")

    def timeoutConnection(self) -> None:
        self.said.append("timeout")

    def greet(self, user: ChatUser) -> None:
        self.said.append(f"welcome {user.name}")

    def loginRefused(self, error: ChatError, name: str) -> None:
        self.said.append(f"refused {name}: {error.reason}")

    def loginFailed(self, reason: Failure, name: str) -> Callable[[bool], None]:
        return lambda last: self.said.append(f"wrong ({'last' if last else 'again'})")

    # IMind, for the portal

    codec = RecordingMind.codec
    door = "test"
    ident = realname = ""
    echoes = False
    joinsDefaultRoom = True
    lastActive = 0.0

    @property
    def closing(self) -> bool:
        return self.session.closing

    def deliver(self, data: bytes) -> None:
        self.session.deliver(data)

    def disconnect(self, reason: str) -> None:
        self.close(reason)


# Every door's mind


def test_a_line_users_mind_provides_the_whole_mind_interface():
    user = ChatHarness().login("alice").protocol.user
    assert user is not None
    assert verifyObject(IMind, user.mind)


def test_a_telnet_users_mind_provides_the_whole_mind_interface():
    server = ChatHarness()
    TelnetClient(server).send("alice")
    user = server.realm.get("alice")
    assert user is not None and user.mind.door == "telnet"
    assert verifyObject(IMind, user.mind)


def test_an_irc_users_mind_provides_the_whole_mind_interface():
    client = ChatHarness().ircLogin("alice")
    assert isinstance(client.protocol, IrcProtocol)
    assert verifyObject(IMind, client.protocol)


def test_a_web_users_mind_provides_the_whole_mind_interface():
    server = ChatHarness(rate=0)
    web, _, _ = web_session(server)
    web.textMessageReceived(json.dumps({"type": "login", "name": "alice"}))
    user = server.realm.get("alice")
    assert user is not None and user.mind is web
    assert verifyObject(IMind, web)


def test_the_line_door_stands_on_no_twisted_internals():
    assert not issubclass(ChatProtocol, (LineReceiver, TimeoutMixin))
    assert not [slot for slot in ChatProtocol.__slots__ if "TimeoutMixin" in slot]
    assert "_busyReceiving" not in ChatProtocol.__slots__


# Reading held back


def test_reading_pauses_at_the_first_hold_and_resumes_after_the_last():
    door = RecordingDoor(ChatHarness())
    door.session.hold("rate")
    door.session.hold("login")
    assert door.transport.producerState == "paused"
    door.session.release("rate")
    assert door.transport.producerState == "paused" and door.readOns == 0
    door.session.release("login")
    assert door.transport.producerState == "producing" and door.readOns == 1


def test_releasing_what_is_not_held_reads_nothing_more():
    door = RecordingDoor(ChatHarness())
    door.session.release("login")
    assert door.readOns == 0


def test_a_client_over_its_rate_is_held_until_a_token_is_back():
    server = ChatHarness(rate=1, burst=2)
    door = RecordingDoor(server)
    for _ in range(2):
        door.session.take()
        door.session.pace()
    assert door.session.holding
    server.clock.advance(1)
    assert not door.session.holding and door.readOns == 1


def test_nothing_is_read_on_once_closing():
    server = ChatHarness(rate=1, burst=1)
    door = RecordingDoor(server)
    door.session.take()
    door.session.pace()
    door.close("Quit")
    server.clock.advance(1)
    assert door.readOns == 0


# Output guarded


def test_output_is_written_while_the_client_reads():
    door = RecordingDoor(ChatHarness(maxBuffer=10))
    door.session.deliver(b"x" * 100)
    assert door.transport.value() == b"x" * 100
    assert not door.session.closing


def test_a_client_that_stops_reading_is_dropped_once_past_max_buffer():
    door = RecordingDoor(ChatHarness(maxBuffer=10))
    door.session.pauseProducing()  # what a transport does with a full buffer
    door.session.deliver(b"x" * 5)
    assert not door.session.closing
    door.session.deliver(b"x" * 6)
    assert door.session.closing
    assert door.session.leaveReason == SEND_QUEUE_EXCEEDED
    assert door.transport.disconnecting  # aborted
    door.transport.clear()
    door.session.deliver(b"more")
    assert door.transport.value() == b""


# Closing


def test_close_says_its_notice_then_ends_and_aborts_after_the_grace():
    server = ChatHarness()
    door = RecordingDoor(server)
    door.close("Quit")
    assert door.transport.value() == b"bye\n" and door.ended
    assert door.session.leaveReason == "Quit"
    door.close("Again")  # once only
    assert door.transport.value() == b"bye\n"
    assert not door.transport.disconnecting
    server.clock.advance(server.config.closeGrace)
    assert door.transport.disconnecting


def test_the_leave_reason_is_what_the_others_are_told():
    server = ChatHarness()
    bob = server.login("bob")
    door = RecordingDoor(server)
    door.session.login(ChosenName("alice"), "alice")
    bob.received()
    door.close("Quit: lunch")
    door.session.connectionLost(Failure(error.ConnectionDone()))
    assert "alice has left (Quit: lunch)" in bob.received()[-1]


def test_without_a_leave_reason_the_loss_is_told():
    server = ChatHarness()
    bob = server.login("bob")
    door = RecordingDoor(server)
    door.session.login(ChosenName("alice"), "alice")
    bob.received()
    door.session.connectionLost(Failure(error.ConnectionLost()))
    assert "Connection reset by peer" in bob.received()[-1]


# Timeouts


def test_the_login_timeout_is_told_to_the_door():
    server = ChatHarness(loginTimeout=5.0)
    door = RecordingDoor(server)
    server.clock.advance(4.9)
    assert door.said == []
    server.clock.advance(0.1)
    assert door.said == ["timeout"]


def test_activity_starts_the_idle_timeout_again():
    server = ChatHarness(loginTimeout=5.0, idleTimeout=10.0)
    door = RecordingDoor(server)
    door.session.login(ChosenName("alice"), "alice")
    server.clock.advance(9)
    door.session.resetTimeout()
    server.clock.advance(9)
    assert "timeout" not in door.said
    server.clock.advance(1)
    assert door.said[-1] == "timeout"


# Logging in


def test_a_login_greets_the_user_and_reads_on():
    server = ChatHarness()
    door = RecordingDoor(server)
    door.session.login(ChosenName("alice"), "alice")
    assert door.said == ["welcome alice"]
    assert door.session.user is server.realm.get("alice")
    assert not door.session.holding and door.readOns == 1


def test_a_login_refused_by_the_chat_is_said_at_once():
    server = ChatHarness()
    server.login("alice")
    door = RecordingDoor(server)
    door.session.login(ChosenName("alice"), "alice")
    assert door.said == ["refused alice: the name alice is taken, choose another"]
    assert not door.session.holding


def test_wrong_logins_are_answered_after_the_throttle_and_the_third_closes():
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")
    server = ChatHarness(checkers=[checker], loginTimeout=0)
    door = RecordingDoor(server)
    for strike in ("again", "again", "last"):
        door.session.login(UsernamePassword(b"alice", b"guess"), "alice")
        assert door.session.holding
        server.clock.advance(60)
        assert door.said[-1] == f"wrong ({strike})"
    assert door.session.closing
    assert door.session.leaveReason == "Too many failed logins"
    assert door.session.failures == 3


def test_a_login_answered_after_the_connection_went_logs_nobody_in():
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")
    server = ChatHarness(checkers=[checker])
    door = RecordingDoor(server)
    door.session.connectionLost(Failure(error.ConnectionDone()))
    door.session.login(UsernamePassword(b"alice", b"s3cret"), "alice")
    assert "alice" not in server.realm
    assert door.said == []
