"""
The gate every connection passes at accept, whatever its door: the shared
L{Admission} applied by the service around each door's factory, so that no
door can forget it.

A connection the admission refuses (the server full, stopping, or its
address over its limits) is told why in its door's words (a refusal the
door gives: one line, an IRC C{ERROR}, an HTTP C{503}) and closed; the
door's protocol is never built and never sees a byte.  An admitted one is
counted from accept until it closes, whatever it becomes meanwhile: an
HTTP connection is counted before it sends a byte, and the WebSocket it
may become is the same connection, counted once.

An admitted TCP connection sends without Nagle's algorithm (C{TCP_NODELAY}),
as interactive servers do: the doors already write once per turn of the
reactor, so Nagle would only hold an answer's second write (a join's
replay, read from the history a turn later) until the client's delayed
acknowledgement, 40 ms on Linux.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableDescriptor,
    INegotiated,
    IProtocolFactory,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.limits.addresses import describe_address
from chatserver.limits.admission import Admission
from chatserver.metrics.counts import ChatCounts

log = Logger(namespace=LOG_NAMESPACE)


def no_refusal(why: str) -> bytes:
    """
    @return: Nothing: a refused connection of a door that says nothing is
        only closed.
    """
    return b""


class AdmittedConnection(Protocol):
    """
    One connection at the gate, in front of the door's protocol, which is
    built once the connection is admitted.

    The door's protocol is given the connection's own transport: what it
    writes goes straight there, and only what arrives passes through here.

    @ivar host: The client's IP address, as the per-address limits count it.
    @ivar wrappedProtocol: The door's protocol, or L{None} while there is
        none (refused, or closed).
    """

    # The gate is one more object per connection: its state in slots, as
    # the doors' own (see chatserver.tuning.leantcp).
    __slots__ = (
        "_abortCall",
        "connected",
        "factory",
        "host",
        "transport",
        "wrappedProtocol",
    )

    factory: AdmittingFactory
    wrappedProtocol: Any
    transport: Any

    def __init__(self, factory: AdmittingFactory) -> None:
        self.factory = factory
        self.wrappedProtocol = None
        self.transport = None
        self.connected = 0
        self.host = ""
        self._abortCall: IDelayedCall | None = None

    def connectionMade(self) -> None:
        factory = self.factory
        transport = self.transport
        address = transport.getPeer()
        self.host = str(getattr(address, "host", ""))
        refused = factory.admission.admit(self, self.host)
        if refused is not None:
            self._refuse(refused)
            return
        protocol = factory.wrappedFactory.buildProtocol(address)
        if protocol is None:
            factory.admission.release(self, self.host)
            transport.loseConnection()
            return
        self.wrappedProtocol = protocol
        factory.open += 1
        if ITCPTransport.providedBy(transport):
            transport.setTcpNoDelay(True)
        protocol.makeConnection(transport)

    def _refuse(self, why: str) -> None:
        log.warn(
            "Refused {peer}: {why}",
            chat_event="refused",
            peer=describe_address(self.transport.getPeer()),
            why=why,
        )
        # By the limit, without the figures some reasons end with.
        self.factory.counts.count(why.split(" (", 1)[0])
        transport: Any = self.transport
        refusal = self.factory.refusal(why)
        if refusal:
            transport.write(refusal)
        # TLS (INegotiated) shows the interfaces of the TCP below it without
        # half-closing itself: it is closed whole, after its handshake.
        halfCloses = IHalfCloseableDescriptor.providedBy(
            transport
        ) and not INegotiated.providedBy(transport)
        if refusal and halfCloses:
            # Only the sending side is closed: closing both while what the
            # client sent is unread would reset the connection, and the
            # client might lose the refusal (an HTTP client sends its
            # request at once).  What it sends is discarded until it closes.
            transport.loseWriteConnection()
            self._abortAfterGrace()
        else:
            self._closeWithGrace()

    def _closeWithGrace(self) -> None:
        """
        Close; a client that does not take what was written within the
        grace period is aborted.
        """
        if self._abortCall is not None:
            return
        self.transport.loseConnection()
        self._abortAfterGrace()

    def _abortAfterGrace(self) -> None:
        factory = self.factory
        self._abortCall = factory.clock.callLater(
            factory.grace, self.transport.abortConnection
        )

    def dataReceived(self, data: bytes) -> None:
        protocol = self.wrappedProtocol
        if protocol is not None:
            protocol.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        call, self._abortCall = self._abortCall, None
        if call is not None and call.active():
            call.cancel()
        protocol, self.wrappedProtocol = self.wrappedProtocol, None
        try:
            if protocol is not None:
                self.factory.open -= 1
                protocol.connectionLost(reason)
        finally:
            # After the door has seen the loss (its user has left), so that
            # the server's stop waits for that.
            self.factory.admission.release(self, self.host)

    def serverStopping(self) -> None:
        """
        The server is stopping: the door says goodbye and closes, if it
        knows how (L{chatserver.limits.admission.Admitted}); else the
        connection is closed.
        """
        stopping: Callable[[], None] | None = getattr(
            self.wrappedProtocol, "serverStopping", None
        )
        if stopping is not None:
            stopping()
        else:
            self._closeWithGrace()


class AdmittingFactory(Factory[AdmittedConnection]):
    """
    A door's factory behind the gate: each connection is admitted by
    C{admission} before the door's factory is asked for a protocol.

    @ivar wrappedFactory: The door's factory.
    @ivar admission: The server's admission, shared by every door.
    @ivar refusal: How a refusal reads on this door's wire: the bytes
        written to a refused connection, given why it is refused.
    @ivar clock: What the grace period of a closing connection is timed on.
    @ivar grace: Seconds a refused connection has to take its refusal
        before it is aborted.
    @ivar counts: Where refused connections are counted, by why.
    @ivar open: Connections admitted through this factory and still open
        (read by C{--metrics} when scraped).
    """

    noisy = False

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        admission: Admission,
        clock: IReactorTime,
        grace: float,
        refusal: Callable[[str], bytes] = no_refusal,
        *,
        counts: ChatCounts | None = None,
    ) -> None:
        self.wrappedFactory = wrappedFactory
        self.counts = counts if counts is not None else ChatCounts()
        self.admission = admission
        self.clock = clock
        self.grace = grace
        self.refusal = refusal
        self.open = 0

    def startFactory(self) -> None:
        self.wrappedFactory.doStart()

    def stopFactory(self) -> None:
        self.wrappedFactory.doStop()

    def buildProtocol(self, addr: IAddress | None) -> AdmittedConnection:
        return AdmittedConnection(self)
