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

L{LeanTCPReactor} is the reactor as the endpoint parsers see it, with a
C{listenTCP} that makes L{LeanPort}s: C{tcp:} and C{tcp6:} listeners get
lean connections; everything else (C{ssl:}, C{unix:}) is the reactor's own.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from twisted.internet import tcp
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorFDSet,
)
from twisted.internet.posixbase import PosixReactorBase
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
