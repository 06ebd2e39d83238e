"""
The web door's HTTP connections, behind the gate as the service puts them,
on a fake clock: admitted at accept like any door's, a deadline for each
whole request, closed or told goodbye when the server stops.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs
from twisted.python.failure import Failure

from chatserver.doors.web.protocol import WebSession
from chatserver.doors.web.resource import refusal, web_site
from chatserver.limits.gate import AdmittedConnection, AdmittingFactory
from chatserver.testing import WEBSOCKET_UPGRADE as UPGRADE
from chatserver.testing import ChatHarness
from chatwire import lines

_ports = count(20000)

# Not in the exempt networks (127.0.0.1 and ::1 by default).
HOST = "192.0.2.7"

PAGE = b"GET / HTTP/1.1\r\nHost: chat.example\r\n\r\n"


class Transport(StringTransport):
    aborted = False

    def abortConnection(self) -> None:
        self.aborted = True
        super().abortConnection()


def web_door(**settings: Any) -> tuple[ChatHarness, AdmittingFactory]:
    server = ChatHarness(**settings)
    return server, server.server.gate(web_site(server.server, []), refusal)


def connect(
    gate: AdmittingFactory, host: str = HOST
) -> tuple[AdmittedConnection, Transport]:
    address = IPv4Address("TCP", host, next(_ports))
    transport = Transport(
        peerAddress=address, hostAddress=IPv4Address("TCP", "127.0.0.1", 8080)
    )
    connection = gate.buildProtocol(address)
    connection.makeConnection(transport)
    return connection, transport


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """
    @return: The opcodes and payloads of the server's frames in C{data}.
    """
    found = []
    while data:
        opcode, size, head = data[0] & 0x0F, data[1] & 0x7F, 2
        if size == 126:
            size, head = int.from_bytes(data[2:4], "big"), 4
        elif size == 127:
            size, head = int.from_bytes(data[2:10], "big"), 10
        found.append((opcode, data[head : head + size]))
        data = data[head + size :]
    return found


def upgraded(transport: Transport) -> list[tuple[int, bytes]]:
    """
    @return: The frames the server sent after its C{101}.
    """
    head, _, rest = transport.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 "), head
    return frames(rest)


def test_a_request_that_trickles_in_is_closed_at_the_deadline():
    server, gate = web_door(headerTimeout=10)
    connection, transport = connect(gate)
    # One byte a second: Twisted's idle timeout starts again at each.
    for byte in b"GET / HTTP/1.1\r\nX-Slow: xxxxxxxxxx"[:10]:
        connection.dataReceived(bytes([byte]))
        server.clock.advance(0.99)
        assert not transport.disconnecting
    server.clock.advance(0.1)
    assert transport.disconnecting
    assert transport.value() == b""


def test_a_connection_that_sends_nothing_is_closed_at_the_deadline():
    server, gate = web_door(headerTimeout=10)
    _, transport = connect(gate)
    server.clock.advance(9.9)
    assert not transport.disconnecting
    server.clock.advance(0.1)
    assert transport.disconnecting


def test_a_connection_closed_at_the_deadline_is_aborted_if_it_lingers():
    server, gate = web_door(headerTimeout=10, closeGrace=5)
    _, transport = connect(gate)
    server.clock.advance(10)
    assert not transport.aborted
    server.clock.advance(5)
    assert transport.aborted


def test_each_request_on_a_kept_connection_has_the_deadline_again():
    server, gate = web_door(headerTimeout=10)
    connection, transport = connect(gate)
    server.clock.advance(5)
    connection.dataReceived(PAGE)
    assert transport.value().startswith(b"HTTP/1.1 200 ")
    server.clock.advance(9.9)
    assert not transport.disconnecting
    server.clock.advance(0.1)
    assert transport.disconnecting


def test_a_header_timeout_of_zero_is_no_deadline():
    server, gate = web_door(headerTimeout=0)
    _, transport = connect(gate)
    server.clock.advance(59)
    assert not transport.disconnecting


def test_a_websocket_keeps_its_own_time_once_upgraded():
    server, gate = web_door(headerTimeout=10, loginTimeout=60)
    connection, transport = connect(gate)
    connection.dataReceived(UPGRADE)
    ((_, hello),) = upgraded(transport)
    assert json.loads(hello)["type"] == "hello"
    server.clock.advance(59)
    assert not transport.disconnecting


def test_an_upgraded_connection_is_counted_once():
    server, gate = web_door()
    connection, _ = connect(gate)
    connection.dataReceived(UPGRADE)
    assert server.server.admission.connections == {connection}
    connection.connectionLost(Failure(ConnectionError()))
    assert not server.server.admission.connections


def test_plain_http_connections_count_against_max_per_ip_from_accept():
    _, gate = web_door(maxPerAddress=4)
    for _ in range(4):
        _, transport = connect(gate)
        assert not transport.disconnecting
    _, refused = connect(gate)
    head, _, body = refused.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 ")
    assert body == b"too many connections from your address (at most 4 at once)\n"
    assert refused.disconnecting


def test_web_connections_count_against_max_clients_with_the_other_doors():
    server, gate = web_door(maxClients=2)
    connect(gate)
    server.connect()
    full = server.connect()
    assert full.events() == [lines.Error("the server is full, please try again later")]
    _, refused = connect(gate)
    assert refused.value().startswith(b"HTTP/1.1 503 ")


def test_a_plain_http_connection_is_closed_when_the_server_stops():
    server, gate = web_door(closeGrace=5)
    connection, transport = connect(gate)
    stopped = server.server.admission.shutdown()
    assert transport.disconnecting and not stopped.called
    server.clock.advance(5)
    assert transport.aborted
    connection.connectionLost(Failure(ConnectionError()))
    assert stopped.called


def test_a_websocket_is_told_goodbye_when_the_server_stops():
    server, gate = web_door()
    connection, transport = connect(gate)
    connection.dataReceived(UPGRADE)
    transport.clear()
    server.server.admission.shutdown()
    (_, bye), (close, code) = frames(transport.value())
    assert json.loads(bye) == {
        "type": "bye",
        "message": "The server is shutting down. Goodbye!",
    }
    assert close == 0x8 and code[:2] == (1001).to_bytes(2, "big")


def test_an_idle_kept_alive_connection_is_closed_without_a_fault_logged():
    server, gate = web_door(headerTimeout=10)
    connection, transport = connect(gate)
    connection.dataReceived(PAGE)
    with capturedLogs() as events:
        server.clock.advance(10)
    assert transport.disconnecting
    assert [e for e in events if "chat_event" in e] == []


def test_a_request_that_trickles_in_is_logged_as_timed_out():
    server, gate = web_door(headerTimeout=10)
    connection, _ = connect(gate)
    connection.dataReceived(b"GET / HTT")
    with capturedLogs() as events:
        server.clock.advance(10)
    assert [e["chat_event"] for e in events if "chat_event" in e] == ["timeout"]


def test_a_page_closed_by_resetting_its_websocket_leaves_as_closed():
    server = ChatHarness()
    bob = server.login("bob")
    page = server.web()
    page.send({"type": "login", "name": "carol"})
    bob.received()
    page.lose(error.ConnectionLost())
    assert bob.received()[-1] == "<-- carol has left (Connection closed)"


def test_a_page_closed_with_a_close_frame_is_not_pinged_as_it_ends():
    server = ChatHarness()
    page = server.web()
    page.send({"type": "login", "name": "carol"})
    page.messages()
    # A tab closed: the browser's close frame (1001, going away), masked.
    payload = (1001).to_bytes(2, "big")
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    page.send(bytes([0x88, 0x80 | len(payload)]) + mask + masked)
    assert page.transport.disconnecting
    # The keepalive falls due before the connection has ended: no error.
    server.clock.advance(WebSession.pingInterval * 2)
