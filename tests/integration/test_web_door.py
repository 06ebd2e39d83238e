"""
The web door's WebSocket (C{--web}) on a real twistd, through a raw RFC 6455
client: JSON in and out, bad messages answered and survived, the Origin
check, the shared limits and accounts, with line-protocol users beside.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable

import pytest

from chatwire import lines
from tests.integration.support import ChatServer
from tests.integration.test_tls import make_certificate
from tests.integration.wsclient import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    HandshakeRefused,
    WebSocketClient,
)

WEB = "tcp:0:interface=127.0.0.1"
Start = Callable[..., ChatServer]


def web(server: ChatServer, origin: str | None = None) -> WebSocketClient:
    return WebSocketClient(server.webPorts[0], origin=origin)


@pytest.fixture
def chat(start_server: Start) -> ChatServer:
    return start_server("--rate", "0", "--web", WEB)


def test_the_page_is_served_with_a_csp_and_no_inline_script(chat: ChatServer):
    base = f"http://127.0.0.1:{chat.webPorts[0]}"
    with urllib.request.urlopen(base + "/") as response:
        page = response.read().decode()
        csp = response.headers["Content-Security-Policy"]
        assert response.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert '<script src="app.js"' in page
    assert "<script>" not in page and "http" not in page.replace("http-equiv", "")
    for name in ("app.js", "style.css"):
        with urllib.request.urlopen(f"{base}/{name}") as response:
            assert response.status == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    script = urllib.request.urlopen(base + "/app.js").read().decode()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_web_and_line_users_talk_in_one_room(chat: ChatServer):
    alice = chat.login("alice")
    bob = web(chat)
    hello = bob.expect("hello")
    assert hello["password"] is False and hello["defaultRoom"] == "#lobby"
    bob.send(type="login", name="bob")
    assert bob.expect("welcome")["name"] == "bob"
    room = bob.expect("room")
    assert room["room"] == "#lobby" and room["members"] == ["alice", "bob"]
    alice.expect(lines.Joined("bob"))
    bob.send(type="say", text="héllo from the web")
    mine = bob.expect("message")
    assert (mine["from"], mine["text"], mine["room"]) == (
        "bob",
        "héllo from the web",
        "#lobby",
    )
    assert isinstance(mine["id"], int) and isinstance(mine["time"], float)
    alice.expect(lines.Message("bob", "héllo from the web"))
    alice.send("hi bob 日本")
    said = bob.expect("message")
    assert (said["from"], said["text"]) == ("alice", "hi bob 日本")
    alice.send("/msg bob psst")
    private = bob.expect("private")
    assert (private["from"], private["to"], private["text"]) == ("alice", "bob", "psst")
    bob.send(type="msg", to="alice", text="back")
    assert bob.expect("private")["to"] == "alice"
    alice.expect(lines.PrivateIn("bob", "back"))
    bob.send(type="act", text="waves")
    alice.expect(lines.Action("bob", "waves"))
    bob.send(type="nick", name="robert")
    assert bob.expect("rename") == {"type": "rename", "old": "bob", "new": "robert"}
    alice.expect(lines.Renamed("bob", "robert"))
    bob.send(type="quit", reason="lunch")
    assert bob.expect("bye")["message"] == "Goodbye!"
    assert bob.messages_until_closed() == []
    assert bob.closeCode == 1000
    alice.expect(lines.Left("robert", "Quit: lunch"))


def test_rooms_topics_members_and_history(chat: ChatServer):
    alice = chat.login("alice")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    alice.send("/topic release on Friday")
    alice.send("the build is green")
    alice.expect(lines.InRoom("#dev", lines.TopicSet("alice", "release on Friday")))
    bob = web(chat)
    bob.login("bob")
    bob.send(type="join", room="#dev")
    room = bob.expect("room", room="#dev")
    assert room["topic"] == "release on Friday" and room["members"] == ["alice", "bob"]
    history = bob.expect("history", room="#dev")
    kinds = [(e["kind"], e["from"], e["text"]) for e in history["entries"]]
    assert kinds == [
        ("topic", "alice", "release on Friday"),
        ("message", "alice", "the build is green"),
    ]
    assert history["more"] is False
    alice.expect(lines.InRoom("#dev", lines.Joined("bob")))
    alice.send("in dev")
    said = bob.expect("message")
    assert (said["room"], said["text"]) == ("#dev", "in dev")
    bob.send(type="rooms")
    rooms = bob.expect("rooms")["rooms"]
    assert {"name": "#dev", "members": 2, "topic": "release on Friday"} in rooms
    bob.send(type="who", room="#dev")
    assert bob.expect("members")["members"] == ["alice", "bob"]
    bob.send(type="history", room="#dev", limit=5)
    assert bob.expect("history", room="#dev")["entries"] == []
    bob.send(type="part", room="#dev", reason="bye")
    part = bob.expect("part")
    assert (part["room"], part["name"], part["reason"]) == ("#dev", "bob", "Part: bye")
    alice.expect(lines.InRoom("#dev", lines.Left("bob", "Part: bye")))


def test_bad_messages_get_an_error_and_the_connection_goes_on(chat: ChatServer):
    bob = web(chat)
    bob.expect("hello")
    bob.send(type="say", text="too early")
    assert bob.expect("error")["message"] == "log in first"
    bob.send(type="login", name="bob")
    bob.expect("welcome")
    bad = [
        ("{not json", "not JSON"),
        ("[1, 2]", "a message must be a JSON object"),
        ('{"text": "x"}', 'a message must have a "type" string'),
        ('{"type": "dance"}', "unknown message type 'dance'"),
        ('{"type": "say"}', "'say' needs 'text'"),
        ('{"type": "say", "text": 5}', "'say': 'text' must be a string"),
        ('{"type": "history", "limit": true}', "'history': 'limit' must be"),
        ('{"type": "say", "text": "x", "colour": "red"}', "unknown field 'colour'"),
        ('{"type": "join", "room": "no spaces"}', "invalid room name"),
        ('{"type": "say", "text": "x", "room": "#nowhere"}', "you are not in #nowhere"),
        ('{"type": "msg", "to": "nobody", "text": "x"}', "no such user: nobody"),
        ('{"type": "history", "limit": 0}', "'limit' must be from 1 to"),
    ]
    for text, why in bad:
        bob.send_text(text)
        error = bob.expect("error")
        assert error["message"].startswith(why), (text, error)
    bob.send_frame(BINARY, b"\x00\x01")
    assert bob.expect("error")["message"] == "only text messages (JSON) are taken"
    bob.send_text(json.dumps({"type": "say", "text": "x" * 10_000}))
    assert bob.expect("error")["message"].startswith("message too long")
    # A message over the cap in fragments, with a ping between them.
    bob.send_frame(TEXT, b'{"type": "say", "text": "' + b"y" * 3000, fin=False)
    bob.send_frame(PING, b"hi")
    bob.send_frame(0x0, b"y" * 3000 + b'"}')
    assert bob.expect("error")["message"].startswith("message too long")
    # A fragmented message within the cap is put together.
    bob.send_frame(TEXT, b'{"type": "say", ', fin=False)
    bob.send_frame(0x0, b'"text": "still here"}')
    assert bob.expect("message")["text"] == "still here"


def test_a_protocol_error_closes_with_a_close_frame(chat: ChatServer):
    bob = web(chat)
    bob.login("bob")
    # A reserved opcode is a protocol error (RFC 6455, 5.2): close 1002.
    bob.send_frame(0x3, b"")
    bob.messages_until_closed()
    assert bob.closeCode == 1002
    # Invalid UTF-8 in a text message: close 1007.
    carol = web(chat)
    carol.login("carol")
    carol.send_frame(TEXT, b"\xff\xfe")
    carol.messages_until_closed()
    assert carol.closeCode == 1007


def test_pings_are_answered_and_close_is_echoed(chat: ChatServer):
    bob = web(chat)
    bob.login("bob")
    bob.expect("room")
    bob.send_frame(PING, b"are you there")
    assert bob.read_frame() == (PONG, b"are you there")
    bob.send_frame(CLOSE, (1000).to_bytes(2, "big"))
    opcode, payload = bob.read_frame()
    assert opcode == CLOSE and payload[:2] == (1000).to_bytes(2, "big")


def test_the_origin_is_checked(start_server: Start):
    server = start_server(
        "--rate", "0", "--web", WEB, "--web-origin", "https://chat.example.org"
    )
    with pytest.raises(HandshakeRefused) as refused:
        web(server, origin="https://evil.example.com")
    assert refused.value.status == 403
    ok = web(server, origin="https://chat.example.org")
    ok.login("bob")


def test_the_default_origin_is_the_pages_own(chat: ChatServer):
    port = chat.webPorts[0]
    web(chat, origin=f"http://127.0.0.1:{port}").login("bob")
    with pytest.raises(HandshakeRefused):
        web(chat, origin="http://127.0.0.1:1")
    with pytest.raises(HandshakeRefused) as refused:
        web(chat, origin="null")
    assert refused.value.status == 403


def test_accounts_ask_for_a_password(start_server: Start):
    server = start_server(
        "--rate", "0", "--web", WEB, "--auth", "memory:alice:secret:bob:pw"
    )
    alice = web(server)
    assert alice.expect("hello")["password"] is True
    alice.send(type="login", name="alice")
    assert alice.expect("error")["message"] == "a password is needed for alice"
    alice.send(type="login", name="alice", password="wrong")
    assert alice.expect("error")["message"] == "wrong name or password"
    alice.send(type="login", name="alice", password="secret")
    assert alice.expect("welcome")["name"] == "alice"
    mallory = web(server)
    mallory.expect("hello")
    for _ in range(3):
        mallory.send(type="login", name="bob", password="guess")
    rest = mallory.messages_until_closed()
    assert rest[-1]["message"] == "wrong name or password; too many failures, goodbye"
    assert mallory.closeCode == 1008


def test_a_flood_is_delayed_not_dropped(start_server: Start):
    server = start_server("--rate", "20", "--burst", "5", "--web", WEB)
    alice = server.login("alice")
    bob = web(server)
    bob.login("bob")
    start = time.monotonic()
    for i in range(25):
        bob.send(type="say", text=f"line {i}")
    for i in range(25):
        alice.expect(lines.Message("bob", f"line {i}"))
    # 5 at once, then 20 more at 20 a second.
    assert time.monotonic() - start >= 0.8


def test_per_address_limits_count_web_connections(start_server: Start):
    server = start_server(
        "--rate", "0", "--web", WEB, "--max-per-ip", "2", "--exempt", "10.0.0.0/8"
    )
    first, second = web(server), web(server)
    first.expect("hello")
    second.expect("hello")
    # Refused at accept, before the upgrade: a 503 that says why.
    with pytest.raises(HandshakeRefused) as refused:
        web(server)
    assert refused.value.status == 503
    assert b"too many connections from your address" in refused.value.response
    line = server.connect()
    assert isinstance(line.event(), lines.Error)


def test_a_reader_that_stops_is_dropped(start_server: Start):
    server = start_server("--rate", "0", "--web", WEB, "--max-buffer", "65536")
    alice = server.login("alice")
    bob = WebSocketClient(server.webPorts[0])
    bob.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    bob.login("bob")
    text = "x" * 3000
    for _ in range(3000):
        alice.send(text)
        if "bob left" in server.log() or "send queue exceeded" in server.log():
            break
    server.wait_for_log(r"Dropping .* \(bob\): send queue exceeded")


def test_the_web_door_over_tls(start_server: Start, tmp_path):
    serverPem, cert = make_certificate(tmp_path)
    server = start_server(
        "--rate", "0", "--web", f"ssl:0:interface=127.0.0.1:privateKey={serverPem}"
    )
    port = server.webPorts[0]
    with pytest.raises(HandshakeRefused):
        WebSocketClient(port, origin=f"http://127.0.0.1:{port}", cafile=str(cert))
    bob = WebSocketClient(port, origin=f"https://127.0.0.1:{port}", cafile=str(cert))
    bob.login("bob")
    alice = server.login("alice")
    bob.expect("join", name="alice")
    alice.send("over tls")
    assert bob.expect("message")["text"] == "over tls"


def http(port: int, request: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), 15) as sock:
        sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
        return response


def test_handshakes_that_are_not_websocket_13_are_refused(chat: ChatServer):
    port = chat.webPorts[0]
    head = f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    response = http(port, head + upgrade + key + "Sec-WebSocket-Version: 8\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 426 "), response
    assert b"Sec-Websocket-Version: 13" in response, response
    response = http(port, head + "Connection: close\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 "), response
    response = http(port, head + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 "), response
    # The RFC's example key gets the RFC's answer.
    response = http(port, head + upgrade + key + "Sec-WebSocket-Version: 13\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 101 "), response
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in response
