"""
The gate at accept (L{chatserver.limits.gate}): every connection of every
door is admitted by the shared admission before the door's factory builds a
protocol for it, and counted until it closes.
"""

from __future__ import annotations

from itertools import count

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHalfCloseableDescriptor, ITCPTransport
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver.doors.irc.factory import refusal as irc_refusal
from chatserver.doors.line.factory import refusal as line_refusal
from chatserver.doors.web.resource import refusal as web_refusal
from chatserver.limits.gate import AdmittedConnection, AdmittingFactory
from chatserver.testing import ChatHarness

_ports = count(30000)

# Not in the exempt networks (127.0.0.1 and ::1 by default).
HOST = "192.0.2.1"


def refusal(why: str) -> bytes:
    return f"no: {why}\n".encode()


class Door(Protocol):
    """
    A door's protocol that records what reaches it.
    """

    def __init__(self) -> None:
        self.received = b""
        self.lost: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = reason


class StoppingDoor(Door):
    def __init__(self) -> None:
        super().__init__()
        self.stopping = 0

    def serverStopping(self) -> None:
        self.stopping += 1


class DoorFactory(Factory):
    def __init__(self, protocol: type[Door] = Door) -> None:
        self.built: list[Door] = []
        self.kind = protocol

    def buildProtocol(self, addr: object) -> Door:
        door = self.kind()
        self.built.append(door)
        return door


class Transport(StringTransport):
    """
    A transport that records being aborted.
    """

    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


@implementer(IHalfCloseableDescriptor)
class HalfCloseableTransport(Transport):
    """
    A transport that, as TCP does, can close its sending side alone.
    """

    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def readConnectionLost(self, reason: Failure) -> None:
        pass

    def writeConnectionLost(self, reason: Failure) -> None:
        pass


@implementer(ITCPTransport)
class TCPTransport(Transport):
    """
    A transport that, as TCP does, can send without Nagle's algorithm.
    """

    noDelay = False
    keepAlive = False

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.noDelay = enabled

    def getTcpNoDelay(self) -> bool:
        return self.noDelay

    def setTcpKeepAlive(self, enabled: bool) -> None:
        self.keepAlive = enabled

    def getTcpKeepAlive(self) -> bool:
        return self.keepAlive

    def loseWriteConnection(self) -> None:
        self.loseConnection()


def connect(
    gate: AdmittingFactory,
    host: str = HOST,
    transport: Transport | None = None,
) -> tuple[AdmittedConnection, Transport]:
    address = IPv4Address("TCP", host, next(_ports))
    if transport is None:
        transport = Transport(peerAddress=address)
    else:
        transport.peerAddr = address
    connection = gate.buildProtocol(address)
    connection.makeConnection(transport)
    return connection, transport


def test_an_admitted_connection_reaches_the_door_and_is_counted():
    server = ChatHarness()
    doors = DoorFactory()
    connection, transport = connect(server.server.gate(doors, refusal))
    (door,) = doors.built
    assert door.transport is transport  # its writes go straight there
    connection.dataReceived(b"hello")
    assert door.received == b"hello"
    assert server.server.admission.connections == {connection}


def test_an_admitted_tcp_connection_sends_without_nagles_algorithm():
    server = ChatHarness()
    _, transport = connect(
        server.server.gate(DoorFactory(), refusal), transport=TCPTransport()
    )
    assert isinstance(transport, TCPTransport)
    assert transport.noDelay


def test_a_refused_tcp_connection_is_left_as_it_came():
    server = ChatHarness(maxClients=1)
    gate = server.server.gate(DoorFactory(), refusal)
    connect(gate)
    _, transport = connect(gate, transport=TCPTransport())
    assert isinstance(transport, TCPTransport)
    assert not transport.noDelay


def test_a_refused_connection_is_told_why_and_closed_before_the_door_exists():
    server = ChatHarness(maxClients=1)
    doors = DoorFactory()
    gate = server.server.gate(doors, refusal)
    connect(gate)
    connection, transport = connect(gate)
    assert transport.value() == b"no: the server is full, please try again later\n"
    assert transport.disconnecting
    connection.dataReceived(b"GET / HTTP/1.1\r\n")
    assert len(doors.built) == 1
    assert len(server.server.admission.connections) == 1


def test_a_refused_connection_that_does_not_go_is_aborted_after_the_grace():
    server = ChatHarness(maxClients=1, closeGrace=5)
    gate = server.server.gate(DoorFactory(), refusal)
    connect(gate)
    _, transport = connect(gate)
    server.clock.advance(5)
    assert transport.aborted


def test_a_refusal_closes_only_the_sending_side_when_it_can():
    server = ChatHarness(maxClients=1)
    gate = server.server.gate(DoorFactory(), refusal)
    connect(gate)
    connection, transport = connect(gate, transport=HalfCloseableTransport())
    assert isinstance(transport, HalfCloseableTransport)
    assert transport.value().startswith(b"no: ")
    assert transport.writeClosed and not transport.disconnecting
    connection.dataReceived(b"what the client sent before it read the refusal")
    server.clock.advance(server.config.closeGrace)
    assert transport.aborted


def test_a_door_that_says_nothing_closes_a_refused_connection_silently():
    server = ChatHarness(maxClients=1)
    gate = server.server.gate(DoorFactory(), lambda why: b"")
    connect(gate)
    _, transport = connect(gate, transport=HalfCloseableTransport())
    assert transport.value() == b""
    assert transport.disconnecting


def test_a_closed_connection_gives_its_place_back_after_the_door_is_told():
    server = ChatHarness(maxClients=1)
    doors = DoorFactory()
    gate = server.server.gate(doors, refusal)
    connection, _ = connect(gate)
    connection.connectionLost(Failure(ConnectionError()))
    assert doors.built[0].lost is not None
    assert not server.server.admission.connections
    _, transport = connect(gate)
    assert transport.value() == b""
    assert len(doors.built) == 2


def test_the_limits_per_address_count_every_connection_at_accept():
    server = ChatHarness(maxPerAddress=2)
    doors = DoorFactory()
    gate = server.server.gate(doors, refusal)
    connect(gate)
    connect(gate)
    _, refused = connect(gate)
    assert refused.value() == (
        b"no: too many connections from your address (at most 2 at once)\n"
    )
    _, other = connect(gate, host="192.0.2.2")
    assert other.value() == b""
    assert len(doors.built) == 3


def test_one_admission_counts_the_connections_of_every_door():
    server = ChatHarness(maxClients=2)
    first = server.server.gate(DoorFactory(), refusal)
    second = server.server.gate(DoorFactory(), lambda why: b"second: " + why.encode())
    connect(first)
    connect(second)
    _, refused = connect(first)
    assert refused.value().startswith(b"no: the server is full")


def test_the_server_stopping_is_told_to_the_door():
    server = ChatHarness()
    doors = DoorFactory(StoppingDoor)
    connection, transport = connect(server.server.gate(doors, refusal))
    stopped = server.server.admission.shutdown()
    (door,) = doors.built
    assert isinstance(door, StoppingDoor) and door.stopping == 1
    assert not transport.disconnecting
    connection.connectionLost(Failure(ConnectionError()))
    assert stopped.called


def test_a_door_that_cannot_say_goodbye_is_closed_when_the_server_stops():
    server = ChatHarness()
    connection, transport = connect(server.server.gate(DoorFactory(), refusal))
    stopped = server.server.admission.shutdown()
    assert transport.disconnecting and not stopped.called
    server.clock.advance(server.config.closeGrace)
    assert transport.aborted
    connection.connectionLost(Failure(ConnectionError()))
    assert stopped.called


def test_no_connection_is_admitted_once_the_server_is_stopping():
    server = ChatHarness()
    doors = DoorFactory()
    gate = server.server.gate(doors, refusal)
    server.server.admission.shutdown()
    _, transport = connect(gate)
    assert transport.value() == b"no: the server is shutting down\n"
    assert not doors.built


def test_a_door_factory_that_builds_nothing_closes_the_connection():
    server = ChatHarness()

    class Nothing(Factory):
        def buildProtocol(self, addr: object) -> None:
            return None

    _, transport = connect(server.server.gate(Nothing(), refusal))
    assert transport.disconnecting
    assert not server.server.admission.connections


def test_the_gate_keeps_no_instance_dict():
    server = ChatHarness(maxClients=1)
    gate = server.server.gate(DoorFactory(), refusal)
    connection, _ = connect(gate)
    connection.dataReceived(b"x")
    refused, _ = connect(gate)
    connection.connectionLost(Failure(ConnectionError()))
    assert vars(connection) == {} and vars(refused) == {}


def test_each_door_refuses_in_its_own_words():
    why = "the server is full, please try again later"
    assert line_refusal(why) == b"!!! " + why.encode() + b"\r\n"
    assert irc_refusal(why) == b"ERROR :Closing link: " + why.encode() + b"\r\n"
    head, _, body = web_refusal(why).partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 503 Service Unavailable"
    assert b"content-length: %d" % len(body) in head.split(b"\r\n")
    assert body == why.encode() + b"\n"
