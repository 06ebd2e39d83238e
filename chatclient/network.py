"""
The network side of the client: bytes to server events, and one connection
that comes back by itself.

The way a server line travels::

    socket bytes -> split at CR LF -> at most LINES_PER_TURN lines a turn
                 -> chatwire.lines.parse -> IConnectionEvents.lineReceived

L{Connection} keeps one connection to one address with Twisted's
L{ClientService}: it retries with exponential back-off when the server
cannot be reached or goes away, and tells its L{IConnectionEvents} about
every step (an attempt, its failure, the wait before the next one) so a
person can be shown what is happening.

Over TLS (L{EndpointMaker} with C{tls=True}) the server's certificate and host
name are verified by L{optionsForClientTLS} (with C{service_identity}).  A
connection whose TLS handshake fails is not retried: the same certificate
would be refused again, and since L{ClientService} counts the TCP connection
as a success its back-off would start over every time, a fast loop.  The
connection stops instead and L{IConnectionEvents.tlsFailed} says why.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, error
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.ssl import (
    Certificate,
    optionsForClientTLS,
    trustRootFromCertificates,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from chatwire import lines
from chatwire.addresses import format_address

if TYPE_CHECKING:
    # Not exported by twisted.internet.ssl; what trustRoot= accepts.
    from twisted.internet._sslverify import IOpenSSLTrustRoot

log = Logger(namespace="chatclient")

RetryPolicy = Callable[[int], float]
#: Builds the endpoint for a host, a port and whether to use TLS.
EndpointMaker = Callable[[str, int, bool], IStreamClientEndpoint]


def default_retry_policy() -> RetryPolicy:
    """
    @return: The back-off the client uses: 1.5 seconds after the first
        failure, growing by half each time, at most 30 seconds, plus up to a
        second of jitter.
    """
    return backoffPolicy(initialDelay=1.0, maxDelay=30.0, factor=1.5)


def describe_connect_failure(host: str, port: int, reason: Failure) -> str:
    """
    Say in words why a connection attempt failed.

    @param reason: The failure of the attempt.
    @return: A sentence fit for the status line.
    """
    address = format_address(host, port)
    if reason.check(error.ConnectionRefusedError):
        return f"cannot reach {address}, is the server running?"
    if reason.check(error.DNSLookupError):
        return f"cannot find the host {host}"
    if reason.check(error.TimeoutError):
        return f"{address} did not answer"
    return f"cannot connect to {address}: {reason.getErrorMessage()}"


def is_tls_failure(reason: Failure) -> bool:
    """
    @return: Whether C{reason} is a failed TLS handshake or a certificate
        that did not verify.
    """
    from OpenSSL import SSL

    return reason.check(SSL.Error, *_identity_errors()) is not None


def _identity_errors() -> tuple[type[Exception], ...]:
    from service_identity import CertificateError, VerificationError

    return (VerificationError, CertificateError)


def describe_tls_failure(host: str, port: int, reason: Failure) -> str:
    """
    Say in words why a TLS connection was refused: an untrusted certificate,
    a certificate for another host name, or no TLS at all on that port.

    @param reason: A failure for which L{is_tls_failure} is true.
    """
    address = format_address(host, port)
    if reason.check(*_identity_errors()):
        return (
            f"the certificate of {address} is not valid for the host name "
            f"{host}, so it was not trusted"
        )
    detail = _ssl_reason(reason.value) if reason.value else ""
    if "certificate verify failed" in detail:
        return f"the certificate of {address} is not trusted ({detail})"
    return f"the TLS handshake with {address} failed ({detail}), is it a TLS port?"


def _ssl_reason(error: BaseException) -> str:
    # OpenSSL.SSL.Error carries a list of (library, function, reason).
    reasons = [
        str(entry[2])
        for arg in error.args
        if isinstance(arg, list)
        for entry in arg
        if isinstance(entry, tuple) and len(entry) == 3
    ]
    return ", ".join(reasons) or str(error) or type(error).__name__


def describe_loss(reason: Failure) -> str:
    """
    Say in words why an open connection ended.
    """
    if reason.check(error.ConnectionDone):
        return "the server closed the connection"
    if reason.check(error.ConnectionLost):
        return "the connection was lost"
    if is_tls_failure(reason) and reason.value is not None:
        return f"TLS error ({_ssl_reason(reason.value)})"
    return reason.getErrorMessage()


class IConnectionEvents(Interface):
    """
    What a L{Connection} tells its owner.
    """

    def connecting(host: str, port: int) -> None:
        """
        An attempt to connect to C{host:port} has begun.
        """

    def connectFailed(message: str) -> None:
        """
        The attempt failed; C{message} says why, in words.
        """

    def retryScheduled(delay: float) -> None:
        """
        The next attempt will be made in C{delay} seconds.
        """

    def connectionMade() -> None:
        """
        The connection is open; the server's lines follow.
        """

    def lineReceived(event: lines.Event) -> None:
        """
        The server sent C{event}.
        """

    def badLine(line: bytes, why: str) -> None:
        """
        The server sent C{line}, which is not a server line.
        """

    def connectionLost(message: str) -> None:
        """
        The open connection ended; C{message} says why, in words.
        """

    def tlsFailed(message: str) -> None:
        """
        The server's certificate was refused (or the TLS handshake failed);
        C{message} says why, in words.  The connection is closed and will
        not be retried.
        """


class ChatClientProtocol(Protocol):
    """
    The client side of one connection: each server line is parsed with
    L{chatwire.lines.parse} and handed to the connection's events.

    Lines are handled at most L{LINES_PER_TURN} at a time: when a read brings
    more (a burst), the transport is paused and the rest is handled in the
    next turns of the reactor, so Tk, which runs in the same reactor, keeps
    answering the user however large the burst.

    @cvar MAX_LENGTH: The longest line accepted, in bytes; a longer one
        ends the connection.
    """

    delimiter = lines.LINE_END
    # A user list of a thousand long names is longer than LineReceiver's
    # 16 KiB.
    MAX_LENGTH = 1 << 20
    LINES_PER_TURN = 200
    transport: Any

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._buffer = b""
        self._lines: deque[bytes] = deque()
        self._paused = False
        self._nextTurn: IDelayedCall | None = None
        #: Whether any line has arrived (over TLS: the handshake worked).
        self.heard = False

    def connectionMade(self) -> None:
        self.connection._connectionMade(self)

    def dataReceived(self, data: bytes) -> None:
        received = (self._buffer + data).split(self.delimiter)
        self._buffer = received.pop()
        if len(self._buffer) > self.MAX_LENGTH:
            tooLong, self._buffer = self._buffer, b""
            self.connection.events.badLine(tooLong[:80], "line too long, disconnecting")
            self.transport.loseConnection()
            return
        self._lines.extend(received)
        if self._nextTurn is None:
            self._handleLines()

    def _handleLines(self) -> None:
        self._nextTurn = None
        pending = self._lines
        for _ in range(min(self.LINES_PER_TURN, len(pending))):
            self.lineReceived(pending.popleft())
        if pending and self.transport is not None and self.connected:
            if not self._paused:
                self._paused = True
                self.transport.pauseProducing()
            self._nextTurn = self.connection.clock.callLater(0, self._handleLines)
        elif self._paused:
            self._paused = False
            self.transport.resumeProducing()

    def lineReceived(self, line: bytes) -> None:
        """
        Parse one line and pass its event on.
        """
        self.heard = True
        try:
            event = lines.parse(line)
        except lines.LineFormatError as e:
            self.connection.events.badLine(line, str(e))
        else:
            self.connection.events.lineReceived(event)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._nextTurn is not None:
            self._nextTurn.cancel()
            self._nextTurn = None
        # What arrived before the end is still shown.
        while self._lines:
            self.lineReceived(self._lines.popleft())
        self.connection._connectionLost(self, reason)

    def sendText(self, text: str) -> None:
        """
        Send one line the user typed (or the name to log in with).
        """
        self.transport.write(text.encode("utf-8") + self.delimiter)


@implementer(IProtocolFactory)
class _ClientFactory(Factory):
    noisy = False

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def buildProtocol(self, addr: IAddress | None) -> ChatClientProtocol:
        return ChatClientProtocol(self.connection)


@implementer(IStreamClientEndpoint)
class _WatchedEndpoint:
    """
    An endpoint that tells the connection about each attempt and its
    failure, before L{ClientService} sees the result.
    """

    def __init__(self, connection: Connection, wrapped: IStreamClientEndpoint) -> None:
        self._connection = connection
        self._wrapped = wrapped

    def connect(self, protocolFactory: IProtocolFactory) -> defer.Deferred[IProtocol]:
        self._connection._attempting()
        d: defer.Deferred[IProtocol] = self._wrapped.connect(protocolFactory)

        def failed(reason: Failure) -> Failure:
            if not reason.check(defer.CancelledError):
                self._connection._attemptFailed(reason)
            return reason

        return d.addErrback(failed)


class Connection:
    """
    One connection to one chat server that reconnects by itself.

    @ivar events: Told about everything that happens.
    @ivar host: The server's host name, or C{""} before L{open}.
    @ivar port: The server's port.
    @ivar tls: Whether the connection uses TLS.
    @ivar protocol: The open connection's protocol, or L{None}.
    """

    def __init__(
        self,
        events: IConnectionEvents,
        clock: IReactorTime,
        makeEndpoint: EndpointMaker | None = None,
        retryPolicy: RetryPolicy | None = None,
    ) -> None:
        """
        @param makeEndpoint: Builds the endpoint for a host, port and TLS
            flag; L{endpoint_maker}C{()} (the platform's trust) by default.
        @param retryPolicy: Seconds to wait after the given number of failed
            attempts in a row; L{default_retry_policy} by default.
        """
        self.events = events
        self.clock = clock
        self._makeEndpoint = makeEndpoint or endpoint_maker()
        self._policy = retryPolicy or default_retry_policy()
        self.host = ""
        self.port = 0
        self.tls = False
        self.protocol: ChatClientProtocol | None = None
        self._service: ClientService | None = None
        self._closing = False
        self._closeWaiters: list[defer.Deferred[None]] = []

    @property
    def active(self) -> bool:
        """
        Whether the connection is open or being (re)established, and not
        being closed.
        """
        return self._service is not None and not self._closing

    def open(self, host: str, port: int, tls: bool = False) -> None:
        """
        Connect to C{host:port} (over TLS if C{tls}) and stay connected.  An
        open connection to the same address is kept; one to another address
        (or one being closed) is closed first.
        """
        if self._service is not None:
            if self._closing or (host, port, tls) != (self.host, self.port, self.tls):
                self.close().addCallback(lambda _: self.open(host, port, tls))
            return
        self.host, self.port, self.tls = host, port, tls
        endpoint = _WatchedEndpoint(self, self._makeEndpoint(host, port, tls))
        self._service = ClientService(
            endpoint,
            _ClientFactory(self),
            retryPolicy=self._retryDelay,
            clock=self.clock,
        )
        self._service.startService()

    def reconnectNow(self) -> None:
        """
        Skip the rest of the wait before the next attempt.
        """
        service = self._service
        if service is None or self.protocol is not None:
            return
        # Stopping a waiting ClientService is immediate; starting it again
        # makes an attempt at once.
        service.stopService().addCallback(lambda _: service.startService())

    def sendText(self, text: str) -> bool:
        """
        Send one line to the server.

        @return: Whether there was an open connection to send it on.
        """
        if self.protocol is None:
            return False
        self.protocol.sendText(text)
        return True

    def close(self) -> defer.Deferred[None]:
        """
        Stop reconnecting and close the connection, after sending what was
        written to it.

        @return: Fires once the connection is closed.
        """
        service = self._service
        if service is None:
            return defer.succeed(None)
        waiter = defer.Deferred[None]()
        self._closeWaiters.append(waiter)
        if not self._closing:
            self._closing = True
            service.stopService().addBoth(self._closed)
        return waiter

    def _closed(self, result: object) -> None:
        self._service = None
        self._closing = False
        waiters, self._closeWaiters = self._closeWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    # Called by the protocol and the endpoint

    def _retryDelay(self, failedAttempts: int) -> float:
        delay = self._policy(failedAttempts)
        if not self._closing:
            self.events.retryScheduled(delay)
        return delay

    def _attempting(self) -> None:
        self.events.connecting(self.host, self.port)

    def _attemptFailed(self, reason: Failure) -> None:
        self.events.connectFailed(
            describe_connect_failure(self.host, self.port, reason)
        )

    def _connectionMade(self, protocol: ChatClientProtocol) -> None:
        self.protocol = protocol
        self.events.connectionMade()

    def _connectionLost(self, protocol: ChatClientProtocol, reason: Failure) -> None:
        if protocol is not self.protocol:
            return
        self.protocol = None
        if self._closing:
            return
        if not protocol.heard and is_tls_failure(reason):
            # Not retried: see the module's docstring.
            self.close()
            self.events.tlsFailed(describe_tls_failure(self.host, self.port, reason))
            return
        self.events.connectionLost(describe_loss(reason))


def load_trust_root(pem: bytes) -> IOpenSSLTrustRoot:
    """
    Trust the certificates of a PEM file: a private CA, a bundle of them, or
    a server's self-signed certificate.

    @param pem: The file's content.
    @raise ValueError: If it holds no certificate.
    """
    certificates = _pem_certificates(pem)
    if not certificates:
        raise ValueError("no PEM certificate in it")
    trustRoot: IOpenSSLTrustRoot = trustRootFromCertificates(certificates)
    return trustRoot


def _pem_certificates(pem: bytes) -> Sequence[Certificate]:
    begin, end = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
    certificates = []
    rest = pem
    while (start := rest.find(begin)) >= 0:
        stop = rest.find(end, start)
        if stop < 0:
            break
        stop += len(end)
        certificates.append(Certificate.loadPEM(rest[start:stop]))
        rest = rest[stop:]
    return certificates


def endpoint_maker(
    trustRoot: IOpenSSLTrustRoot | None = None, reactor: Any = None
) -> EndpointMaker:
    """
    Build the client's endpoints: a L{HostnameEndpoint}, wrapped in TLS
    (L{wrapClientTLS}) when asked, verifying the server's certificate and
    host name.

    @param trustRoot: The certificates to trust; the platform's
        (L{twisted.internet.ssl.platformTrust}) when L{None}.
    @param reactor: The reactor; the global one when L{None}.
    """

    def make(host: str, port: int, tls: bool) -> IStreamClientEndpoint:
        nonlocal reactor
        if reactor is None:
            from twisted.internet import reactor
        endpoint: IStreamClientEndpoint = HostnameEndpoint(reactor, host, port)
        if tls:
            options = optionsForClientTLS(host, trustRoot=trustRoot)
            endpoint = wrapClientTLS(options, endpoint)
        return endpoint

    return make
