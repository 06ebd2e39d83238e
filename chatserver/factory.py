"""
The factory every connection of one chat server shares: the registry, the
settings, the count of open connections, and the graceful shutdown.
"""

from __future__ import annotations

from typing import cast

from twisted.internet import defer
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import ServerFactory

from chatserver import lines
from chatserver.config import ChatConfig
from chatserver.protocol import ChatProtocol
from chatserver.registry import Registry


class ChatFactory(ServerFactory):
    """
    Builds a L{ChatProtocol} for each connection and keeps what they share.

    @ivar config: The server's settings.
    @ivar registry: Who is online.
    @ivar clock: The reactor's clock (a L{twisted.internet.task.Clock} in
        tests).
    @ivar connections: Every admitted open connection, named or not.
    @ivar shuttingDown: Set once L{shutdown} has begun.
    """

    protocol = ChatProtocol
    noisy = False

    def __init__(self, config: ChatConfig, clock: IReactorTime | None = None) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.config = config
        self.clock: IReactorTime = clock
        self.registry = Registry()
        self.connections: set[ChatProtocol] = set()
        self.shuttingDown = False
        self._allClosed: defer.Deferred[None] | None = None

    def buildProtocol(self, addr: IAddress | None) -> ChatProtocol:
        return ChatProtocol(self)

    def admit(self, connection: ChatProtocol) -> bool:
        """
        Count C{connection} as open, unless the server is full or stopping.

        @return: Whether it was admitted.
        """
        if self.shuttingDown or len(self.connections) >= self.config.maxClients:
            return False
        self.connections.add(connection)
        return True

    def isAdmitted(self, connection: ChatProtocol) -> bool:
        """
        @return: Whether C{connection} was admitted and is still open.
        """
        return connection in self.connections

    def release(self, connection: ChatProtocol) -> None:
        """
        Forget a closed connection.
        """
        self.connections.discard(connection)
        if not self.connections and self._allClosed is not None:
            allClosed, self._allClosed = self._allClosed, None
            allClosed.callback(None)

    def shutdown(self) -> defer.Deferred[None]:
        """
        Tell every connection the server is stopping and close them all.

        @return: A L{Deferred} that fires once every connection has closed.
        """
        self.shuttingDown = True
        if not self.connections:
            return defer.succeed(None)
        self._allClosed = allClosed = defer.Deferred[None]()
        notice = lines.Info("The server is shutting down. Goodbye!")
        for connection in list(self.connections):
            connection.close("Server shutting down", notice)
        return allClosed
