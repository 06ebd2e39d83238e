"""
TLS listeners whose connections cost less: Twisted's memory-BIO TLS on
L{LeanPort}s, without its per-connection write aggregator, and OpenSSL's
buffers released while a connection is idle.

C{reactor.listenSSL} (what an C{ssl:} endpoint calls) wraps the factory in a
L{TLSMemoryBIOFactory} and listens with plain Twisted TCP.  Since Twisted
22.8 that factory's protocol is C{BufferingTLSTransport}, which holds every
write back until the reactor's next turn with a C{callLater(0)} per
connection, so that many small writes make one TLS record.  Our doors
already write once per connection per turn (the fan-out's outbox), so for us
that is one delayed call made, scheduled and run per recipient of every
turn, and two more objects kept for every idle connection.
L{listen_tls} uses Twisted's plain L{TLSMemoryBIOProtocol} instead, which
encrypts each write at once, and a L{LeanPort} below it, whose connections
keep their state in slots and send ciphertext straight to the socket when
nothing waits (L{chatserver.tuning.leantcp.LeanServer.write}).

OpenSSL keeps a read and a write buffer of about 17 KB each per connection
unless C{SSL_MODE_RELEASE_BUFFERS} is set on the context; Twisted's
L{CertificateOptions} (what C{ssl:} endpoints make) sets it already, and
L{ReleasingBuffers} makes sure of it for any other context factory.
"""

from __future__ import annotations

from typing import Any

from OpenSSL import SSL
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol

from chatserver.tuning.leantcp import LeanPort


class ReleasingBuffers:
    """
    An old-style context factory (C{getContext}) whose contexts have
    C{SSL_MODE_RELEASE_BUFFERS} set: an idle connection holds no read or
    write buffer.  Everything else is the wrapped factory's.
    """

    def __init__(self, wrapped: Any) -> None:
        """
        @param wrapped: A context factory with a C{getContext} method
            (L{twisted.internet.ssl.CertificateOptions}, say).
        """
        self._wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def getContext(self) -> SSL.Context:
        """
        @return: The wrapped factory's context, with its buffers released
            while idle.
        """
        context: SSL.Context = self._wrapped.getContext()
        context.set_mode(SSL.MODE_RELEASE_BUFFERS)
        return context


class LeanTLSFactory(TLSMemoryBIOFactory):
    """
    A server-side L{TLSMemoryBIOFactory} whose connections encrypt each
    write at once (L{TLSMemoryBIOProtocol}), without Twisted's aggregation
    of small writes into the next turn.
    """

    protocol = TLSMemoryBIOProtocol


def listen_tls(  # noqa: PLR0917 (reactor.listenSSL's signature)
    reactor: Any,
    port: int,
    factory: IProtocolFactory,
    contextFactory: Any,
    backlog: int = 50,
    interface: str = "",
) -> IListeningPort:
    """
    Listen for TLS connections as C{reactor.listenSSL} does, with a
    L{LeanTLSFactory} on a L{LeanPort}, the context's buffers released while
    idle (L{ReleasingBuffers}, for a context factory with C{getContext}).

    @param reactor: One of Twisted's POSIX reactors.
    @return: The listening port.
    """
    if hasattr(contextFactory, "getContext"):
        contextFactory = ReleasingBuffers(contextFactory)
    wrapped = LeanTLSFactory(contextFactory, False, factory, clock=reactor)
    listening = LeanPort(port, wrapped, backlog, interface, reactor)
    listening._type = "TLS"
    listening.startListening()
    return listening
