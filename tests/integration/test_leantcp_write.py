"""
How a lean TCP connection writes: straight to its socket when nothing waits
for it, through Twisted's buffer otherwise, with Twisted's producer,
close and abort contract kept, and TLS left on Twisted's own path.

Most tests drive a L{LeanServer} on one end of a real socket pair in a
L{MemoryReactorClock}, calling C{doWrite} where the reactor would; where a
send must fail or take only part, the socket's C{send} follows a script.
The last ones run real connections over 127.0.0.1 in the test's reactor.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys
from typing import Any

from twisted.internet import defer, error, reactor, ssl
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from chatserver.limits.flow import SendQueueGuard
from chatserver.tuning.leantcp import LeanServer, lean_reactor
from tests.client.certs import self_signed
from tests.integration.test_leantcp import defer_later


class ScriptedSocket:
    """
    A real socket whose C{send} does what the test says, a step per call:
    an C{int} sends at most that many bytes, an L{OSError} is raised; once
    the script is done it sends as the socket does.

    @ivar asked: What each call of C{send} was asked to send.
    @ivar callers: Which function called C{send}, each time:
        C{LeanServer.write} for the direct path, C{untilConcludes} for
        Twisted's C{doWrite} (through C{Connection.writeSomeData}).
    """

    def __init__(self, real: socket.socket, *script: int | OSError) -> None:
        self.real = real
        self.script = list(script)
        self.asked: list[bytes] = []
        self.callers: list[str] = []
        self.peer: socket.socket | None = None

    def send(self, data: bytes) -> int:
        self.asked.append(bytes(data))
        self.callers.append(sys._getframe(1).f_code.co_qualname)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, OSError):
            raise step
        if isinstance(step, int):
            data = data[:step]
        return self.real.send(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Recorder(Protocol):
    """
    Keeps what it is told about its connection.
    """

    def __init__(self) -> None:
        self.reason: Failure | None = None

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason


@implementer(IPushProducer)
class PushProducer:
    """
    Records what its consumer asks of it.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pauseProducing(self) -> None:
        self.calls.append("pause")

    def resumeProducing(self) -> None:
        self.calls.append("resume")

    def stopProducing(self) -> None:
        self.calls.append("stop")


class PullProducer(PushProducer):
    """
    A pull producer: asked for more by C{resumeProducing}.
    """


def connection(*script: int | OSError, buffer: int | None = None) -> Any:
    """
    A L{LeanServer} on one end of a socket pair, in a memory reactor.

    @param script: What its socket's C{send} does (L{ScriptedSocket}).
    @param buffer: The send buffer size to ask for, if not the default.
    @return: The transport, its protocol, its socket, the other end and the
        reactor.
    """
    ours, theirs = socket.socketpair()
    if buffer is not None:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
    theirs.setblocking(False)
    sock = ScriptedSocket(ours, *script)
    sock.peer = theirs  # closed if collected: a test may not keep it
    clock = MemoryReactorClock()
    protocol = Recorder()
    server: Any = None
    transport = LeanServer(sock, protocol, ("127.0.0.1", 5000), server, 1, clock)  # type: ignore[arg-type]
    protocol.makeConnection(transport)
    return transport, protocol, sock, theirs, clock


def received(peer: socket.socket) -> bytes:
    """
    @return: Everything C{peer} can read now.
    """
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := peer.recv(1 << 20):
            data += chunk
    return data


def waiting(transport: LeanServer) -> int:
    """
    @return: How many bytes wait in Twisted's buffers.
    """
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


# Writing when nothing waits


def test_a_write_when_nothing_waits_is_sent_at_once():
    transport, _, sock, peer, clock = connection()
    transport.write(b"hello\r\n")
    assert received(peer) == b"hello\r\n"
    assert sock.asked == [b"hello\r\n"]
    assert sock.callers == ["LeanServer.write"]
    assert waiting(transport) == 0
    assert transport not in clock.getWriters()


def test_what_a_partial_send_leaves_waits_and_starts_writing():
    transport, _, _, peer, clock = connection(3)
    transport.write(b"abcdefgh")
    assert received(peer) == b"abc"
    assert waiting(transport) == 5
    assert transport in clock.getWriters()
    transport.doWrite()
    assert received(peer) == b"defgh"
    assert transport not in clock.getWriters()


def test_a_write_behind_waiting_data_is_buffered_not_sent():
    transport, _, sock, peer, _ = connection(3)
    transport.write(b"abcdefgh")
    transport.write(b"XYZ")
    assert sock.asked == [b"abcdefgh"]
    transport.doWrite()
    assert received(peer) == b"abcdefghXYZ"


def test_a_write_after_the_buffer_drained_is_sent_at_once_again():
    transport, _, sock, peer, _ = connection(3)
    transport.write(b"abcdefgh")
    transport.doWrite()
    transport.write(b"next")
    assert sock.asked[-1] == b"next"
    assert received(peer) == b"abcdefghnext"


def test_would_block_buffers_everything_and_starts_writing():
    transport, protocol, _, peer, clock = connection(
        BlockingIOError(errno.EAGAIN, "try again")
    )
    transport.write(b"hello")
    assert received(peer) == b""
    assert waiting(transport) == 5
    assert transport in clock.getWriters()
    transport.doWrite()
    assert received(peer) == b"hello"
    assert protocol.reason is None


def test_no_buffer_space_buffers_everything_as_twisted_does():
    transport, protocol, _, peer, _ = connection(OSError(errno.ENOBUFS, "no space"))
    transport.write(b"hello")
    assert waiting(transport) == 5
    transport.doWrite()
    assert received(peer) == b"hello"
    assert protocol.reason is None


def test_write_refuses_text_as_twisted_does():
    transport, _, sock, _, _ = connection()
    try:
        transport.write("text")
    except TypeError:
        pass
    else:
        raise AssertionError("text was accepted")
    assert sock.asked == []


# Write sequence


def test_write_sequence_when_nothing_waits_is_one_send():
    transport, _, sock, peer, clock = connection()
    transport.writeSequence([b"line", b"\r\n", b"more\r\n"])
    assert sock.asked == [b"line\r\nmore\r\n"]
    assert received(peer) == b"line\r\nmore\r\n"
    assert transport not in clock.getWriters()


def test_write_sequence_behind_waiting_data_is_buffered_in_order():
    transport, _, sock, peer, _ = connection(2)
    transport.write(b"abcd")
    transport.writeSequence([b"ef", b"gh"])
    assert sock.asked == [b"abcd"]
    transport.doWrite()
    assert received(peer) == b"abcdefgh"


# Losing the connection


def test_a_reset_during_a_write_loses_the_connection_in_the_next_turn():
    transport, protocol, _, _, clock = connection(
        ConnectionResetError(errno.ECONNRESET, "reset")
    )
    transport.write(b"hello")  # no exception out of write
    assert protocol.reason is None  # not from inside write
    clock.advance(0)
    assert protocol.reason is not None
    assert protocol.reason.check(error.ConnectionLost)


def test_a_broken_pipe_during_a_write_loses_the_connection():
    transport, protocol, _, _, clock = connection(
        BrokenPipeError(errno.EPIPE, "broken pipe")
    )
    transport.write(b"hello")
    clock.advance(0)
    assert protocol.reason is not None
    assert protocol.reason.check(error.ConnectionLost)


def test_after_a_failed_send_the_connection_neither_sends_nor_reads():
    transport, _, sock, _, clock = connection(
        ConnectionResetError(errno.ECONNRESET, "reset")
    )
    transport.write(b"hello")
    transport.write(b"more")
    assert sock.asked == [b"hello"]
    assert transport not in clock.getReaders()


def test_a_close_while_data_waits_sends_it_all_then_closes():
    transport, protocol, _, peer, _ = connection(3)
    transport.write(b"abcdefgh")
    transport.loseConnection()
    assert protocol.reason is None
    result = transport.doWrite()
    assert received(peer) == b"abcdefgh"
    assert isinstance(result, error.ConnectionDone)  # the reactor closes it


def test_an_abort_drops_what_waits():
    transport, protocol, _, peer, clock = connection(3)
    transport.write(b"abcdefgh")
    transport.abortConnection()
    clock.advance(0)
    assert received(peer) == b"abc"
    assert protocol.reason is not None
    assert protocol.reason.check(error.ConnectionAborted)


def test_a_write_after_an_abort_is_not_sent():
    transport, _, sock, peer, _ = connection()
    transport.abortConnection()
    transport.write(b"late")
    assert sock.asked == []
    assert received(peer) == b""


def test_a_write_after_a_close_is_not_sent_at_once():
    transport, _, sock, _, _ = connection()
    transport.loseConnection()
    transport.write(b"late")
    assert sock.asked == []


# Producers


def test_the_producer_is_paused_when_what_waits_exceeds_the_buffer_size():
    transport, _, _, _, _ = connection(BlockingIOError(errno.EAGAIN, "try again"))
    producer = PushProducer()
    transport.registerProducer(producer, True)
    transport.write(b"x" * (transport.bufferSize + 1))
    assert producer.calls == ["pause"]
    assert transport.producerPaused


def test_once_drained_the_producer_is_resumed_and_writes_go_straight_out():
    transport, _, sock, peer, _ = connection(BlockingIOError(errno.EAGAIN, "again"))
    producer = PushProducer()
    transport.registerProducer(producer, True)
    transport.write(b"x" * (transport.bufferSize + 1))
    while waiting(transport):
        transport.doWrite()
        received(peer)
    assert producer.calls == ["pause", "resume"]
    transport.write(b"now")
    assert sock.asked[-1] == b"now"
    assert received(peer) == b"now"


def test_a_direct_send_does_not_pause_the_producer():
    transport, _, _, _, _ = connection()
    producer = PushProducer()
    transport.registerProducer(producer, True)
    transport.write(b"x" * (transport.bufferSize + 1))
    assert producer.calls == []


def test_a_pull_producer_is_asked_for_more_by_twisteds_write_path():
    transport, _, sock, peer, _ = connection()
    producer = PullProducer()
    transport.registerProducer(producer, False)  # asks it at once
    transport.write(b"chunk")
    assert sock.asked == []
    transport.doWrite()
    assert received(peer) == b"chunk"
    assert producer.calls == ["resume", "resume"]


def test_the_send_queue_guard_drops_a_client_that_does_not_read():
    # Real sockets: the other end never reads, so the kernel's buffers fill,
    # sends take less and less, and what is left piles up in Twisted's buffer.
    transport, _, _, _, _ = connection(buffer=4096)

    class Owner:
        exceeded = 0

        def sendQueueExceeded(self) -> None:
            self.exceeded += 1

    owner = Owner()
    guard = SendQueueGuard(65536, owner)
    transport.registerProducer(guard, True)
    line = b"y" * 4000 + b"\r\n"
    for _ in range(100):
        transport.write(line)
        guard.wrote(len(line))
    assert guard.paused
    assert owner.exceeded == 1


# TLS


class TLSEcho(Protocol):
    """
    Starts TLS as a server and echoes what it gets, through a socket that
    notes who sends (L{ScriptedSocket}), and says when it is gone.
    """

    transport: Any

    def __init__(self, options: Any) -> None:
        self.options = options
        self.lost: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        self.transport.socket = ScriptedSocket(self.transport.socket)
        self.transport.startTLS(self.options)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class TLSClient(Protocol):
    """
    Starts TLS as a client, sends a line, and fires C{echoed} once it is
    back.
    """

    transport: Any

    def __init__(self) -> None:
        self.data = b""
        self.echoed: defer.Deferred[bytes] = defer.Deferred()

    def connectionMade(self) -> None:
        self.transport.startTLS(ssl.CertificateOptions())
        self.transport.write(b"over TLS\r\n")

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if self.data.endswith(b"\r\n"):
            self.echoed.callback(self.data)


class RealConnectionTests(TestCase):
    timeout = 20

    def until(self, condition: Any) -> defer.Deferred[None]:
        @defer.inlineCallbacks
        def poll() -> Any:
            for _ in range(2000):
                if condition():
                    return
                yield defer_later(0.005)
            raise AssertionError("timed out")

        return poll()

    @defer.inlineCallbacks
    def listen(self, description: str, build: Any) -> Any:
        endpoint = serverFromString(lean_reactor(reactor), description)
        port = yield endpoint.listen(Factory.forProtocol(build))
        self.addCleanup(port.stopListening)
        return port

    @defer.inlineCallbacks
    def test_a_tls_connection_round_trips_on_twisteds_write_path(self) -> Any:
        made = self_signed()
        options = ssl.PrivateCertificate.loadPEM(made.key + made.certificate).options()
        servers: list[TLSEcho] = []

        def build() -> TLSEcho:
            servers.append(TLSEcho(options))
            return servers[-1]

        port = yield self.listen("tcp:0:interface=127.0.0.1", build)
        client = TLSClient()
        factory: Any = ClientFactory.forProtocol(lambda: client)
        connector = reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        echoed = yield client.echoed
        self.assertEqual(echoed, b"over TLS\r\n")
        (server,) = servers
        self.assertIsInstance(server.transport, LeanServer)
        self.assertTrue(server.transport.TLS)
        callers = server.transport.socket.callers
        # The handshake and the echo, all sent by Twisted's doWrite.
        self.assertTrue(callers)
        self.assertEqual(set(callers), {"untilConcludes"})
        connector.disconnect()
        yield server.lost

    @defer.inlineCallbacks
    def test_a_close_while_much_waits_delivers_it_all_then_closes(self) -> Any:
        protocols: list[Recorder] = []

        def build() -> Recorder:
            protocols.append(Recorder())
            return protocols[-1]

        port = yield self.listen("tcp:0:interface=127.0.0.1", build)
        client = socket.create_connection(("127.0.0.1", port.getHost().port))
        client.setblocking(False)
        self.addCleanup(client.close)
        yield self.until(lambda: protocols)
        (server,) = protocols
        data = bytes(range(256)) * 40_000  # 10 MB: more than the sockets hold
        assert server.transport is not None
        server.transport.write(data)
        server.transport.loseConnection()
        got = bytearray()
        closed = []

        def read() -> bool:
            with contextlib.suppress(BlockingIOError):
                while chunk := client.recv(1 << 20):
                    got.extend(chunk)
                closed.append(True)
            return bool(closed)

        yield self.until(read)
        self.assertEqual(bytes(got), data)
        yield self.until(lambda: server.reason is not None)
        assert server.reason is not None
        self.assertTrue(server.reason.check(error.ConnectionDone))
