"""
One connection to the cluster's Redis, kept up by a L{ClientService}: it
reconnects with back-off for as long as the node runs, authenticates and
selects the database on each connection (txredisapi's L{RedisProtocol}), and
says when it is ready and when it is lost.

A node has two: one for commands, whose replies are awaited with a timeout
(a Redis that stops answering is taken as lost), and one that blocks in
C{XREAD} (a subscribed or blocked connection can send nothing else).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import txredisapi
from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, endpoints, ssl
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.cluster.url import RedisURL
from chatserver.metrics.latency import Latencies

log = Logger(namespace=LOG_NAMESPACE)

RETRY_FIRST = 0.5
"""
Seconds before the first attempt to reconnect.
"""

RETRY_MAX = 5.0
"""
The most seconds between two attempts to reconnect.
"""

REPLY_TIMEOUT = 5.0
"""
Seconds Redis may take to answer a command before the connection is taken
as lost.
"""


class RedisError(Exception):
    """
    Redis refused a command (an error reply), or the connection is down.
    """


def redis_endpoint(reactor: Any, url: RedisURL) -> IStreamClientEndpoint:
    """
    @return: The endpoint that reaches C{url}'s server: TCP, or TLS over TCP
        for C{rediss://} with the host name checked.
    """
    tcp = endpoints.HostnameEndpoint(reactor, url.host, url.port, timeout=5)
    if not url.tls:
        return tcp
    trust = None
    if url.ca is not None:
        trust = ssl.Certificate.loadPEM(FilePath(url.ca).getContent())
    options = ssl.optionsForClientTLS(url.host, trustRoot=trust)
    return endpoints.wrapClientTLS(options, tcp)


class _Protocol(txredisapi.RedisProtocol):  # type: ignore[misc]
    link: RedisLink

    def connectionMade(self) -> Any:
        ready = super().connectionMade()
        self.whenConnected().addCallback(self.link._ready)
        return ready

    def connectionLost(self, why: Failure) -> None:
        super().connectionLost(why)
        self.link._lost(self, why)


class _Factory(Factory):
    # txredisapi's protocol reports a failed AUTH or SELECT to its factory.
    isLazy = False
    noisy = False

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def buildProtocol(self, addr: object) -> _Protocol:
        url = self.link.url
        protocol = _Protocol(
            "utf-8",
            replyTimeout=self.link.replyTimeout,
            password=url.password,
            dbid=url.db or None,
            convertNumbers=False,
            username=url.username,
        )
        protocol.factory = self
        protocol.link = self.link
        return protocol

    def stopTrying(self) -> None:
        # The service tries again: a password may be fixed on the server.
        pass

    def connectionError(self, message: str) -> None:
        # A wrong password is refused again at every attempt: said once,
        # and again only if the refusal changes or after a success.
        if message == self.link._refusal:
            return
        self.link._refusal = message
        log.error(
            "Redis {url} ({purpose}): {message}",
            url=str(self.link.url),
            purpose=self.link.purpose,
            message=message,
            chat_event="cluster",
        )


@implementer(IStreamClientEndpoint)
class _Logged:
    """
    An endpoint that tells its link when a connection attempt fails.
    """

    def __init__(self, endpoint: IStreamClientEndpoint, link: RedisLink) -> None:
        self._endpoint = endpoint
        self._link = link

    def connect(self, factory: IProtocolFactory) -> defer.Deferred[IProtocol]:
        attempt: defer.Deferred[IProtocol] = self._endpoint.connect(factory)
        return attempt.addErrback(self._link._cannotConnect)


class RedisLink:
    """
    One connection to Redis, kept up.

    @ivar url: Where Redis is.
    @ivar purpose: What the connection is for, in log lines (C{commands}).
    @ivar replyTimeout: Seconds a reply may take before the connection is
        taken as lost, or L{None} for no limit.
    @ivar protocol: The ready connection, or L{None} while there is none.
    @ivar latency: The seconds each command with a reply timeout (not a
        blocking C{XREAD}) took to be answered, for C{--metrics}.

    @param onReady: Called with no argument each time a connection is ready.
    @param onLost: Called with no argument each time a ready connection is
        lost.
    """

    def __init__(
        self,
        reactor: IReactorTime,
        url: RedisURL,
        purpose: str,
        onReady: Callable[[], object],
        onLost: Callable[[], object],
        *,
        replyTimeout: float | None = None,
    ) -> None:
        self.url = url
        self.purpose = purpose
        self.replyTimeout = replyTimeout
        self.protocol: _Protocol | None = None
        self.latency = Latencies()
        self._clock = reactor
        self._onReady = onReady
        self._onLost = onLost
        # Whether the last attempt to connect failed (and was logged): an
        # unreachable Redis is logged once, not at every attempt.
        self._failing = False
        # Why Redis last refused a connection (AUTH or SELECT), as logged.
        self._refusal: str | None = None
        self._service = ClientService(
            _Logged(redis_endpoint(reactor, url), self),
            _Factory(self),
            retryPolicy=backoffPolicy(RETRY_FIRST, RETRY_MAX),
            clock=reactor,
        )

    @property
    def up(self) -> bool:
        """
        Whether a connection is ready.
        """
        return self.protocol is not None

    def start(self) -> None:
        """
        Connect, and reconnect whenever the connection is lost.
        """
        self._service.startService()

    def stop(self) -> defer.Deferred[None]:
        """
        Disconnect and stop reconnecting.
        """
        return self._service.stopService()

    def drop(self) -> None:
        """
        Drop the connection (it is reconnected): for a connection that
        blocks and may not notice that Redis is gone.
        """
        if self.protocol is not None:
            self.protocol.transport.abortConnection()

    def execute(self, *args: object, timeout: bool = True) -> defer.Deferred[Any]:
        """
        Send one command.

        @param timeout: Whether the reply is awaited with the link's
            C{replyTimeout} (not for a blocking C{XREAD}).
        @return: A L{Deferred} firing with the reply, or failing with
            L{RedisError} for an error reply or when there is no
            connection.
        """
        if self.protocol is None:
            return defer.fail(RedisError(f"no connection to Redis {self.url}"))
        reply: defer.Deferred[Any] = self.protocol.execute_command(
            *args, apply_timeout=timeout
        )
        if timeout:
            reply.addBoth(self._answered, self._clock.seconds())
        return reply.addErrback(_translated)

    def _answered(self, reply: object, sent: float) -> object:
        self.latency.observe(self._clock.seconds() - sent)
        return reply

    def _cannotConnect(self, reason: Failure) -> Failure:
        if not self._failing:
            self._failing = True
            log.warn(
                "Cannot reach Redis {url} ({purpose}): {why}; trying again",
                url=str(self.url),
                purpose=self.purpose,
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
        return reason

    def _ready(self, protocol: _Protocol) -> None:
        if protocol.transport is None or not protocol.connected:
            return
        self._failing = False
        self._refusal = None
        self.protocol = protocol
        log.info(
            "Connected to Redis {url} ({purpose})",
            url=str(self.url),
            purpose=self.purpose,
            chat_event="cluster",
        )
        self._onReady()

    def _lost(self, protocol: _Protocol, why: Failure) -> None:
        if self.protocol is not protocol:
            return
        self.protocol = None
        self._onLost()


def _translated(reason: Failure) -> Failure:
    if reason.check(txredisapi.RedisError):
        raise RedisError(str(reason.value))
    return reason
