"""
Lean TLS connections (L{chatserver.tuning.leantls}): the standard library's
C{ssl} under Twisted's memory-BIO TLS, each write sealed at once in records
small enough that OpenSSL's memory BIO stays small, in one write to the
transport, and every context with its buffers released while idle and no
session kept.  An in-memory pyOpenSSL client speaks to the server side over
a L{StringTransport}.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
import tempfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from OpenSSL import SSL
from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport

from chatserver.tuning.leantls import (
    RECORD,
    LeanTLSFactory,
    LeanTLSProtocol,
    released_buffers,
    server_context,
)


def credentials() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """
    @return: A new ECDSA key and a self-signed certificate for it.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def context() -> ssl.SSLContext:
    """
    @return: A server context with a new self-signed certificate.
    """
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "server.pem"
        path.write_bytes(pem())
        return server_context(str(path), str(path))


def pem() -> bytes:
    """
    @return: A new private key and its self-signed certificate in one PEM
        file, as an C{ssl:} endpoint's C{privateKey} reads it.
    """
    key, certificate = credentials()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + certificate.public_bytes(serialization.Encoding.PEM)


class Recorder(StringTransport):
    """
    A transport that remembers each write apart.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)


class Pair:
    """
    A server-side connection of a L{LeanTLSFactory} and an in-memory client,
    handshaken.
    """

    def __init__(self) -> None:
        factory = LeanTLSFactory(context(), Factory.forProtocol(Protocol))
        self.server: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        self.transport = Recorder()
        self.server.makeConnection(self.transport)
        self.client = SSL.Connection(SSL.Context(SSL.TLS_METHOD), None)
        self.client.set_connect_state()
        for _ in range(10):
            with contextlib.suppress(SSL.WantReadError):
                self.client.do_handshake()
            self.toServer()
            self.received()
        assert self.server._handshakeDone
        self.transport.writes.clear()

    def toServer(self) -> None:
        try:
            data = self.client.bio_read(2**16)
        except SSL.WantReadError:
            return
        self.server.dataReceived(data)

    def received(self) -> bytes:
        """
        @return: The plaintext of everything the server sent since the last
            call.
        """
        if self.transport.value():
            self.client.bio_write(self.transport.value())
        self.transport.clear()
        out = b""
        while True:
            try:
                out += self.client.recv(2**16)
            except SSL.WantReadError:
                return out


def records(ciphertext: bytes) -> list[int]:
    """
    @return: The length of each TLS record in C{ciphertext}.
    """
    lengths = []
    while ciphertext:
        length = int.from_bytes(ciphertext[3:5], "big")
        lengths.append(length)
        ciphertext = ciphertext[5 + length :]
    return lengths


def test_a_write_is_sealed_and_sent_at_once():
    pair = Pair()
    pair.server.write(b"hello\r\n")
    assert len(pair.transport.writes) == 1
    assert pair.received() == b"hello\r\n"


def test_a_long_write_goes_out_in_small_records_and_one_transport_write():
    pair = Pair()
    text = bytes(range(256)) * 400
    pair.server.write(text)
    (sent,) = pair.transport.writes
    lengths = records(sent)
    assert len(lengths) == -(-len(text) // RECORD)
    # A TLS 1.3 record adds its content type and a 16-byte tag.
    assert max(lengths) <= RECORD + 17
    assert pair.received() == text


def test_writes_before_the_handshake_ends_are_sent_after_it():
    factory = LeanTLSFactory(context(), Factory.forProtocol(Protocol))
    server: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    transport = StringTransport()
    server.makeConnection(transport)
    server.write(b"greeting\r\n")
    client = SSL.Connection(SSL.Context(SSL.TLS_METHOD), None)
    client.set_connect_state()
    got = b""
    for _ in range(10):
        with contextlib.suppress(SSL.WantReadError):
            client.do_handshake()
        with contextlib.suppress(SSL.WantReadError):
            server.dataReceived(client.bio_read(2**16))
        if transport.value():
            client.bio_write(transport.value())
        transport.clear()
        with contextlib.suppress(SSL.WantReadError):
            got += client.recv(2**16)
    assert got == b"greeting\r\n"


@pytest.mark.parametrize("size", [RECORD - 1, RECORD, RECORD + 1, 3 * RECORD])
def test_writes_around_a_record_arrive_whole(size):
    pair = Pair()
    text = b"x" * size
    pair.server.write(text)
    assert len(pair.transport.writes) == 1
    assert pair.received() == text


def test_the_server_side_is_the_standard_librarys_tls():
    pair = Pair()
    assert isinstance(pair.server, LeanTLSProtocol)
    # The C object ssl.SSLObject wraps: no pyOpenSSL on the way.
    assert type(pair.server.getHandle()).__module__ == "_ssl"
    assert pair.server.getPeerCertificate() is None


def test_the_context_releases_every_connections_buffers_while_idle():
    assert released_buffers(context())


def test_a_client_is_given_no_session_ticket():
    factory = LeanTLSFactory(context(), Factory.forProtocol(Protocol))
    server: Any = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    transport = StringTransport()
    server.makeConnection(transport)
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(incoming, outgoing)
    got = b""
    for _ in range(10):
        with contextlib.suppress(ssl.SSLWantReadError):
            client.do_handshake()
        if outgoing.pending:
            server.dataReceived(outgoing.read())
        if server._handshakeDone and not got:
            server.write(b"hello\r\n")
        incoming.write(transport.value())
        transport.clear()
        with contextlib.suppress(ssl.SSLWantReadError):
            got += client.read(2**16)
    assert got == b"hello\r\n"
    assert client.session is not None
    assert not client.session.has_ticket


def test_a_client_saying_goodbye_is_answered_and_closed():
    pair = Pair()
    pair.client.shutdown()
    pair.toServer()
    assert pair.transport.disconnecting
    pair.client.bio_write(pair.transport.value())
    with contextlib.suppress(SSL.WantReadError):
        assert pair.client.shutdown()
