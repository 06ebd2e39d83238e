"""
Listeners from endpoint descriptions (L{chatserver.ops.listeners}): TLS
taken out of C{ssl:} and C{systemd:} descriptions, its certificate read
again on reload.
"""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.testing import MemoryReactor

from chatserver.ops.listeners import (
    CertificateFiles,
    ReloadableCertificate,
    listening,
    split_tls,
)
from tests.integration.test_tls import make_certificate


def escape(text: str) -> str:
    """
    @return: C{text} as a field of an endpoint description.
    """
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


def test_ssl_is_tcp_with_the_certificate_of_its_keys() -> None:
    assert split_tls(
        "ssl:6697:interface=127.0.0.1:privateKey=key.pem:certKey=cert.pem"
    ) == (
        "tcp:6697:interface=127.0.0.1",
        CertificateFiles("key.pem", "cert.pem"),
    )


def test_ssl_reads_server_pem_without_a_private_key() -> None:
    assert split_tls("ssl:6697") == ("tcp:6697", CertificateFiles("server.pem"))


def test_systemd_with_a_private_key_is_tls_over_the_socket() -> None:
    assert split_tls(
        "systemd:domain=INET:name=ircs:privateKey=k.pem:extraCertChain=chain.pem"
    ) == (
        "systemd:domain=INET:name=ircs",
        CertificateFiles("k.pem", extraCertChain="chain.pem"),
    )


@pytest.mark.parametrize(
    "description",
    ["tcp:8123", "systemd:domain=INET:index=0", "unix:/run/chat.sock", "tcp:0:x"],
)
def test_other_descriptions_are_left_as_they_are(description: str) -> None:
    assert split_tls(description) == (description, None)


def test_systemd_needs_a_private_key_for_tls() -> None:
    with pytest.raises(ValueError, match="privateKey"):
        split_tls("systemd:domain=INET:index=0:certKey=cert.pem")


def test_an_ssl_method_is_refused() -> None:
    with pytest.raises(ValueError, match="sslmethod"):
        split_tls("ssl:6697:sslmethod=TLSv1_METHOD")


paths = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\0"),
    min_size=1,
)


@given(paths, paths, st.integers(0, 65535), st.text("abc:=\\", max_size=8))
def test_any_file_names_and_interface_survive_the_split(
    key: str, cert: str, port: int, interface: str
) -> None:
    plain, files = split_tls(
        f"ssl:{port}:privateKey={escape(key)}:interface={escape(interface)}"
        f":certKey={escape(cert)}"
    )
    assert files == CertificateFiles(key, cert)
    assert plain == f"tcp:{port}:interface={escape(interface)}"


def make_pem(directory: Path, name: str) -> Path:
    """
    @return: A PEM file with a new key and a certificate for C{name}.
    """
    mine = directory / name
    mine.mkdir()
    return make_certificate(mine, name)[0]


def served_name(certificate: ReloadableCertificate) -> str:
    """
    @return: The subject of the certificate a new connection is given.
    """
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = certificate.context().wrap_bio(to_server, to_client, server_side=True)
    client_context = ssl.create_default_context()
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(from_server, from_client)
    for _ in range(4):
        with contextlib.suppress(ssl.SSLWantReadError):
            client.do_handshake()
        to_server.write(from_client.read())
        with contextlib.suppress(ssl.SSLWantReadError):
            server.do_handshake()
        from_server.write(to_client.read())
    served = client.getpeercert(binary_form=True)
    assert served is not None
    return x509.load_der_x509_certificate(served).subject.rfc4514_string()


def test_new_connections_get_the_certificate_read_last(tmp_path: Path) -> None:
    pem = make_pem(tmp_path, "first")
    certificate = ReloadableCertificate(CertificateFiles(str(pem)))
    make_pem(tmp_path, "second").replace(pem)
    certificate.reload()
    assert served_name(certificate) == "CN=second"


def test_a_bad_certificate_keeps_the_one_in_use(tmp_path: Path) -> None:
    pem = make_pem(tmp_path, "first")
    certificate = ReloadableCertificate(CertificateFiles(str(pem)))
    pem.write_text("not a certificate")
    with pytest.raises(Exception):  # noqa: B017 (OpenSSL's own)
        certificate.reload()
    assert served_name(certificate) == "CN=first"


def test_a_certificate_that_cannot_be_read_is_one_line() -> None:
    with pytest.raises(ValueError, match="cannot read its certificate: No such file"):
        listening(MemoryReactor(), "ssl:0:privateKey=/nonexistent.pem")
