"""
The client's protocol and its reconnecting connection, without sockets.
"""

from __future__ import annotations

import pytest
from twisted.internet import error
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor
from twisted.python.failure import Failure
from zope.interface import implementer

from chatclient.network import (
    ChatClientProtocol,
    Connection,
    IConnectionEvents,
    describe_connect_failure,
    describe_loss,
    endpoint_maker,
    load_trust_root,
)
from chatwire import lines
from tests.client.certs import self_signed
from tests.client.fakes import FakeEndpoint


@implementer(IConnectionEvents)
class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def connecting(self, host: str, port: int) -> None:
        self.calls.append(("connecting", host, port))

    def connectFailed(self, message: str) -> None:
        self.calls.append(("failed", message))

    def retryScheduled(self, delay: float) -> None:
        self.calls.append(("retry", delay))

    def connectionMade(self) -> None:
        self.calls.append(("made",))

    def lineReceived(self, event: lines.Event) -> None:
        self.calls.append(("line", event))

    def badLine(self, line: bytes, why: str) -> None:
        self.calls.append(("bad", line))

    def connectionLost(self, message: str) -> None:
        self.calls.append(("lost", message))

    def tlsFailed(self, message: str) -> None:
        self.calls.append(("tls", message))

    def take(self) -> list[tuple[object, ...]]:
        calls, self.calls = self.calls, []
        return calls


def policy(attempts: int) -> float:
    return 2.0 * attempts


def build() -> tuple[Connection, Recorder, FakeEndpoint, Clock]:
    events, endpoint, clock = Recorder(), FakeEndpoint(), Clock()
    connection = Connection(events, clock, endpoint.make, policy)
    return connection, events, endpoint, clock


def test_lines_become_events() -> None:
    connection, events, endpoint, _ = build()
    connection.open("example.org", 8123)
    assert endpoint.addresses == [("example.org", 8123)]
    endpoint.last.succeed()
    assert events.take() == [("connecting", "example.org", 8123), ("made",)]
    data = lines.encode(lines.Info("hi")) + lines.encode(lines.Message("bob", "yo"))
    protocol = endpoint.last.protocol
    assert protocol is not None
    for i in range(len(data)):  # byte by byte
        protocol.dataReceived(data[i : i + 1])
    protocol.dataReceived(b"nonsense\r\n")
    assert events.take() == [
        ("line", lines.Info("hi")),
        ("line", lines.Message("bob", "yo")),
        ("bad", b"nonsense"),
    ]


def test_send_text() -> None:
    connection, _, endpoint, _ = build()
    assert not connection.sendText("early")
    connection.open("h", 1)
    endpoint.last.succeed()
    assert connection.sendText("héllo")
    assert endpoint.last.transport.value() == "héllo\r\n".encode()


def test_refused_then_retry() -> None:
    connection, events, endpoint, clock = build()
    connection.open("127.0.0.1", 8123)
    endpoint.last.refuse()
    assert events.take() == [
        ("connecting", "127.0.0.1", 8123),
        ("failed", "cannot reach 127.0.0.1:8123, is the server running?"),
        ("retry", 2.0),
    ]
    clock.advance(1.9)
    assert len(endpoint.attempts) == 1
    clock.advance(0.1)
    assert len(endpoint.attempts) == 2
    endpoint.last.refuse()
    assert events.take()[-1] == ("retry", 4.0)  # back-off grows
    clock.advance(4)
    endpoint.last.succeed()
    assert events.take()[-1] == ("made",)


def test_lost_then_reconnect() -> None:
    connection, events, endpoint, clock = build()
    connection.open("h", 1)
    endpoint.last.succeed()
    events.take()
    endpoint.last.lose()
    assert connection.protocol is None
    assert events.take() == [("lost", "the connection was lost"), ("retry", 2.0)]
    clock.advance(2)
    assert len(endpoint.attempts) == 2
    endpoint.last.succeed()
    assert connection.protocol is not None


def test_reconnect_now() -> None:
    connection, _, endpoint, clock = build()
    connection.open("h", 1)
    endpoint.last.refuse()
    connection.reconnectNow()
    assert len(endpoint.attempts) == 2
    assert clock.getDelayedCalls() == []
    endpoint.last.succeed()
    assert connection.protocol is not None
    connection.reconnectNow()  # connected: nothing to do
    assert len(endpoint.attempts) == 2


def test_close_is_quiet() -> None:
    connection, events, endpoint, clock = build()
    connection.open("h", 1)
    endpoint.last.succeed()
    events.take()
    closed = connection.close()
    assert endpoint.last.transport.disconnecting
    endpoint.last.lose()
    assert events.take() == []
    assert closed.called
    assert not connection.active
    assert clock.getDelayedCalls() == []


def test_close_while_connecting_and_waiting() -> None:
    connection, events, endpoint, clock = build()
    connection.open("h", 1)
    closed = connection.close()
    assert closed.called
    assert ("failed",) not in [c[:1] for c in events.take()]
    connection.open("h", 1)
    endpoint.last.refuse()
    assert connection.close().called
    assert clock.getDelayedCalls() == []
    assert connection.close().called  # closing twice is fine


def test_open_elsewhere_closes_first() -> None:
    connection, _, endpoint, _ = build()
    connection.open("a", 1)
    endpoint.last.succeed()
    connection.open("a", 1)
    assert len(endpoint.attempts) == 1
    connection.open("b", 2)
    endpoint.attempts[0].lose()
    assert endpoint.addresses == [("a", 1), ("b", 2)]
    assert (connection.host, connection.port) == ("b", 2)


def test_descriptions() -> None:
    assert (
        describe_connect_failure("x", 1, Failure(error.DNSLookupError("x")))
        == "cannot find the host x"
    )
    assert describe_connect_failure("x", 1, Failure(error.TimeoutError())) == (
        "x:1 did not answer"
    )
    assert describe_connect_failure("x", 1, Failure(ValueError("odd"))) == (
        "cannot connect to x:1: odd"
    )
    assert describe_loss(Failure(error.ConnectionDone())) == (
        "the server closed the connection"
    )
    assert describe_loss(Failure(ValueError("odd"))) == "odd"


def test_a_burst_is_handled_a_slice_per_turn() -> None:
    connection, events, endpoint, clock = build()
    connection.open("h", 1)
    transport = endpoint.last.succeed()
    events.take()
    protocol = endpoint.last.protocol
    assert protocol is not None
    perTurn = ChatClientProtocol.LINES_PER_TURN
    protocol.dataReceived(
        b"".join(lines.encode(lines.Info(str(i))) for i in range(perTurn * 2 + 5))
    )
    assert len(events.take()) == perTurn
    assert transport.producerState == "paused"
    protocol.dataReceived(lines.encode(lines.Info("more")))  # queued behind
    assert events.take() == []
    assert len(clock.getDelayedCalls()) == 1  # the next slice, next turn
    clock.advance(0)
    taken = events.take()
    assert len(taken) == perTurn + 6
    last = lines.Info(str(perTurn * 2 + 4))
    assert [call[1] for call in taken[-2:]] == [last, lines.Info("more")]
    assert transport.producerState == "producing"
    assert clock.getDelayedCalls() == []


def test_lines_pending_at_the_end_are_still_handled() -> None:
    connection, events, endpoint, _ = build()
    connection.open("h", 1)
    endpoint.last.succeed()
    events.take()
    protocol = endpoint.last.protocol
    assert protocol is not None
    count = ChatClientProtocol.LINES_PER_TURN + 1
    protocol.dataReceived(b"-!- x\r\n" * count)
    endpoint.last.lose()
    taken = events.take()
    assert len([c for c in taken if c[0] == "line"]) == count
    assert taken[-2:] == [("lost", "the connection was lost"), ("retry", 2.0)]


def test_a_line_too_long_ends_the_connection() -> None:
    connection, events, endpoint, _ = build()
    connection.open("h", 1)
    transport = endpoint.last.succeed()
    events.take()
    protocol = endpoint.last.protocol
    assert protocol is not None
    protocol.dataReceived(b"x" * (ChatClientProtocol.MAX_LENGTH + 1))
    assert events.take() == [("bad", b"x" * 80)]
    assert transport.disconnecting


def ssl_error(reason: str) -> BaseException:
    from OpenSSL import SSL

    return SSL.Error([("SSL routines", "", reason)])


def host_mismatch() -> BaseException:
    from service_identity import VerificationError
    from service_identity.exceptions import DNSMismatch
    from service_identity.hazmat import DNS_ID

    return VerificationError(errors=[DNSMismatch(mismatched_id=DNS_ID("x.example"))])


def test_open_over_tls_asks_the_endpoint_for_tls() -> None:
    connection, _, endpoint, _ = build()
    connection.open("h", 1, tls=True)
    assert endpoint.tls == [True]
    assert connection.tls
    endpoint.last.succeed()
    # The same host and port without TLS is another server: reopened.
    connection.open("h", 1)
    endpoint.last.lose()
    assert endpoint.tls == [True, False]
    assert not connection.tls


def test_an_untrusted_certificate_stops_the_connection() -> None:
    connection, events, endpoint, clock = build()
    connection.open("chat.example.org", 8124, tls=True)
    endpoint.last.succeed()
    events.take()
    endpoint.last.lose(ssl_error("certificate verify failed"))
    assert events.take() == [
        (
            "tls",
            "the certificate of chat.example.org:8124 is not trusted "
            "(certificate verify failed)",
        )
    ]
    # Not retried: no wait, no new attempt, however long.
    assert not connection.active
    clock.advance(3600)
    assert len(endpoint.attempts) == 1
    assert clock.getDelayedCalls() == []
    # Connecting again is up to the user.
    connection.open("chat.example.org", 8124, tls=True)
    assert len(endpoint.attempts) == 2


def test_a_host_name_mismatch_stops_the_connection() -> None:
    connection, events, endpoint, clock = build()
    connection.open("127.0.0.1", 8124, tls=True)
    endpoint.last.succeed()
    events.take()
    endpoint.last.lose(host_mismatch())
    assert events.take() == [
        (
            "tls",
            "the certificate of 127.0.0.1:8124 is not valid for the host name "
            "127.0.0.1, so it was not trusted",
        )
    ]
    assert not connection.active
    assert clock.getDelayedCalls() == []


def test_no_tls_on_the_port() -> None:
    connection, events, endpoint, _ = build()
    connection.open("h", 1, tls=True)
    endpoint.last.succeed()
    events.take()
    endpoint.last.lose(ssl_error("wrong version number"))
    assert events.take() == [
        (
            "tls",
            "the TLS handshake with h:1 failed (wrong version number), "
            "is it a TLS port?",
        )
    ]


def test_a_tls_error_after_the_handshake_is_a_lost_connection() -> None:
    # Lines arrived, so the certificate was accepted: reconnect as usual.
    connection, events, endpoint, _ = build()
    connection.open("h", 1, tls=True)
    endpoint.last.succeed()
    endpoint.last.receive(lines.Info("hi"))
    events.take()
    endpoint.last.lose(ssl_error("bad record mac"))
    assert events.take() == [
        ("lost", "TLS error (bad record mac)"),
        ("retry", 2.0),
    ]
    assert connection.active


def test_trust_roots_from_pem_files() -> None:
    one, two = self_signed("one").certificate, self_signed("two").certificate
    assert load_trust_root(one) is not None
    # A bundle: each certificate of it is trusted.
    both = load_trust_root(b"# my CAs\n" + one + two)
    assert len(both._caCerts) == 2  # type: ignore[attr-defined]
    # Only the certificates of a server.pem (never mind its key).
    key_and_certificate = load_trust_root(b"-----BEGIN PRIVATE KEY-----\nxx\n" + one)
    assert len(key_and_certificate._caCerts) == 1  # type: ignore[attr-defined]
    for bad in (b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nxx"):
        with pytest.raises(ValueError):
            load_trust_root(bad)


def test_endpoints_are_wrapped_in_tls_when_asked() -> None:
    reactor = MemoryReactor()
    make = endpoint_maker(load_trust_root(self_signed("h").certificate), reactor)
    assert isinstance(make("h", 1, False), HostnameEndpoint)
    secure = make("h", 1, True)
    assert not isinstance(secure, HostnameEndpoint)
    assert isinstance(secure._wrappedEndpoint, HostnameEndpoint)  # type: ignore[attr-defined]
