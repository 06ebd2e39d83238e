"""
Admission: which connections the server takes, whatever door they come
through, and the graceful close of all of them when it stops.

One L{Admission} is shared by every door of a server, so C{--max-clients}
and the per-address limits count a user's connections across doors.  The
service applies it at accept, around every door's factory
(L{chatserver.limits.gate}).
"""

from __future__ import annotations

from typing import Protocol

from twisted.internet import defer

from chatserver.limits.addresses import AddressLimits


class Admitted(Protocol):
    """
    A connection, as admission sees it.
    """

    def serverStopping(self) -> None:
        """
        The server is stopping: say goodbye and close.
        """


class Admission:
    """
    The open connections of one server, and the limits on opening more.

    @ivar connections: Every admitted open connection, named or not.
    @ivar shuttingDown: Set once L{shutdown} has begun.
    """

    def __init__(self, maxClients: int, addressLimits: AddressLimits) -> None:
        self.maxClients = maxClients
        self.addressLimits = addressLimits
        self.connections: set[Admitted] = set()
        self.shuttingDown = False
        self._allClosed: defer.Deferred[None] | None = None

    def admit(self, connection: Admitted, host: str) -> str | None:
        """
        Count C{connection}, from C{host}, as open, unless the server is
        stopping or full, or that address is over its limits.

        @return: L{None} when admitted, or why not, fit to show the client.
        """
        if self.shuttingDown:
            return "the server is shutting down"
        if len(self.connections) >= self.maxClients:
            return "the server is full, please try again later"
        refused = self.addressLimits.admit(host)
        if refused is not None:
            return refused
        self.connections.add(connection)
        return None

    def release(self, connection: Admitted, host: str) -> None:
        """
        Forget a closed connection from C{host}.
        """
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        self.addressLimits.release(host)
        if not self.connections and self._allClosed is not None:
            allClosed, self._allClosed = self._allClosed, None
            allClosed.callback(None)

    def shutdown(self) -> defer.Deferred[None]:
        """
        Tell every connection the server is stopping.

        @return: A L{Deferred} that fires once every connection has closed.
        """
        self.shuttingDown = True
        if not self.connections:
            return defer.succeed(None)
        self._allClosed = allClosed = defer.Deferred[None]()
        for connection in list(self.connections):
            connection.serverStopping()
        return allClosed
