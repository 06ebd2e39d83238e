"""
TCP connections that keep Twisted's per-connection state in slots.

Twisted's L{twisted.internet.tcp.Server} keeps about twenty attributes in its
instance dict.  CPython shares one table of attribute names between the
instances of a class, but it learns the names only from the first few
instances; the attributes a connection sets later in life (C{dataBuffer} and
C{offset} on its first write) then turn each connection's dict into a dict of
its own, about 830 bytes.  With thousands of idle users that dict is the
largest thing a connection costs (C{bench/RESULTS.md}, the idle scenario).

L{LeanServer} declares every attribute Twisted sets on a server-side TCP
connection as a slot, 8 bytes each, and derives the two that need not be
stored.  Anything Twisted might set beyond these still works: it goes to the
instance dict as before (C{abortConnection} does so, replacing C{doRead}
and C{doWrite} on a connection that is going away).

L{LeanServer} also writes straight to its socket when nothing waits for it
(see L{LeanServer.write}).

L{LeanTCPReactor} is the reactor as the endpoint parsers see it, with a
C{listenTCP} that makes L{LeanPort}s: C{tcp:} and C{tcp6:} listeners get
lean connections, and so do C{ssl:} ones, which the service listens for as
C{tcp:} with TLS of its own above (L{chatserver.ops.listeners},
L{chatserver.tuning.leantls}); everything else (C{unix:}) is the reactor's
own.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from errno import ENOBUFS
from typing import Any

from twisted.internet import error, tcp
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorFDSet,
)
from twisted.internet.posixbase import PosixReactorBase
from twisted.python.failure import Failure
from zope.interface import directlyProvides, providedBy

# What FileDescriptor, Connection, their mixins and Server set on a
# connection; the ones with class defaults start from those.
_STATE = (
    "reactor",
    "_tempDataBuffer",
    "_tempDataLen",
    "dataBuffer",
    "offset",
    "connected",
    "disconnected",
    "disconnecting",
    "_writeDisconnecting",
    "_writeDisconnected",
    "producer",
    "producerPaused",
    "streamingProducer",
    "socket",
    "protocol",
    "logstr",
    "_aborting",
    "TLS",
    "server",
    "client",
    "sessionno",
    "hostname",
    "_addressType",
)
_DEFAULTS = tuple(
    (name, getattr(tcp.Server, name)) for name in _STATE if hasattr(tcp.Server, name)
)


def _closed() -> int:
    return -1


class LeanServer(tcp.Server):
    """
    A server-side TCP connection whose state lives in slots.

    C{fileno} is the socket's own while there is one (Twisted stores a bound
    method for it), and C{repr} is worked out when asked for (naming the
    protocol's class, as Twisted's does, while it is connected).

    A write when nothing waits goes straight to the socket (L{write}).
    """

    __slots__ = _STATE

    def __init__(  # noqa: PLR0917 (the signature tcp.Port calls)
        self,
        sock: socket.socket,
        protocol: IProtocol,
        client: tuple[object, ...],
        server: tcp.Port,
        sessionno: int,
        reactor: IReactorFDSet,
    ) -> None:
        for name, value in _DEFAULTS:
            setattr(self, name, value)
        super().__init__(sock, protocol, client, server, sessionno, reactor)

    @property
    def fileno(self) -> Callable[[], int]:
        try:
            return self.socket.fileno
        except AttributeError:  # closed: Twisted has deleted the socket
            return _closed

    @fileno.setter
    def fileno(self, value: Callable[[], int]) -> None:
        pass  # the socket's own, which the getter finds

    @fileno.deleter
    def fileno(self) -> None:
        pass

    @property
    def repstr(self) -> str:
        port = getattr(self.server, "_realPortNumber", None)
        # Twisted deletes the protocol once the connection is closed.
        protocol = getattr(self, "protocol", None)
        what = "closed connection" if protocol is None else type(protocol).__name__
        return f"<{what} #{self.sessionno} on {port}>"

    @repstr.setter
    def repstr(self, value: str) -> None:
        pass  # derived by the getter

    def write(self, data: bytes) -> None:
        """
        Send C{data} now if nothing waits for this connection; keep what the
        socket does not take in Twisted's buffer, and only then ask the
        reactor for writability.

        Twisted's own write always buffers and starts writing: one
        C{epoll_ctl} to start, a reactor turn, C{doWrite}, and another
        C{epoll_ctl} to stop, for each write of a turn.  At moderate load
        (about one line per turn) that is most of what a delivery costs; a
        socket with room in its kernel buffer takes the data at once.

        Whenever anything already waits, or may change what a write means,
        the write is Twisted's, unchanged: data buffered or being written,
        a producer paused by Twisted or pulled (a pull producer is asked for
        more by C{doWrite} only), a close or half-close under way, an
        abort, a lost connection, and TLS (a C{startTLS}'d transport writes
        through its C{TLSMemoryBIOProtocol}, whose ciphertext goes to
        Twisted's C{FileDescriptor.write} directly, never here).  So the
        producer contract holds: only what piles up is buffered, and
        Twisted pauses producers (the send-queue guard) by that as before.

        @param data: The bytes to write.
        """
        if (
            self._tempDataLen
            or self.dataBuffer
            or self.TLS
            or self.producerPaused
            or self.disconnecting
            or self._writeDisconnecting
            or self._writeDisconnected
            or self._aborting
            or not self.connected
            or not data
            or not isinstance(data, bytes)  # Twisted's write raises
            or (self.producer is not None and not self.streamingProducer)
        ):
            super().write(data)
            return
        try:
            sent = self.socket.send(data)
        except BlockingIOError:  # EAGAIN, EWOULDBLOCK
            sent = 0
        except OSError as failed:
            if failed.errno != ENOBUFS:  # as Connection.writeSomeData
                self._lostWhileWriting()
                return
            sent = 0
        if sent < len(data):
            super().write(data[sent:])

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        """
        Write C{iovec} joined, through L{write}: one C{send}, not one per
        piece.  With TLS, or anything that is not C{bytes}, Twisted's own.

        @param iovec: The pieces to write, in order.
        """
        if self.TLS or not all(isinstance(chunk, bytes) for chunk in iovec):
            super().writeSequence(iovec)
            return
        self.write(b"".join(iovec))

    def _lostWhileWriting(self) -> None:
        """
        The socket failed a direct send (the peer reset the connection, say):
        lose the connection as Twisted does when C{doWrite} meets the error,
        with L{error.ConnectionLost}, but in the reactor's next turn.

        Twisted never calls C{connectionLost} from inside C{write}, and the
        writer may be in the middle of a loop over many connections (the
        fan-out), so this is left to the reactor, as C{abortConnection}
        does.  Until then the connection is C{disconnecting}: it reads no
        more, a later write only buffers, and C{loseConnection} does
        nothing more.
        """
        self.disconnecting = True
        self.stopReading()
        self.stopWriting()
        self.reactor.callLater(  # type: ignore[attr-defined]
            0, self.connectionLost, Failure(error.ConnectionLost())
        )


class LeanPort(tcp.Port):
    """
    A listening TCP port whose connections are L{LeanServer}s.
    """

    transport = LeanServer


class LeanTCPReactor:
    """
    A reactor whose C{listenTCP} listens with a L{LeanPort}; every other
    attribute is the wrapped reactor's, and it provides the same interfaces.
    """

    def __init__(self, reactor: PosixReactorBase) -> None:
        self._reactor = reactor
        directlyProvides(self, providedBy(reactor))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reactor, name)

    def listenTCP(
        self,
        port: int,
        factory: IProtocolFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        listening = LeanPort(port, factory, backlog, interface, self._reactor)
        listening.startListening()
        return listening


def lean_reactor(reactor: object) -> object:
    """
    @return: A L{LeanTCPReactor} around C{reactor} if it is one of Twisted's
        POSIX reactors (whose TCP connections L{LeanServer} extends), else
        C{reactor} itself.
    """
    if isinstance(reactor, PosixReactorBase):
        return LeanTCPReactor(reactor)
    return reactor
