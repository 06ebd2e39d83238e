"""
The web door without sockets: its codec, its checks of client messages, and
one session on a fake clock (keepalive, pacing, timeouts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.python.failure import Failure

from chatserver.core.events import Replayed, Said, Whispered
from chatserver.doors.irc.masks import door_of
from chatserver.doors.web.codec import WebCodec, split_messages
from chatserver.doors.web.messages import BadMessage, parse_message
from chatserver.doors.web.protocol import WebSession
from chatserver.history.store import ACTION, HistoryEntry
from chatserver.testing import ChatHarness


def test_each_event_is_one_json_line_even_with_newlines_in_its_text():
    codec = WebCodec()
    data = codec.encode(Said("#lobby", "bob", "two\nlines", 3, 10.5), None)
    data += codec.encode(Whispered("bob", "alice", "psst", 11.0), None)
    first, second = (json.loads(m) for m in split_messages(data))
    assert first == {
        "type": "message",
        "room": "#lobby",
        "from": "bob",
        "text": "two\nlines",
        "id": 3,
        "time": 10.5,
    }
    assert second["type"] == "private" and second["to"] == "alice"
    action = codec.encode(Whispered("bob", "alice", "waves", 12.0, action=True), None)
    (third,) = (json.loads(m) for m in split_messages(action))
    assert third["text"] == "* bob waves"


def test_frames_of_every_size():
    for size in (0, 125, 126, 65535, 65536):
        text = "x" * size
        data = WebCodec().encode(Said("#a", "b", text, 1, 1.0), None)
        assert data[0] == 0x81 and data[1] & 0x80 == 0
        (message,) = split_messages(data + data)[:1]
        assert json.loads(message)["text"] == text
        assert len(split_messages(data + data)) == 2


def test_history_is_one_message():
    entry = HistoryEntry(
        id=4, room="#dev", kind=ACTION, sender="bob", text="waves", time=1.0
    )
    data = WebCodec().encode(Replayed("#dev", (entry,), True), None)
    (message,) = (json.loads(m) for m in split_messages(data))
    assert message["entries"] == [
        {"kind": "action", "from": "bob", "text": "waves", "id": 4, "time": 1.0}
    ]
    assert message["more"] is True


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not JSON"),
        ("null", "a message must be a JSON object"),
        ('{"type": 1}', 'a message must have a "type" string'),
        ('{"type": "fly"}', "unknown message type 'fly'"),
        ('{"type": "msg", "to": "bob"}', "'msg' needs 'text'"),
        ('{"type": "history", "limit": 2.5}', "'history': 'limit' must be"),
        ('{"type": "rooms", "x": 1}', "unknown field 'x' in 'rooms'"),
    ],
)
def test_bad_client_messages(text, why):
    with pytest.raises(BadMessage) as raised:
        parse_message(text)
    assert raised.value.why.startswith(why)


def test_good_client_messages():
    assert parse_message('{"type": "history", "room": "#a", "limit": 5}') == (
        "history",
        {"type": "history", "room": "#a", "limit": 5},
    )


class FakeTransport:
    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._sent: list[dict[str, Any]] = []
        self.pings = 0
        self.closed: int | None = None

    @property
    def sent(self) -> list[dict[str, Any]]:
        """
        The messages sent, the current turn ended.
        """
        self._flush()
        return self._sent

    def sendTextMessage(self, text: str) -> None:
        self._sent.append(json.loads(text))

    def ping(self, payload: bytes = b"") -> None:
        self.pings += 1

    def loseConnection(self, code: int = 1000) -> None:
        self.closed = code


class FakeTCP:
    def __init__(self, received: list[dict[str, Any]]) -> None:
        self.paused = False
        self.aborted = False
        self.disconnecting = False
        self.received = received

    def write(self, data: bytes) -> None:
        self.received.extend(json.loads(text) for text in split_messages(data))

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False

    def abortConnection(self) -> None:
        self.aborted = True


class FakeChannel:
    def __init__(self, received: list[dict[str, Any]]) -> None:
        self.transport = FakeTCP(received)

    def setTimeout(self, timeout: object) -> None:
        pass


class FakeRequest:
    def __init__(self, received: list[dict[str, Any]]) -> None:
        self.channel = FakeChannel(received)

    def getClientAddress(self) -> IPv4Address:
        return IPv4Address("TCP", "127.0.0.1", 40000)

    def registerProducer(self, producer: object, streaming: bool) -> None:
        pass


def session(server: ChatHarness) -> tuple[WebSession, FakeTransport, FakeTCP]:
    transport = FakeTransport(server.flush)
    request = FakeRequest(transport._sent)
    web = WebSession(server.server, WebCodec(), request)  # type: ignore[arg-type]
    web.negotiationStarted(transport)  # type: ignore[arg-type]
    web.negotiationFinished()
    return web, transport, request.channel.transport


def test_a_client_that_does_not_answer_pings_is_dropped():
    server = ChatHarness(rate=0)
    web, transport, tcp = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    server.clock.advance(web.pingInterval)
    assert transport.pings == 1
    web.pongReceived(b"keepalive")
    server.clock.advance(web.pingInterval)
    assert transport.pings == 2 and not tcp.aborted
    server.clock.advance(web.pingInterval)
    assert tcp.aborted
    web.connectionLost(Failure(ConnectionError()))
    assert "bob" not in server.realm


def test_no_ping_follows_the_close_frame():
    """
    A client that does not answer the close frame at once gets no keepalive
    ping after it (wsproto refuses one, which logged a traceback).
    """
    server = ChatHarness(rate=0)
    web, transport, _tcp = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    web.textMessageReceived('{"type": "quit"}')
    server.clock.advance(0)
    assert transport.closed == 1000
    server.clock.advance(web.pingInterval)
    assert transport.pings == 0


def test_a_flood_pauses_reading_and_nothing_is_dropped():
    server = ChatHarness(rate=2, burst=2)
    web, transport, tcp = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    for i in range(5):
        web.textMessageReceived(json.dumps({"type": "say", "text": f"line {i}"}))
    assert tcp.paused
    said = lambda: [m["text"] for m in transport.sent if m["type"] == "message"]  # noqa: E731
    assert said() == ["line 0"]
    server.clock.pump([0.5] * 10)
    assert said() == [f"line {i}" for i in range(5)]
    assert not tcp.paused


def test_the_login_timeout():
    server = ChatHarness(loginTimeout=5.0)
    _, transport, tcp = session(server)
    server.clock.advance(5)
    assert transport.sent[-1] == {
        "type": "error",
        "message": "no name chosen within 5 seconds, disconnecting",
    }
    assert transport.closed == 1008
    server.clock.advance(server.config.closeGrace)
    assert tcp.aborted


def test_web_users_are_shown_on_irc_as_coming_from_the_web_door():
    server = ChatHarness(rate=0)
    web, _, _ = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    bob = server.realm.get("bob")
    assert bob is not None
    assert door_of(bob) == "web"


def test_a_line_without_an_id_yet_is_sent_without_one():
    # A cluster node cut off from Redis tells its users a line before the
    # cluster has given it an id: the page must not take two such lines
    # for one.
    from chatserver.core.events import Said
    from chatserver.doors.web.codec import event_message

    assert event_message(Said("#dev", "bob", "hi", 7, 1.0))["id"] == 7
    assert "id" not in event_message(Said("#dev", "bob", "hi", 0, 1.0))
