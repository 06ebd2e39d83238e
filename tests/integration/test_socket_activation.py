"""
Socket activation: a real C{twistd chat} under C{systemd-socket-activate}
listens on the sockets it is handed (C{systemd:domain=INET:index=N} and
C{...:name=NAME}) for every door, TLS included, behind the same gate, and
tells the C{$NOTIFY_SOCKET} the test made C{READY=1}.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.activation import ActivatedServer
from tests.integration.irc_support import IrcSocket
from tests.integration.support import Client
from tests.integration.test_tls import TLSClient, make_certificate
from tests.integration.wsclient import WebSocketClient


@pytest.fixture
def activated(tmp_path: Path) -> Iterator[list[ActivatedServer]]:
    servers: list[ActivatedServer] = []
    yield servers
    for server in servers:
        server.stop()


def test_every_door_listens_on_a_socket_systemd_passes(
    tmp_path: Path, activated: list[ActivatedServer]
) -> None:
    server = ActivatedServer(
        tmp_path,
        ["line", "irc", "web"],
        "--port",
        "systemd:domain=INET:index=0",
        "--irc",
        "systemd:domain=INET:name=irc",
        "--web",
        "systemd:domain=INET:name=web",
    )
    activated.append(server)
    # The first connection starts twistd, which then accepts it.
    alice = Client(server.ports["line"])
    alice.expect(lines.Prompt)
    assert server.notification() == b"READY=1"
    alice.send("alice")
    alice.expect(lines.UserList)
    irc = IrcSocket(server.ports["irc"])
    irc.register("bob", join="#lobby")
    alice.expect(lines.Joined("bob"))
    carol = WebSocketClient(server.ports["web"])
    carol.expect("hello")
    carol.send(type="login", name="carol")
    assert carol.expect("welcome")["name"] == "carol"
    alice.expect(lines.Joined("carol"))
    irc.send("PRIVMSG #lobby :over an activated socket")
    assert alice.expect(lines.Message) == lines.Message(
        "bob", "over an activated socket"
    )
    assert carol.expect("message")["text"] == "over an activated socket"


def test_tls_over_a_socket_systemd_passes(
    tmp_path: Path, activated: list[ActivatedServer]
) -> None:
    key, cert = make_certificate(tmp_path)
    server = ActivatedServer(
        tmp_path,
        ["line-tls"],
        "--port",
        f"systemd:domain=INET:name=line-tls:privateKey={key}",
    )
    activated.append(server)
    secure = TLSClient(server.ports["line-tls"], cert)
    secure.expect(lines.Prompt)
    assert server.notification() == b"READY=1"
    secure.send("secure")
    secure.expect(lines.Welcome)


def test_the_gate_admits_connections_of_an_activated_socket(
    tmp_path: Path, activated: list[ActivatedServer]
) -> None:
    server = ActivatedServer(
        tmp_path,
        ["line"],
        "--max-clients",
        "1",
        "--port",
        "systemd:domain=INET:name=line",
    )
    activated.append(server)
    alice = Client(server.ports["line"])
    alice.expect(lines.Prompt)
    assert server.notification() == b"READY=1"
    refused = Client(server.ports["line"])
    assert refused.events_until_closed() == [
        lines.Error("the server is full, please try again later")
    ]


def test_a_socket_systemd_did_not_pass_is_one_line_at_start(
    tmp_path: Path, activated: list[ActivatedServer]
) -> None:
    server = ActivatedServer(
        tmp_path, ["line"], "--irc", "systemd:domain=INET:name=irc"
    )
    activated.append(server)
    with socket.create_connection(("127.0.0.1", server.ports["line"])):
        assert server.process.wait(15) != 0
    assert server.process.stdout is not None
    output = server.process.stdout.read().decode()
    assert "--irc 'systemd:domain=INET:name=irc' is not a server endpoint: " in output
    assert "no socket 'irc' was passed by systemd" in output
    assert "Traceback" not in output
