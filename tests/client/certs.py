"""
Certificates for the client's TLS tests, made in-process with
C{cryptography}: a self-signed certificate for given host names and
addresses, and the server's PEM (key and certificate) for C{ssl:} endpoints.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class SelfSigned:
    """
    A self-signed certificate and its key, in PEM.
    """

    key: bytes
    certificate: bytes

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """
        Write C{STEM-server.pem} (key and certificate, for the server) and
        C{STEM-cert.pem} (the certificate alone, for the client's C{--ca}).

        @return: The two paths.
        """
        directory.mkdir(parents=True, exist_ok=True)
        server, cert = directory / f"{stem}-server.pem", directory / f"{stem}-cert.pem"
        server.write_bytes(self.key + self.certificate)
        cert.write_bytes(self.certificate)
        return server, cert


def self_signed(
    name: str = "localhost",
    dns: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
) -> SelfSigned:
    """
    Make a self-signed certificate valid for the host names C{dns} and the
    addresses C{ips} (its subject names C{name}).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    alternatives: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    alternatives += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if alternatives:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(alternatives), critical=False
        )
    certificate = builder.sign(key, hashes.SHA256())
    return SelfSigned(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate.public_bytes(serialization.Encoding.PEM),
    )
