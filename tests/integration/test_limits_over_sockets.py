"""
Every limit, against a real twistd over real sockets.
"""

import socket
import subprocess
import time

from chatwire import lines
from tests.integration.support import Client, wait_for


def test_long_line_is_discarded_with_an_error_and_the_connection_stays(start_server):
    server = start_server("--max-line", "100", "--rate", "0")
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    bob.send(b"x" * 5000 + b"\r\nafter\r\n")
    assert bob.event() == lines.Error("line too long (over 100 bytes), discarded")
    assert alice.event() == lines.Message("bob", "after")


def test_invalid_utf8_gets_an_error_and_the_connection_stays(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    bob.send(b"\xc3\x28\r\n")
    assert bob.event() == lines.Error("invalid UTF-8, line discarded")
    bob.send("ok")
    assert alice.event() == lines.Message("bob", "ok")


def test_telnet_commands_are_stripped(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    bob.send(b"\xff\xfd\x03he\xff\xf4llo\xff\xfa\x1f\x00\x50\xff\xf0\r\n")
    assert alice.event() == lines.Message("bob", "hello")


def test_one_more_than_max_clients_is_told_and_closed(start_server):
    server = start_server("--max-clients", "2")
    first = server.login("alice")
    second = server.connect()
    second.expect(lines.Prompt)
    third = Client(server.port)
    assert third.events_until_closed() == [
        lines.Error("the server is full, please try again later")
    ]
    first.close()
    server.wait_for_log("alice left")
    fourth = server.connect()
    fourth.expect(lines.Prompt)


def test_login_timeout_closes_with_a_line(start_server):
    server = start_server("--login-timeout", "0.3")
    client = server.connect()
    assert client.events_until_closed()[-1] == lines.Error(
        "no name chosen within 0.3 seconds, disconnecting"
    )


def test_flood_is_slowed_down_not_dropped(start_server):
    server = start_server("--rate", "20", "--burst", "2")
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    time.sleep(0.2)  # let bob's bucket refill after his name line
    started = time.monotonic()
    bob.send(b"".join(b"line %d\r\n" % n for n in range(12)))
    received = [alice.event() for _ in range(12)]
    elapsed = time.monotonic() - started
    assert received == [lines.Message("bob", f"line {n}") for n in range(12)]
    # Ten lines past the burst at 20 per second cannot take less than 0.5 s.
    assert elapsed >= 0.45


def test_client_that_stops_reading_is_dropped_and_the_others_told(start_server):
    server = start_server("--rate", "0", "--max-buffer", "262144")
    alice = server.login("alice")
    slow = Client(server.port, receiveBuffer=4096)
    slow.send("slow")
    alice.expect(lines.Joined)
    line = b"y" * 4000 + b"\r\n"
    # Alice gets no copy of her own lines, so the only thing she reads is the
    # slow client's leave notice.  16 MB at most: far past any kernel buffer.
    alice.sock.setblocking(False)
    for _ in range(4000):
        alice.sock.setblocking(True)
        alice.send(line)
        alice.sock.setblocking(False)
        try:
            alice._buffer += alice.sock.recv(65536)
        except BlockingIOError:
            continue
        if b"has left" in alice._buffer:
            break
    alice.sock.setblocking(True)
    alice.sock.settimeout(15)
    assert alice.expect(lines.Left) == lines.Left("slow", "Send queue exceeded")
    server.wait_for_log(r"Dropping 127\.0\.0\.1:\d+ \(slow\): send queue exceeded")


def test_tcp_keepalive_is_on_for_every_connection(server):
    client = server.login("alice")
    local = client.sock.getsockname()[1]

    def server_side_timer() -> str:
        # ss shows the keepalive timer once no data waits to be acknowledged.
        sockets = subprocess.run(
            ["ss", "-tno", "state", "established", f"( sport = :{server.port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        ours = [line for line in sockets.splitlines() if f":{local}" in line]
        return ours[0] if ours and "keepalive" in ours[0] else ""

    assert "timer:(keepalive" in str(wait_for(server_side_timer, "keepalive"))


def test_over_long_name_is_refused(server):
    client = server.connect()
    client.expect(lines.Prompt)
    client.send("n" * 33)
    assert client.event().text.startswith("invalid name: a name is at most 32")
    client.send("n" * 32)
    assert client.event() == lines.Welcome("chat", "n" * 32)


def test_bad_input_does_not_disturb_others(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    garbage = bytes(range(256)) * 20 + b"\r\n"
    bob.send(garbage)
    bob.send("still here")
    assert alice.event() == lines.Message("bob", "still here")
    carol = server.login("carol")
    carol.sock.shutdown(socket.SHUT_WR)
    assert alice.expect(lines.Left).name == "carol"
