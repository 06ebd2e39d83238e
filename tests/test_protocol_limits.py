"""
Hard limits on what a client can make the server spend, and bad input.
"""

from twisted.internet.interfaces import ITCPTransport
from twisted.internet.testing import StringTransport
from twisted.logger import LogEvent, globalLogPublisher
from zope.interface import implementer

from chatserver.testing import ChatHarness, LineClient
from chatwire import lines


def pair(**settings):
    server = ChatHarness(**settings)
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    return server, alice, bob


# Long lines


def test_a_line_over_max_line_is_discarded_whole_with_an_error():
    _, alice, bob = pair(maxLine=10)
    bob.send(b"x" * 11 + b"\r\n")
    assert bob.events() == [lines.Error("line too long (over 10 bytes), discarded")]
    assert alice.received() == []
    assert not bob.closing


def test_a_line_of_exactly_max_line_is_delivered():
    _, alice, bob = pair(maxLine=10)
    bob.send(b"x" * 10 + b"\r\n")
    bob.send(b"y" * 10 + b"\n")
    assert alice.events() == [
        lines.Message("bob", "x" * 10),
        lines.Message("bob", "y" * 10),
    ]


def test_lines_after_a_long_line_in_the_same_read_are_kept():
    _, alice, bob = pair(maxLine=10)
    bob.send(b"before\n" + b"x" * 50 + b"\nafter\n")
    assert alice.events() == [
        lines.Message("bob", "before"),
        lines.Message("bob", "after"),
    ]


def test_a_long_line_arriving_in_pieces_is_discarded_up_to_its_end():
    _, alice, bob = pair(maxLine=10)
    for _ in range(100):
        bob.send(b"z" * 7)
    bob.send(b"zz\nnext\n")
    assert bob.events() == [lines.Error("line too long (over 10 bytes), discarded")]
    assert alice.events() == [lines.Message("bob", "next")]
    assert len(bob.protocol.clearLineBuffer()) == 0


# Encoding and telnet


def test_invalid_utf8_gets_an_error_and_the_connection_stays_usable():
    _, alice, bob = pair()
    bob.send(b"caf\xe9\r\n")
    assert bob.events() == [lines.Error("invalid UTF-8, line discarded")]
    bob.send("café")
    assert alice.events() == [lines.Message("bob", "café")]


def test_invalid_utf8_name_gets_an_error():
    client = ChatHarness().connect()
    client.received()
    client.send(b"abc\xc0\r\n")
    client.send(b"\xc3\r\n")
    assert client.events() == [
        lines.Error("invalid UTF-8, line discarded"),
        lines.Error("invalid UTF-8, line discarded"),
    ]


def test_telnet_commands_never_reach_the_chat():
    _, alice, bob = pair()
    bob.send(b"\xff\xfb\x1fhel\xff\xf4lo\xff\xfa\x18\x00xterm\xff\xf0\r\n")
    assert alice.events() == [lines.Message("bob", "hello")]


def test_iac_iac_is_one_ff_byte_which_is_not_utf8():
    _, _, bob = pair()
    bob.send(b"a\xff\xffb\r\n")
    assert bob.events() == [lines.Error("invalid UTF-8, line discarded")]


# Connections


def test_one_connection_over_max_clients_is_told_and_closed():
    server = ChatHarness(maxClients=2)
    server.login("alice")
    server.connect()  # not named yet, but counted
    third = server.connect()
    assert third.events() == [lines.Error("the server is full, please try again later")]
    assert third.closing
    third.lose()
    assert len(server.server.admission.connections) == 2


def test_a_closed_connection_frees_its_place():
    server = ChatHarness(maxClients=1)
    first = server.connect()
    first.lose()
    second = server.connect()
    assert not second.closing


def test_tcp_keepalive_is_turned_on():
    @implementer(ITCPTransport)
    class TCPTransport(StringTransport):  # type: ignore[misc]
        keepAlive = False

        def setTcpKeepAlive(self, enabled):
            self.keepAlive = enabled

    server = ChatHarness()
    client = LineClient.__new__(LineClient)
    client.transport = TCPTransport()  # type: ignore[assignment]
    client.protocol = server.factory.buildProtocol(None)
    client.protocol.makeConnection(client.transport)
    assert client.transport.keepAlive  # type: ignore[attr-defined]


# Rate limiting


def test_a_burst_is_taken_at_once_then_reading_pauses():
    server, alice, bob = pair(rate=5, burst=3)
    server.clock.advance(1)  # the bucket refills after the name line
    bob.send(b"1\n2\n3\n4\n5\n")
    assert [e.text for e in alice.events()] == ["1", "2", "3"]
    assert bob.transport.producerState == "paused"


def test_paused_lines_follow_at_the_rate_in_order_and_none_is_lost():
    server, alice, bob = pair(rate=5, burst=3)
    bob.send(b"".join(b"%d\n" % n for n in range(1, 11)))
    received = [e.text for e in alice.events()]
    for _ in range(20):
        server.clock.advance(0.2)
        received += [e.text for e in alice.events()]
    assert received == [str(n) for n in range(1, 11)]
    assert bob.transport.producerState == "producing"


def test_rate_zero_turns_the_limit_off():
    _, alice, bob = pair(rate=0)
    bob.send(b"".join(b"%d\n" % n for n in range(100)))
    assert len(alice.events()) == 100
    assert bob.transport.producerState == "producing"


# Slow consumers


def test_a_client_that_stops_reading_is_dropped_past_max_buffer():
    server, alice, bob = pair(maxBuffer=1000, rate=0)
    carol = server.login("carol")
    bob.received()
    guard = carol.transport.producer
    guard.pauseProducing()  # what a real transport does once its buffer is full
    for n in range(200):
        alice.send(f"line {n}")
    server.flush()
    assert carol.transport.disconnected  # aborted, not flushed
    carol.lose()
    assert bob.events()[-1] == lines.Left("carol", "Send queue exceeded")
    assert len(bob.received()) == 0


def test_output_stops_once_a_slow_client_is_dropped():
    _server, alice, bob = pair(maxBuffer=100, rate=0)
    bob.transport.producer.pauseProducing()
    alice.send("x" * 200)
    bob.transport.clear()
    alice.send("more")
    assert bob.transport.value() == b""


def test_a_client_that_catches_up_is_kept():
    _, alice, bob = pair(maxBuffer=1000, rate=0)
    guard = bob.transport.producer
    for _ in range(10):
        guard.pauseProducing()
        for n in range(10):
            alice.send(f"line {n}")
        guard.resumeProducing()
    assert not bob.closing


# Shutdown


def test_shutdown_tells_everyone_and_waits_for_every_connection():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    waiting = server.connect()
    for client in (alice, bob, waiting):
        client.received()
    done = server.server.stop()
    notice = lines.Info("The server is shutting down. Goodbye!")
    for client in (alice, bob, waiting):
        assert client.events() == [notice]
        assert client.closing
    fired: list[None] = []
    done.addCallback(fired.append)
    alice.lose()
    bob.lose()
    assert fired == []
    waiting.lose()
    assert fired == [None]


def test_no_leave_notices_during_shutdown():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    server.server.stop()
    alice.received()
    bob.lose()
    assert alice.received() == []


def test_no_new_connections_during_shutdown():
    server = ChatHarness()
    server.server.stop()
    late = server.connect()
    assert late.closing


# Logging


def capture_logs():
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)  # type: ignore[arg-type]
    return events


def test_logins_renames_and_leaves_are_logged_without_message_bodies():
    events = capture_logs()
    try:
        _, _alice, bob = pair()
        bob.send("a secret")
        bob.send("/nick robert")
        bob.send("/quit")
        bob.lose()
    finally:
        globalLogPublisher.removeObserver(events.append)
    kinds = [e.get("chat_event") for e in events if "chat_event" in e]
    assert kinds == [
        "connect",
        "login",
        "join",
        "connect",
        "login",
        "join",
        "rename",
        "leave",
    ]
    assert not any("a secret" in repr(e) for e in events)


def test_message_bodies_are_logged_with_log_messages():
    events = capture_logs()
    try:
        _, _, bob = pair(logMessages=True)
        bob.send("not a secret")
    finally:
        globalLogPublisher.removeObserver(events.append)
    messages = [e for e in events if e.get("chat_event") == "message"]
    assert [m["text"] for m in messages] == ["not a secret"]


def test_rejected_input_is_logged():
    events = capture_logs()
    try:
        _, _, bob = pair()
        bob.send(b"\xe9\r\n")
    finally:
        globalLogPublisher.removeObserver(events.append)
    rejected = [e for e in events if e.get("chat_event") == "rejected"]
    assert rejected[0]["why"] == "invalid UTF-8, line discarded"
