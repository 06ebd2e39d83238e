"""
Every connection is admitted at accept, whatever its door, against a real
twistd: plain HTTP connections to the web door's port count against the
per-address limits and C{--max-clients} before they send a byte, and a
request that trickles in is closed at the header deadline.
"""

from __future__ import annotations

import select
import socket

from chatwire import lines
from tests.integration.support import TIMEOUT, Client

WEB = "tcp:0:interface=127.0.0.1"

# The per-address limits skip 127.0.0.1 by default: here only 10/8 does.
NOT_LOOPBACK = ("--exempt", "10.0.0.0/8")


def raw(port: int) -> socket.socket:
    """
    @return: A plain TCP connection to C{port}, which sends nothing yet.
    """
    return socket.create_connection(("127.0.0.1", port), TIMEOUT)


def until_closed(sock: socket.socket) -> bytes:
    """
    @return: Everything the server sends until it closes the connection.
    """
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_idle_connections_to_the_web_port_count_against_max_per_ip(start_server):
    server = start_server("--web", WEB, "--max-per-ip", "4", *NOT_LOOPBACK)
    port = server.webPorts[0]
    kept = [raw(port) for _ in range(4)]
    for _ in range(10):
        refused = raw(port)
        head, _, body = until_closed(refused).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 "), head
        assert body == b"too many connections from your address (at most 4 at once)\n"
        refused.close()
    # The same count for every door: the line door refuses the address too.
    line = Client(server.port)
    assert line.events_until_closed() == [
        lines.Error("too many connections from your address (at most 4 at once)")
    ]
    for sock in kept:
        sock.close()


def test_web_connections_count_against_max_clients(start_server):
    server = start_server("--web", WEB, "--max-clients", "2")
    port = server.webPorts[0]
    kept = [raw(port) for _ in range(2)]
    refused = raw(port)
    assert until_closed(refused).startswith(b"HTTP/1.1 503 ")
    line = Client(server.port)
    assert line.events_until_closed() == [
        lines.Error("the server is full, please try again later")
    ]
    for sock in kept:
        sock.close()


def test_a_request_that_trickles_in_is_closed_at_the_header_deadline(start_server):
    server = start_server("--web", WEB, "--header-timeout", "0.5")
    slow = raw(server.webPorts[0])
    slow.sendall(b"GET / HTTP/1.1\r\n")
    received = None
    # A header byte every tenth of a second: never idle, never whole.
    for byte in b"X-Slow: " + b"x" * 1000:
        try:
            readable, _, _ = select.select([slow], [], [], 0.1)
            if readable:
                received = until_closed(slow)
                break
            slow.sendall(bytes([byte]))
        except ConnectionError:  # closed while a byte was on its way
            received = b""
            break
    assert received == b""
    server.wait_for_log(r"no whole request within 0\.5 seconds")
