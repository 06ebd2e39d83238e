"""
Per-address limits against a real twistd, from other loopback addresses.
"""

from chatwire import lines
from tests.integration.support import Client


def test_connections_over_max_per_ip_are_told_and_closed(start_server):
    server = start_server("--max-per-ip", "2")
    kept = [Client(server.port, source="127.0.0.2") for _ in range(2)]
    for client in kept:
        client.expect(lines.Prompt)
    refused = Client(server.port, source="127.0.0.2")
    assert refused.events_until_closed() == [
        lines.Error("too many connections from your address (at most 2 at once)")
    ]
    other = Client(server.port, source="127.0.0.3")
    other.expect(lines.Prompt)
    kept[0].close()
    server.wait_for_log(r"Connection from 127\.0\.0\.2:\d+ closed before login")
    again = Client(server.port, source="127.0.0.2")
    again.expect(lines.Prompt)


def test_new_connections_over_the_connect_rate_are_refused(start_server):
    server = start_server("--max-per-ip", "0", "--connect-rate", "3/600")
    for _ in range(3):
        client = Client(server.port, source="127.0.0.4")
        client.expect(lines.Prompt)
        client.close()
    refused = Client(server.port, source="127.0.0.4")
    event = refused.event()
    assert isinstance(event, lines.Error)
    assert event.text.startswith("too many new connections")


def test_exempt_networks_are_not_limited(start_server):
    server = start_server("--max-per-ip", "1", "--exempt", "127.0.0.0/8")
    clients = [Client(server.port, source="127.0.0.5") for _ in range(5)]
    for client in clients:
        client.expect(lines.Prompt)


def test_localhost_is_exempt_by_default(start_server):
    server = start_server("--max-per-ip", "1")
    clients = [server.connect() for _ in range(5)]
    for client in clients:
        client.expect(lines.Prompt)


def test_max_per_ip_zero_turns_the_limit_off(start_server):
    server = start_server("--max-per-ip", "0")
    clients = [Client(server.port, source="127.0.0.6") for _ in range(20)]
    for client in clients:
        client.expect(lines.Prompt)
