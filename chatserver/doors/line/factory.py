"""
The factory every connection of one chat server shares: the registry, the
settings, the count of open connections, and the graceful shutdown.
"""

from __future__ import annotations

from typing import cast

from twisted.cred.portal import Portal
from twisted.internet import defer
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import ServerFactory

from chatserver.auth.accounts import LoginThrottle
from chatserver.config import ChatConfig
from chatserver.core.registry import Registry
from chatserver.doors.line import lines
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.limits.addresses import AddressLimits, parse_network
from chatserver.limits.flow import TokenBucket


class ChatFactory(ServerFactory):
    """
    Builds a L{ChatProtocol} for each connection and keeps what they share.

    @ivar config: The server's settings.
    @ivar registry: Who is online.
    @ivar clock: The reactor's clock (a L{twisted.internet.task.Clock} in
        tests).
    @ivar connections: Every admitted open connection, named or not.
    @ivar shuttingDown: Set once L{shutdown} has begun.
    @ivar portal: Where names and passwords are checked, with C{--auth};
        L{None} for an open server where a name is all it takes.
    @ivar loginThrottle: Slows down failed logins per address.
    @ivar bucket: The token bucket policy that paces every client's input.

    @param coalesce: Whether output is coalesced per reactor turn (see
        L{chatserver.core.outbox}); by default it is with the real reactor and is
        not with a test clock, so that tests read output as soon as they
        feed input.
    """

    protocol = ChatProtocol
    noisy = False

    def __init__(
        self,
        config: ChatConfig,
        clock: IReactorTime | None = None,
        coalesce: bool | None = None,
        portal: Portal | None = None,
    ) -> None:
        if coalesce is None:
            coalesce = clock is None
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.config = config
        self.clock: IReactorTime = clock
        self.portal = portal
        self.loginThrottle = LoginThrottle(clock)
        self.bucket = TokenBucket(config.rate, config.burst, clock)
        self.registry = Registry(clock if coalesce else None)
        self.addressLimits = AddressLimits(
            config.maxPerAddress,
            config.connectRate,
            [parse_network(network) for network in config.exempt],
            self.clock,
        )
        self.connections: set[ChatProtocol] = set()
        self.shuttingDown = False
        self._allClosed: defer.Deferred[None] | None = None

    def buildProtocol(self, addr: IAddress | None) -> ChatProtocol:
        return ChatProtocol(self)

    def admit(self, connection: ChatProtocol, host: str) -> str | None:
        """
        Count C{connection}, from C{host}, as open, unless the server is
        stopping or full, or that address is over its limits.

        @return: L{None} when admitted, or why not, fit to show the client.
        """
        if self.shuttingDown:
            return "the server is shutting down"
        if len(self.connections) >= self.config.maxClients:
            return "the server is full, please try again later"
        refused = self.addressLimits.admit(host)
        if refused is not None:
            return refused
        self.connections.add(connection)
        return None

    def isAdmitted(self, connection: ChatProtocol) -> bool:
        """
        @return: Whether C{connection} was admitted and is still open.
        """
        return connection in self.connections

    def release(self, connection: ChatProtocol, host: str) -> None:
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
