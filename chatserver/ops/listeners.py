"""
The endpoint a door listens on, from its description: any Twisted server
endpoint string, where TLS is ours instead of the reactor's so that its
certificate can be read again on reload (L{chatserver.ops.reload}).

A TLS listener is described as Twisted describes one,
C{ssl:6697:privateKey=key.pem:certKey=cert.pem} (with C{extraCertChain=} and
C{dhParameters=} as Twisted takes them), or as a socket systemd hands over
with the same keys added:
C{systemd:domain=INET:name=ircs:privateKey=key.pem:certKey=cert.pem}.  Either
way the listener underneath is plain (C{tcp:6697}, the systemd socket) and
each connection is wrapped in TLS with the certificate read last.
"""

from __future__ import annotations

import re
import ssl as stdlib_ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from twisted.internet import ssl
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint
from zope.interface import implementer

from chatserver.ops.reload import IReloadable, describe_error
from chatserver.tuning.leantls import server_context

# The keys of Twisted's ssl: endpoint that name the files of a certificate.
TLS_KEYS = ("privateKey", "certKey", "extraCertChain", "dhParameters")

_CHAIN = re.compile(
    r"(-----BEGIN CERTIFICATE-----\n.+?\n-----END CERTIFICATE-----)", re.DOTALL
)


@dataclass(frozen=True)
class CertificateFiles:
    """
    Where a TLS listener's certificate is read from.

    @ivar privateKey: The PEM file of the private key (and of the
        certificate, without C{certKey}).
    @ivar certKey: The PEM file of the certificate, if not C{privateKey}.
    @ivar extraCertChain: A PEM file of the certificates between the
        certificate and a root, if any.
    @ivar dhParameters: A file of Diffie-Hellman parameters, if any.
    """

    privateKey: str
    certKey: str | None = None
    extraCertChain: str | None = None
    dhParameters: str | None = None


def _split(description: str) -> list[str]:
    """
    @return: The fields of an endpoint description, as written (escapes
        kept), split at each C{:} that no backslash escapes.
    """
    fields = [""]
    escaped = False
    for character in description:
        if escaped:
            fields[-1] += character
            escaped = False
        elif character == "\\":
            fields[-1] += character
            escaped = True
        elif character == ":":
            fields.append("")
        else:
            fields[-1] += character
    return fields


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _key_of(field: str) -> tuple[str, str] | None:
    """
    @return: The key and value of a C{key=value} field (unescaped), or
        L{None} for a positional one.
    """
    escaped = False
    for at, character in enumerate(field):
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "=":
            return _unescape(field[:at]), _unescape(field[at + 1 :])
    return None


def split_tls(description: str) -> tuple[str, CertificateFiles | None]:
    """
    Take TLS out of an endpoint description.

    @return: The description of the plain listener underneath, and where
        its certificate is read from; the description as it was and
        L{None} for a listener without TLS.
    @raise ValueError: If C{sslmethod} is given (the protocol versions are
        left to Twisted's defaults), or a C{systemd:} listener has other TLS
        keys without C{privateKey}.
    """
    fields = _split(description)
    kind = _unescape(fields[0]).strip().lower()
    if kind not in ("ssl", "systemd"):
        return description, None
    files: dict[str, str] = {}
    rest = []
    for field in fields[1:]:
        keyed = _key_of(field)
        if keyed is not None and keyed[0] in (*TLS_KEYS, "sslmethod"):
            files[keyed[0]] = keyed[1]
        else:
            rest.append(field)
    if "sslmethod" in files:
        raise ValueError("sslmethod is not supported: Twisted's defaults are used")
    if kind == "ssl":
        files.setdefault("privateKey", "server.pem")
        plain = ":".join(["tcp", *rest])
    elif not files:
        return description, None
    elif "privateKey" not in files:
        raise ValueError("TLS over a systemd socket needs privateKey=")
    else:
        plain = ":".join([fields[0], *rest])
    return plain, CertificateFiles(**files)


def load_certificate(files: CertificateFiles) -> ssl.CertificateOptions:
    """
    Read a certificate as Twisted's C{ssl:} endpoint reads it.

    @raise OSError: If a file cannot be read.
    @raise Exception: If a file is not what it should be (OpenSSL's errors).
    """
    with open(files.certKey or files.privateKey, "rb") as certificate:
        certPEM = certificate.read()
    with open(files.privateKey, "rb") as key:
        keyPEM = key.read()
    private = ssl.PrivateCertificate.loadPEM(certPEM + b"\n" + keyPEM)
    chain = None
    if files.extraCertChain is not None:
        with open(files.extraCertChain, encoding="ascii") as chainFile:
            found = _CHAIN.findall(chainFile.read())
        chain = [ssl.Certificate.loadPEM(pem).original for pem in found]
        if not chain:
            raise ValueError(f"no PEM certificate in {files.extraCertChain}")
    dh = None
    if files.dhParameters is not None:
        from twisted.python.filepath import FilePath

        dh = ssl.DiffieHellmanParameters.fromFile(FilePath(files.dhParameters))
    return ssl.CertificateOptions(
        privateKey=private.privateKey.original,
        certificate=private.original,
        extraCertChain=chain,
        dhParameters=dh,
    )


def load_context(files: CertificateFiles) -> stdlib_ssl.SSLContext:
    """
    Read a certificate into the TLS context of a listener's connections
    (L{chatserver.tuning.leantls.server_context}), after checking it as
    Twisted's C{ssl:} endpoint does (L{load_certificate}), whose errors
    are the clearer.

    @raise OSError: If a file cannot be read.
    @raise Exception: If a file is not what it should be.
    """
    load_certificate(files)
    certificate = files.certKey or files.privateKey
    if files.extraCertChain is None:
        return server_context(certificate, files.privateKey, files.dhParameters)
    # OpenSSL reads a certificate's chain from the certificate's own file.
    pems = [
        Path(certificate).read_text(encoding="ascii"),
        Path(files.extraCertChain).read_text(encoding="ascii"),
    ]
    with tempfile.TemporaryDirectory() as directory:
        chained = Path(directory) / "chain.pem"
        chained.write_text(
            "\n".join(found for pem in pems for found in _CHAIN.findall(pem)) + "\n",
            encoding="ascii",
        )
        return server_context(str(chained), files.privateKey, files.dhParameters)


@implementer(IReloadable)
class ReloadableCertificate:
    """
    A TLS listener's certificate: each new connection gets the one read
    last (L{context}), and one already open keeps its own.

    @ivar files: Where it is read from.
    @ivar name: What it is, for the reload's log.
    """

    def __init__(self, files: CertificateFiles) -> None:
        """
        @raise Exception: As L{load_context} does.
        """
        self.files = files
        self.name = f"TLS certificate {files.certKey or files.privateKey}"
        self._context = load_context(files)

    def reload(self) -> None:
        """
        Read the certificate again; if it cannot be, keep the one in use.
        """
        self._context = load_context(self.files)

    def context(self) -> stdlib_ssl.SSLContext:
        """
        @return: The TLS context a new connection gets.
        """
        return self._context


@dataclass(frozen=True)
class Listening:
    """
    How to listen on one description.

    @ivar endpoint: The plain listener underneath.
    @ivar certificate: Its TLS certificate, or L{None} without TLS.
    """

    endpoint: IStreamServerEndpoint
    certificate: ReloadableCertificate | None


def listening(reactor: object, description: str) -> Listening:
    """
    @return: How to listen on the endpoint C{description}.
    @raise ValueError: If it is not a server endpoint, or its certificate
        cannot be read.
    """
    plain, files = split_tls(description)
    try:
        endpoint = serverFromString(reactor, plain)
    except KeyError as e:
        # systemd:...:name=NAME with no socket of that name passed.
        raise ValueError(f"no socket {e} was passed by systemd") from None
    except IndexError:
        raise ValueError("no socket of that index was passed by systemd") from None
    certificate = None
    if files is not None:
        try:
            certificate = ReloadableCertificate(files)
        except Exception as e:  # OpenSSL's errors and unreadable files alike
            raise ValueError(f"cannot read its certificate: {describe_error(e)}") from e
    return Listening(endpoint, certificate)
