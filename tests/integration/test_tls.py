"""
TLS listeners beside plain ones, sharing one chat: a raw TLS socket and
C{openssl s_client} chat with a plain-TCP user.
"""

import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.support import TIMEOUT, ChatServer, Client, run


def make_certificate(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """
    Make a self-signed certificate for C{name} and 127.0.0.1, as the docs
    show.

    @return: The server's PEM (key and certificate) and the certificate alone.
    """
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name},IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server_pem = directory / "server.pem"
    server_pem.write_bytes(key.read_bytes() + cert.read_bytes())
    return server_pem, cert


@pytest.fixture
def tls_server(tmp_path, start_server) -> tuple[ChatServer, Path]:
    server_pem, cert = make_certificate(tmp_path)
    server = start_server(
        "--rate",
        "0",
        "--port",
        f"ssl:0:interface=127.0.0.1:privateKey={server_pem}",
    )
    return server, cert


class TLSClient(Client):
    def __init__(self, port: int, cafile: Path) -> None:
        context = ssl.create_default_context(cafile=str(cafile))
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        self._buffer = b""


def test_raw_tls_socket_chats_with_a_plain_user(tls_server):
    server, cert = tls_server
    plain_port, tls_port = server.ports
    alice = server.connect(plain_port)
    alice.expect(lines.Prompt)
    alice.send("alice")
    alice.expect(lines.UserList)
    secure = TLSClient(tls_port, cert)
    secure.expect(lines.Prompt)
    secure.send("secure")
    secure.expect(lines.Welcome)
    assert secure.event() == lines.UserList(("alice", "secure"))
    assert alice.event() == lines.Joined("secure")
    secure.send("over TLS")
    assert alice.event() == lines.Message("secure", "over TLS")
    alice.send("over TCP")
    assert secure.event() == lines.Message("alice", "over TCP")


def test_openssl_s_client_logs_in_and_chats(tls_server):
    server, cert = tls_server
    tls_port = server.ports[1]
    alice = server.login("alice")
    result = run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"127.0.0.1:{tls_port}",
            "-quiet",
            "-ign_eof",
            "-CAfile",
            str(cert),
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
        ],
        input="sclient\nhello from s_client\n/quit\n",
    )
    assert "=== Welcome to chat, sclient!" in result.stdout
    assert result.stdout.rstrip().endswith("-!- Goodbye!")
    assert alice.expect(lines.Joined) == lines.Joined("sclient")
    assert alice.event() == lines.Message("sclient", "hello from s_client")


def test_a_client_trusting_another_certificate_is_refused(tmp_path, tls_server):
    server, _ = tls_server
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    _, other_cert = make_certificate(other_dir)
    with pytest.raises(ssl.SSLCertVerificationError):
        TLSClient(server.ports[1], other_cert)
