"""
TLS connections that cost less: Twisted's memory-BIO TLS on the standard
library's C C{ssl} module instead of pyOpenSSL, each write sealed at once
and, once nothing waits, sent by OpenSSL straight to the socket.

Twisted's L{TLSMemoryBIOProtocol} speaks to OpenSSL through pyOpenSSL,
whose every call goes through cffi and Python-level error checks: sealing
one write and reading its ciphertext out of the memory BIO took about 3.3
us there against 1.0 us through C{ssl}'s C objects (one process, 59-byte
writes, C{bench/NOTES.md}).  The standard library's C{ssl} also links the
system's OpenSSL (Debian's 3.0), whose C{SSL} object is half the size of
the one pyOpenSSL's wheel brings.

L{LeanTLSProtocol} keeps Twisted's state machine (handshake, buffering
before it, shutdown, aborts, producers) and replaces each place it calls
pyOpenSSL with the same call on an C{ssl} object reading from and writing
to two C{ssl.MemoryBIO}s.  It encrypts each write at once, where Twisted's
L{TLSMemoryBIOFactory} (since 22.8, C{BufferingTLSTransport}) holds every
write back with a C{callLater(0)} per connection: our doors already write
once per connection per turn (the fan-out's outbox).

Once the handshake is over and the TCP transport holds nothing, the
C{SSL}'s write BIO is the socket itself (L{_Wire}): a write is one
C{SSL_write} that seals records of up to 16 KB and sends them, with no
copy out of a memory BIO, no bytes object for the ciphertext and no
Python send.  A fan-out's write to one recipient holds a whole turn's
lines (350 of them, 21 KB, in the fan-out benchmark), so the size of the
records counts: AES-GCM seals 16 KB records at about twice the speed of 2
KB ones here, and through the memory BIO records had to stay at 2 KB (the
BIO keeps the most it ever held).  When the socket is full, OpenSSL says
so; the rest of that write, and every write after it until Twisted's
buffer is sent, goes through the memory BIO and the transport as before,
so back-pressure (the transport pausing the producers) is Twisted's.

The listeners' contexts are made by L{server_context}; the C{ssl} module
cannot set two things Twisted's L{CertificateOptions} does, so
L{lean_context} sets them through C{libssl} itself: C{SSL_MODE_RELEASE_BUFFERS}
(OpenSSL otherwise keeps a read and a write buffer of about 17 KB for
every connection, idle or not) and no session cache.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import ssl
import sys
from collections.abc import Callable
from typing import Any, cast

from OpenSSL import crypto
from twisted.internet import tcp
from twisted.internet.interfaces import IHandshakeListener, IProtocolFactory
from twisted.internet.main import CONNECTION_LOST
from twisted.internet.protocol import Protocol, connectionDone
from twisted.protocols.policies import ProtocolWrapper
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from twisted.python.failure import Failure
from zope.interface import directlyProvides, providedBy

# The most plaintext encrypted into one TLS record written to the memory
# BIO, and so the most ciphertext the connection's outgoing memory BIO ever
# holds from a write while the socket has room (see LeanTLSProtocol._write).
RECORD = 2048

# The most plaintext read out of the connection at a time.
_READ = 2**15

# What Twisted's CertificateOptions allows for TLS 1.2 (TLS 1.3's suites are
# OpenSSL's defaults, the same three).
CIPHERS = (
    "ECDH+AESGCM:ECDH+CHACHA20:DH+AESGCM:DH+CHACHA20:ECDH+AES256:DH+AES256:"
    "ECDH+AES128:DH+AES:RSA+AESGCM:RSA+AES:!aNULL:!MD5:!DSS"
)

# libssl's constants (openssl/ssl.h), for lean_context.
_SSL_CTRL_MODE = 33
_SSL_CTRL_SET_SESS_CACHE_MODE = 44
_SSL_MODE_RELEASE_BUFFERS = 0x10
_SSL_SESS_CACHE_OFF = 0


def _libssl() -> Any:
    """
    @return: The C{libssl} the C{ssl} module is linked with, through
        C{ctypes}, or L{None} if it cannot be found.
    """
    import _ssl

    if sys.implementation.name != "cpython" or sys.version_info >= (3, 14):
        # The pointers are read where these versions keep them (_field);
        # elsewhere TLS stays on memory BIOs, without the context's tuning.
        return None
    name = "libssl.so.3" if ssl.OPENSSL_VERSION_INFO[0] == 3 else None
    if name is None:
        name = ctypes.util.find_library("ssl")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
        # The same library _ssl loaded, or the pointers below mean nothing.
        library.OpenSSL_version.restype = ctypes.c_char_p
        library.OpenSSL_version.argtypes = [ctypes.c_int]
        if library.OpenSSL_version(0).decode() != _ssl.OPENSSL_VERSION:
            return None
        library.SSL_CTX_ctrl.restype = ctypes.c_long
        library.SSL_CTX_ctrl.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_long,
            ctypes.c_void_p,
        ]
        library.SSL_CTX_get_options.restype = ctypes.c_uint64
        library.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        for name, result, arguments in (
            ("SSL_get_SSL_CTX", ctypes.c_void_p, [ctypes.c_void_p]),
            ("SSL_get_wbio", ctypes.c_void_p, [ctypes.c_void_p]),
            ("SSL_set0_wbio", None, [ctypes.c_void_p, ctypes.c_void_p]),
            ("BIO_new_socket", ctypes.c_void_p, [ctypes.c_int, ctypes.c_int]),
            ("BIO_up_ref", ctypes.c_int, [ctypes.c_void_p]),
        ):
            function = getattr(library, name)
            function.restype = result
            function.argtypes = arguments
    except (OSError, AttributeError):
        return None
    return library


_LIBSSL = _libssl()


def _ssl_ctx(context: ssl.SSLContext) -> int | None:
    """
    @return: The address of the C{SSL_CTX} of C{context}, the first field
        of CPython's C{PySSLContext} after the object's header, if
        C{libssl} agrees that it is one (its options are C{context}'s);
        else L{None}.
    """
    if _LIBSSL is None:
        return None
    address = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not address or _LIBSSL.SSL_CTX_get_options(address) != context.options:
        return None
    return address


def _field(owner: object, index: int) -> int | None:
    """
    @return: The pointer that is field C{index} (from 0) after the header
        of the C object C{owner} (CPython's own layout of C{_ssl}'s
        objects).
    """
    at = id(owner) + object.__basicsize__ + index * ctypes.sizeof(ctypes.c_void_p)
    return ctypes.c_void_p.from_address(at).value


class _Wire:
    """
    Where one connection's TLS writes its records: the outgoing memory BIO
    (Twisted's way: the ciphertext read out and written to the transport),
    or the connection's socket itself (C{SSL_write} sends it: no copy
    through Python, and records of 16 KB without the memory BIO growing to
    hold them).

    C{ssl} offers no way to give a TLS object a socket to write to and a
    memory BIO to read from; this sets the C{SSL}'s write BIO through
    C{libssl}, after checking that the pointers found in the C{ssl}
    objects are what C{libssl} says they are.

    @ivar direct: Whether records go to the socket.
    """

    __slots__ = ("_memory", "_ssl", "direct")

    def __init__(self, connection: Any, outgoing: ssl.MemoryBIO, context: int) -> None:
        """
        @param connection: The C{_ssl._SSLSocket}.
        @param outgoing: Its outgoing memory BIO.
        @param context: The address of its context's C{SSL_CTX}.
        @raise ValueError: If the pointers cannot be trusted.
        """
        # PySSLSocket: Socket, ssl, ...; PySSLMemoryBIO: bio, ...
        address = _field(connection, 1)
        memory = _field(outgoing, 0)
        if (
            not address
            or not memory
            or _LIBSSL.SSL_get_SSL_CTX(address) != context
            or _LIBSSL.SSL_get_wbio(address) != memory
        ):
            raise ValueError("not the TLS object libssl knows")
        self._ssl = address
        self._memory = memory
        self.direct = False

    def toSocket(self, fileno: int) -> None:
        """
        Write records straight to the socket C{fileno} (not closed with
        the TLS object).
        """
        socket = _LIBSSL.BIO_new_socket(fileno, 0)
        if socket:
            # The memory BIO's own object keeps its reference.
            _LIBSSL.SSL_set0_wbio(self._ssl, socket)
            self.direct = True

    def toMemory(self) -> None:
        """
        Write records to the outgoing memory BIO again.
        """
        if self.direct:
            _LIBSSL.BIO_up_ref(self._memory)
            _LIBSSL.SSL_set0_wbio(self._ssl, self._memory)
            self.direct = False


def lean_context(context: ssl.SSLContext) -> bool:
    """
    Have every connection of C{context} release its buffers while idle
    (C{SSL_MODE_RELEASE_BUFFERS}) and keep no session cache, as Twisted's
    L{CertificateOptions} does; the C{ssl} module offers neither.

    @return: Whether it was done (not if C{libssl} or C{context}'s
        C{SSL_CTX} cannot be found safely).
    """
    address = _ssl_ctx(context)
    if address is None:
        return False
    _LIBSSL.SSL_CTX_ctrl(address, _SSL_CTRL_MODE, _SSL_MODE_RELEASE_BUFFERS, None)
    _LIBSSL.SSL_CTX_ctrl(
        address, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_OFF, None
    )
    return True


def released_buffers(context: ssl.SSLContext) -> bool:
    """
    @return: Whether C{context}'s connections release their buffers while
        idle.
    """
    address = _ssl_ctx(context)
    if address is None:
        return False
    mode = _LIBSSL.SSL_CTX_ctrl(address, _SSL_CTRL_MODE, 0, None)
    return bool(mode & _SSL_MODE_RELEASE_BUFFERS)


def server_context(
    certificate: str,
    key: str,
    dhParameters: str | None = None,
) -> ssl.SSLContext:
    """
    A server's TLS context as Twisted's L{CertificateOptions} makes one: TLS
    1.2 and later, its ciphers, no session tickets nor cache, buffers
    released while idle (L{lean_context}).

    @param certificate: A PEM file of the certificate, followed by the
        certificates between it and a root, if any.
    @param key: A PEM file of the private key.
    @param dhParameters: A file of Diffie-Hellman parameters, if any.
    @raise OSError: If a file cannot be read.
    @raise ssl.SSLError: If a file is not what it should be.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_TICKET | ssl.OP_NO_COMPRESSION
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    context.num_tickets = 0
    context.set_ciphers(CIPHERS)
    context.load_cert_chain(certificate, key, password=_no_password)
    if dhParameters is not None:
        context.load_dh_params(dhParameters)
    lean_context(context)
    return context


def _no_password() -> bytes:
    raise ValueError("the private key is encrypted: give it unencrypted")


def _represents_eof(error: BaseException | None) -> bool:
    """
    @return: Whether C{error} is the peer closing TCP without TLS's
        goodbye.
    """
    return isinstance(error, ssl.SSLEOFError | ssl.SSLSyscallError)


class LeanTLSProtocol(TLSMemoryBIOProtocol):
    """
    Twisted's memory-BIO TLS over the C{ssl} module's C objects, encrypting
    each write at once: straight to the socket when nothing waits (records
    of up to 16 KB, see the module's docstring), else in records of at most
    L{RECORD} bytes of plaintext read out of the memory BIO, the ciphertext
    of one write in one C{transport.write}.

    OpenSSL's memory BIO (C{BIO_s_mem}) grows its buffer to the most it ever
    held and never shrinks it: Twisted encrypts up to 16 KB at a time and
    then reads the BIO out, so every connection once written 16 KB in one go
    (the user list at login) kept about 22 KB for the rest of its life.
    Records of 2 KB keep it under 3 KB; the ciphertext is read out after each
    record and joined, so a write still makes one send.  (A write that
    meets a full socket is the exception: its rest goes into the BIO whole,
    as OpenSSL must be given the same write again.)

    C{_tlsConnection} is the C{ssl} module's C{_SSLSocket} (what
    C{ssl.SSLObject} wraps), C{getHandle} returns it.
    """

    factory: LeanTLSFactory
    _tlsConnection: Any

    @property
    def _below(self) -> Any:
        """
        The transport below, once connected.
        """
        return self.transport

    def makeConnection(self, transport: Any) -> None:
        """
        Connect to C{transport}, as Twisted's does, with a TLS object of
        the factory's context reading from and writing to memory BIOs.
        """
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        context = self.factory.context()
        self._tlsConnection = cast(Any, context)._wrap_bio(
            self._incoming, self._outgoing, server_side=True, server_hostname=None
        )
        self._wire: _Wire | None = None
        address = _ssl_ctx(context)
        if address is not None and isinstance(transport, tcp.Connection):
            with contextlib.suppress(ValueError):
                self._wire = _Wire(self._tlsConnection, self._outgoing, address)
        self._appSendBuffer = []
        for interface in providedBy(transport):
            directlyProvides(self, interface)
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        if self._connectWrapped:
            ProtocolWrapper.makeConnection(self, transport)
        self._checkHandshakeStatus()

    def _checkHandshakeStatus(self) -> None:
        if self._aborted:
            return
        try:
            self._tlsConnection.do_handshake()
        except ssl.SSLWantReadError:
            self._flushSendBIO()
        except ssl.SSLError:
            self._tlsShutdownFinished(Failure())
        else:
            self._handshakeDone = True
            if IHandshakeListener.providedBy(self.wrappedProtocol):
                self.wrappedProtocol.handshakeCompleted()

    def _flushSendBIO(self) -> None:
        if self._outgoing.pending:
            self._below.write(self._outgoing.read())

    def _flushReceiveBIO(self) -> None:
        while not self._lostTLSConnection:
            try:
                data = self._tlsConnection.read(_READ)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLWantWriteError:
                # An answer (to a key update, say) met a full socket: it
                # and what follows go through the memory BIO.
                self._toMemory()
                continue
            except ssl.SSLError:
                self._tlsShutdownFinished(Failure())
                continue
            if not data:
                # The peer said goodbye (C{ssl} reads nothing where
                # pyOpenSSL raises ZeroReturnError): answer, and let the
                # transport's own reason reach the protocol.
                self._shutdownTLS()
                self._tlsShutdownFinished(None)
            elif not self._aborted:
                ProtocolWrapper.dataReceived(self, data)
        self._flushSendBIO()

    def dataReceived(self, data: bytes) -> None:
        self._incoming.write(data)
        if not self._handshakeDone:
            self._checkHandshakeStatus()
            if not self._handshakeDone:
                return
        if self._appSendBuffer:
            self._unbufferPendingWrites()
        self._flushReceiveBIO()

    def _toMemory(self) -> None:
        """
        Have records written to the memory BIO (and so the transport), as
        everything but the steady flow of writes is: handshakes, alerts,
        goodbyes, and writes while the transport holds anything.
        """
        if self._wire is not None:
            self._wire.toMemory()

    def _shutdownTLS(self) -> None:
        self._toMemory()
        try:
            self._tlsConnection.shutdown()
        except ssl.SSLError:
            # Waiting for the peer's goodbye (SSLWantReadError), or in the
            # middle of the handshake.
            done = False
        else:
            done = True
        self._flushSendBIO()
        if done:
            self._below.loseConnection()

    def _tlsShutdownFinished(self, reason: Failure | None) -> None:
        if reason is not None and _represents_eof(reason.value):
            # As Twisted's: an EOF in violation of TLS is ConnectionLost.
            reason = Failure(CONNECTION_LOST)
        if self._reason is None:
            self._reason = reason
        self._lostTLSConnection = True
        self._toMemory()
        self._flushSendBIO()
        self._below.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        # The socket is closed: its number may be another's soon.
        self._toMemory()
        self._wire = None
        if not self._lostTLSConnection:
            self._incoming.write_eof()
            self._flushReceiveBIO()
            self._lostTLSConnection = True
        reason = self._reason or reason
        self._reason = None
        self.connected = False
        ProtocolWrapper.connectionLost(self, reason)
        self._tlsConnection = None

    def _write(self, data: bytes) -> None:
        if self._lostTLSConnection or not data:
            return
        connection = self._tlsConnection
        outgoing = self._outgoing
        wire = self._wire
        if wire is not None and self._handshakeDone:
            if not wire.direct:
                transport: Any = self.transport
                if not (
                    transport.dataBuffer
                    or transport._tempDataLen
                    or transport.disconnecting
                    or not transport.connected
                    or outgoing.pending
                ):
                    # Nothing waits to be sent: records may go straight
                    # to the socket again.
                    wire.toSocket(transport.socket.fileno())
            if wire.direct:
                try:
                    connection.write(data)
                    return
                except ssl.SSLWantWriteError:
                    # The socket is full.  What it did not take goes
                    # through the memory BIO to Twisted's buffer (the
                    # same data again: OpenSSL goes on where it stopped),
                    # and so does every write until that buffer is sent.
                    wire.toMemory()
                    try:
                        connection.write(data)
                    except ssl.SSLError:
                        self._tlsShutdownFinished(Failure())
                        return
                    self._below.write(outgoing.read())
                    return
                except ssl.SSLError:
                    self._tlsShutdownFinished(Failure())
                    return
        if len(data) <= RECORD:
            # The fan-out's usual write: one record, one read, one send.
            try:
                connection.write(data)
            except ssl.SSLWantReadError:
                # The handshake is not over: keep it for after.
                self._bufferedWrite(data)
                return
            except ssl.SSLError:
                self._tlsShutdownFinished(Failure())
                return
            self._below.write(outgoing.read())
            return
        sealed: list[bytes] = []
        done = 0
        failure: Failure | None = None
        while done < len(data):
            try:
                done += connection.write(data[done : done + RECORD])
            except ssl.SSLWantReadError:
                self._bufferedWrite(data[done:])
                break
            except ssl.SSLError:
                failure = Failure()
                break
            sealed.append(outgoing.read())
        if sealed and self.transport is not None:
            self._below.write(b"".join(sealed))
        if failure is not None:
            # As Twisted's: the error goes to the application protocol's
            # connectionLost.
            self._tlsShutdownFinished(failure)

    def getPeerCertificate(self) -> crypto.X509 | None:
        """
        @return: The client's certificate, if it gave one.
        """
        der = self._tlsConnection.getpeercert(True)
        if der is None:
            return None
        return crypto.load_certificate(crypto.FILETYPE_ASN1, der)

    @property
    def negotiatedProtocol(self) -> bytes | None:
        connection = self._tlsConnection
        if connection is None:
            return None
        chosen: str | None = connection.selected_alpn_protocol()
        return None if chosen is None else chosen.encode("ascii")


class LeanTLSFactory(TLSMemoryBIOFactory):
    """
    A server-side factory of L{LeanTLSProtocol}s.

    @ivar context: What gives the context of each new connection (the one
        read last, for a certificate that reloads).
    """

    protocol = LeanTLSProtocol

    def __init__(
        self,
        context: ssl.SSLContext | Callable[[], ssl.SSLContext],
        wrappedFactory: IProtocolFactory,
    ) -> None:
        """
        @param context: The context of every connection, or a callable
            returning the one each new connection gets.
        @param wrappedFactory: Makes the protocol inside TLS.
        """
        super(TLSMemoryBIOFactory, self).__init__(wrappedFactory)
        self.context = (
            _fixed(context) if isinstance(context, ssl.SSLContext) else context
        )


def _fixed(context: ssl.SSLContext) -> Callable[[], ssl.SSLContext]:
    """
    @return: A callable that returns C{context}.
    """
    return lambda: context
