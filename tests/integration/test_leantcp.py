"""
Lean TCP connections, for real: a L{LeanPort} on 127.0.0.1 (and ::1 where
there is one) in the test's reactor, real client sockets, and everything
Twisted does with a connection, with its state kept out of an instance dict.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from typing import Any

from twisted.internet import defer, error, reactor
from twisted.internet.endpoints import serverFromString
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactor
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from chatserver.config import ChatConfig
from chatserver.doors.line.factory import door as line_door
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.limits.gate import AdmittedConnection
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatserver.tuning.leantcp import LeanServer, LeanTCPReactor, lean_reactor
from chatserver.tuning.leantls import LeanTLSProtocol
from tests.test_leantls import pem as new_pem


class Echo(Protocol):
    """
    Echoes what it gets, a lot of it, and says when it is gone.
    """

    transport: Any

    def __init__(self) -> None:
        self.received = b""
        self.reason: Failure | None = None
        self.lost: defer.Deferred[None] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if data.endswith(b"\n"):
            self.transport.write(data * 1000)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class LeanTCPTests(TestCase):
    timeout = 20

    def listen(self, description: str) -> defer.Deferred[Any]:
        self.protocols: list[Echo] = []

        def build() -> Echo:
            self.protocols.append(Echo())
            return self.protocols[-1]

        endpoint = serverFromString(lean_reactor(reactor), description)

        def stopLater(port: Any) -> Any:
            self.addCleanup(port.stopListening)
            return port

        listening: defer.Deferred[Any] = endpoint.listen(Factory.forProtocol(build))
        return listening.addCallback(stopLater)

    def connect(self, family: int, host: str, port: int) -> socket.socket:
        client = socket.socket(family, socket.SOCK_STREAM)
        client.connect((host, port))
        client.setblocking(False)
        self.addCleanup(client.close)
        return client

    @defer.inlineCallbacks
    def exchange(self, family: int, host: str, description: str) -> Any:
        port = yield self.listen(description)
        client = self.connect(family, host, port.getHost().port)
        yield self.until(lambda: self.protocols)
        server = self.protocols[0]
        transport = server.transport
        self.assertIsInstance(transport, LeanServer)
        client.sendall(b"ping\n")
        yield self.until(lambda: server.received == b"ping\n")
        echoed = bytearray()

        def read() -> bool:
            with contextlib.suppress(BlockingIOError):
                echoed.extend(client.recv(65536))
            return len(echoed) == 5000

        yield self.until(read)
        self.assertEqual(bytes(echoed), b"ping\n" * 1000)
        self.assertEqual(vars(transport), {})
        self.assertEqual(transport.getPeer().port, client.getsockname()[1])
        self.assertEqual(transport.fileno(), transport.getHandle().fileno())
        self.assertEqual(
            repr(transport),
            f"<Echo #{transport.sessionno} on {port.getHost().port}>",
        )
        transport.pauseProducing()
        transport.resumeProducing()
        transport.setTcpKeepAlive(True)
        transport.loseConnection()
        yield server.lost
        assert server.reason is not None
        self.assertTrue(server.reason.check(error.ConnectionDone))
        self.assertEqual(transport.fileno(), -1)
        self.assertEqual(
            repr(transport),
            f"<closed connection #{transport.sessionno} on {port.getHost().port}>",
        )
        self.assertEqual(vars(transport), {})
        return transport

    def until(self, condition: Any) -> defer.Deferred[None]:
        @defer.inlineCallbacks
        def poll() -> Any:
            for _ in range(1000):
                if condition():
                    return
                yield defer_later(0.005)
            raise AssertionError("timed out")

        return poll()

    def test_ipv4_connection_lives_and_closes_without_an_instance_dict(self) -> Any:
        return self.exchange(socket.AF_INET, "127.0.0.1", "tcp:0:interface=127.0.0.1")

    def test_ipv6_connection_lives_and_closes_without_an_instance_dict(self) -> Any:
        if not socket.has_ipv6:
            raise self.skipTest("no IPv6")
        try:
            probe = socket.socket(socket.AF_INET6)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            raise self.skipTest("no ::1 here")  # noqa: B904
        return self.exchange(socket.AF_INET6, "::1", "tcp6:0:interface=\\:\\:1")

    @defer.inlineCallbacks
    def test_an_aborted_connection_keeps_only_its_stand_in_methods_in_a_dict(
        self,
    ) -> Any:
        port = yield self.listen("tcp:0:interface=127.0.0.1")
        self.connect(socket.AF_INET, "127.0.0.1", port.getHost().port)
        yield self.until(lambda: self.protocols)
        transport = self.protocols[0].transport
        transport.write(b"x" * 10_000_000)  # more than the socket buffers hold
        transport.abortConnection()
        yield self.protocols[0].lost
        assert self.protocols[0].reason is not None
        self.assertTrue(self.protocols[0].reason.check(error.ConnectionAborted))
        # abortConnection replaces the two methods on the instance, for a
        # connection on its way out.
        self.assertLessEqual(set(vars(transport)), {"doRead", "doWrite"})

    @defer.inlineCallbacks
    def test_the_chat_service_listens_with_lean_ports(self) -> Any:
        service = ChatService(
            ChatServer(ChatConfig()), [(line_door, "tcp:0:interface=127.0.0.1")]
        )
        service.startService()
        self.addCleanup(service.stopService)
        yield self.until(lambda: service.addresses)
        port = int(service.addresses[0].rsplit(":", 1)[1])
        self.connect(socket.AF_INET, "127.0.0.1", port)
        yield self.until(lambda: service.server.admission.connections)
        (gate,) = service.server.admission.connections
        assert isinstance(gate, AdmittedConnection)
        connection = gate.wrappedProtocol
        assert isinstance(connection, ChatProtocol)
        self.assertIsInstance(connection.transport, LeanServer)
        self.assertEqual(vars(connection.transport), {})

    @defer.inlineCallbacks
    def test_the_chat_service_listens_for_tls_with_lean_tls_connections(
        self,
    ) -> Any:
        """
        An C{ssl:} listener gets lean ports too, with Twisted's TLS that
        seals each write at once (issue 25), and a TLS client chats on it.
        """
        pem = FilePath(self.mktemp())
        pem.setContent(new_pem())
        service = ChatService(
            ChatServer(ChatConfig()),
            [(line_door, f"ssl:0:interface=127.0.0.1:privateKey={pem.path}")],
        )
        service.startService()
        self.addCleanup(service.stopService)
        yield self.until(lambda: service.addresses)
        port = int(service.addresses[0].rsplit(":", 1)[1])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        client = context.wrap_bio(incoming, outgoing)
        raw = self.connect(socket.AF_INET, "127.0.0.1", port)
        greeting = bytearray()

        def talk() -> bool:
            # The handshake and the greeting, over a non-blocking socket.
            with contextlib.suppress(ssl.SSLWantReadError):
                if not greeting:
                    client.do_handshake()
                greeting.extend(client.read(65536))
            if outgoing.pending:
                raw.sendall(outgoing.read())
            with contextlib.suppress(BlockingIOError):
                incoming.write(raw.recv(65536))
            return b"name:" in greeting

        yield self.until(talk)
        (gate,) = service.server.admission.connections
        assert isinstance(gate, AdmittedConnection)
        self.assertIsInstance(gate.transport, LeanTLSProtocol)
        self.assertIsInstance(gate.transport.transport, LeanServer)
        self.assertIsInstance(gate.transport.transport, LeanServer)


def defer_later(seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


def test_other_reactors_are_left_as_they_are():
    memory = MemoryReactor()
    assert lean_reactor(memory) is memory


def test_the_lean_reactor_provides_what_the_reactor_provides():
    from twisted.internet.interfaces import IReactorSSL, IReactorTCP, IReactorTime

    wrapped = lean_reactor(reactor)
    assert isinstance(wrapped, LeanTCPReactor)
    for interface in (IReactorTCP, IReactorSSL, IReactorTime):
        assert interface.providedBy(wrapped)
    assert wrapped.seconds() > 0
