"""
Lean TLS connections over real sockets (L{chatserver.tuning.leantls}):
once nothing waits, records go straight from OpenSSL to the socket; when
the socket is full the rest goes through Twisted's buffer, in order, with
the producer paused, and straight to the socket again once that is sent.
A client speaks TLS through the C{ssl} module over a non-blocking socket.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from typing import Any

from twisted.internet import defer, error, reactor
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from chatserver.tuning.leantcp import LeanServer, lean_reactor
from chatserver.tuning.leantls import LeanTLSFactory, LeanTLSProtocol
from tests.test_leantls import context


class Kept(Protocol):
    """
    Keeps what it gets and says when it is gone.
    """

    transport: Any

    def __init__(self) -> None:
        self.received = b""
        self.reason: Failure | None = None
        self.lost: defer.Deferred[None] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


@implementer(IPushProducer)
class Producer:
    """
    Remembers whether it was asked to pause.
    """

    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False

    def stopProducing(self) -> None:
        pass


class Client:
    """
    A TLS client over a non-blocking socket, moved along by L{pump}.
    """

    def __init__(self, port: int) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small window, so that the server's socket fills soon.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.connect(("127.0.0.1", port))
        self.socket.setblocking(False)
        settings = ssl.create_default_context()
        settings.check_hostname = False
        settings.verify_mode = ssl.CERT_NONE
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = settings.wrap_bio(self.incoming, self.outgoing)
        self.handshaken = False
        self.received = bytearray()
        self.closed = False
        self.reading = True

    def pump(self) -> None:
        if not self.handshaken:
            try:
                self.tls.do_handshake()
                self.handshaken = True
            except ssl.SSLWantReadError:
                pass
        if self.outgoing.pending:
            self.socket.sendall(self.outgoing.read())
        if not self.reading:
            return
        with contextlib.suppress(BlockingIOError):
            data = self.socket.recv(1 << 20)
            if data:
                self.incoming.write(data)
            else:
                self.incoming.write_eof()
        while self.handshaken and not self.closed:
            try:
                plain = self.tls.read(1 << 20)
            except (ssl.SSLWantReadError, ssl.SSLEOFError):
                break
            if not plain:
                self.closed = True
            self.received.extend(plain)
        if self.outgoing.pending:
            self.socket.sendall(self.outgoing.read())


class LeanTLSSocketTests(TestCase):
    timeout = 30

    @defer.inlineCallbacks
    def connected(self) -> Any:
        """
        Listen, connect a L{Client}, and handshake.

        @return: A L{Deferred} firing with the client and the server's
            protocol.
        """
        protocols: list[Kept] = []

        def build() -> Kept:
            protocols.append(Kept())
            return protocols[-1]

        endpoint = serverFromString(lean_reactor(reactor), "tcp:0:interface=127.0.0.1")
        port = yield endpoint.listen(
            LeanTLSFactory(context(), Factory.forProtocol(build))
        )
        self.addCleanup(port.stopListening)
        client = Client(port.getHost().port)
        self.addCleanup(client.socket.close)
        yield self.until(lambda: protocols)
        server = protocols[0]
        tls: Any = server.transport

        def handshaken() -> bool:
            client.pump()
            return client.handshaken and tls._handshakeDone

        yield self.until(handshaken)
        return client, server

    def until(self, condition: Any) -> defer.Deferred[None]:
        done: defer.Deferred[None] = defer.Deferred()

        def check() -> None:
            if condition():
                done.callback(None)
            else:
                reactor.callLater(0.001, check)

        check()
        return done

    @defer.inlineCallbacks
    def test_writes_go_straight_to_the_socket_when_nothing_waits(self) -> Any:
        client, server = yield self.connected()
        tls = server.transport
        self.assertIsInstance(tls, LeanTLSProtocol)
        self.assertIsInstance(tls.transport, LeanServer)
        tls.write(b"hello\r\n")
        self.assertTrue(tls._wire.direct)
        self.assertEqual(tls._outgoing.pending, 0)

        def read() -> bool:
            client.pump()
            return bytes(client.received) == b"hello\r\n"

        yield self.until(read)

    @defer.inlineCallbacks
    def test_a_full_socket_sends_the_rest_in_order_through_twisteds_buffer(
        self,
    ) -> Any:
        client, server = yield self.connected()
        tls = server.transport
        producer = Producer()
        tls.registerProducer(producer, True)
        client.reading = False
        expected = bytearray()
        number = 0
        while not tls.transport.dataBuffer and not tls.transport._tempDataLen:
            line = b"%08d" % number + b"x" * 20000 + b"\r\n"
            expected.extend(line)
            tls.write(line)
            number += 1
        # The socket took what it could; the rest waits in Twisted's buffer,
        # and so does what is written next, after it.
        self.assertFalse(tls._wire.direct)
        for more in range(number, number + 100):
            line = b"%08d" % more + b"y" * 3000 + b"\r\n"
            expected.extend(line)
            tls.write(line)
        self.assertTrue(producer.paused)
        client.reading = True

        def read() -> bool:
            client.pump()
            return len(client.received) >= len(expected)

        yield self.until(read)
        self.assertEqual(bytes(client.received), bytes(expected))
        self.assertFalse(producer.paused)
        tls.write(b"after\r\n")
        self.assertTrue(tls._wire.direct)

        def after() -> bool:
            client.pump()
            return bool(client.received.endswith(b"after\r\n"))

        yield self.until(after)

    @defer.inlineCallbacks
    def test_goodbye_follows_what_was_written(self) -> Any:
        client, server = yield self.connected()
        tls = server.transport
        tls.write(b"last words\r\n")
        self.assertTrue(tls._wire.direct)
        tls.loseConnection()

        def closed() -> bool:
            client.pump()
            return bool(client.closed)

        yield self.until(closed)
        self.assertEqual(bytes(client.received), b"last words\r\n")
        client.socket.close()
        yield server.lost
        self.assertIsNotNone(server.reason)
        self.assertIsNone(tls._wire)

    @defer.inlineCallbacks
    def test_what_the_client_sends_arrives(self) -> Any:
        client, server = yield self.connected()
        server.transport.write(b"welcome\r\n")
        client.tls.write(b"hello from the client\r\n")

        def arrived() -> bool:
            client.pump()
            return bool(server.received == b"hello from the client\r\n")

        yield self.until(arrived)

    @defer.inlineCallbacks
    def test_a_peer_that_reset_loses_the_connection(self) -> Any:
        client, server = yield self.connected()
        tls = server.transport
        tls.write(b"hello\r\n")
        self.assertTrue(tls._wire.direct)
        client.socket.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        client.socket.close()
        # The failed send is no exception out of write.
        tls.write(b"anyone there?\r\n" * 1000)
        yield server.lost
        assert server.reason is not None
        self.assertTrue(server.reason.check(error.ConnectionLost))
