"""
Flow control in both directions: a token bucket that slows a client's input
down, and a send-queue guard that notices when a client stops reading its
output.
"""

from __future__ import annotations

from typing import Protocol

from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from chatserver import LOG_NAMESPACE

SEND_QUEUE_EXCEEDED = "Send queue exceeded"
"""
Why a client dropped for not reading left, as the others are told.
"""

log = Logger(namespace=LOG_NAMESPACE)


def log_dropped(peer: str, name: str) -> None:
    """
    Log that the client at C{peer} (called C{name}, if logged in) is dropped
    for not reading its output, whatever door it came through.
    """
    log.warn(
        "Dropping {peer} ({name}): send queue exceeded",
        chat_event="rejected",
        peer=peer,
        name=name,
        why="send queue exceeded",
    )


class TokenBucket:
    """
    A token bucket per client: C{burst} tokens at most, refilled at C{rate}
    per second.

    Each line a client sends takes one token.  When the bucket is empty the
    caller stops reading until L{delay} says a token is back, so a flood is
    slowed down rather than dropped.

    One L{TokenBucket} holds the policy for every client of a server; a
    client's own bucket is a single number, the time at which it will be
    full again (C{0.0}, or any time past, for a full one; this is the
    "theoretical arrival time" of the generic cell rate algorithm).  So an
    idle client costs one float, not an object.

    @ivar rate: Tokens added per second; C{0} means no limit.
    @ivar burst: The most tokens a bucket holds.
    """

    __slots__ = ("_clock", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: IReactorTime) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock

    def _missing(self, fullAt: float, now: float) -> float:
        """
        @return: How many tokens the bucket full at C{fullAt} lacks at
            C{now}.
        """
        return max(0.0, fullAt - now) * self.rate

    def take(self, fullAt: float) -> float:
        """
        Take one token, for a line just accepted.  The bucket may go empty,
        never below.

        @param fullAt: The client's bucket.
        @return: The client's bucket after the line.
        """
        if self.rate <= 0:
            return fullAt
        now = self._clock.seconds()
        missing = min(float(self.burst), self._missing(fullAt, now) + 1.0)
        return now + missing / self.rate

    def delay(self, fullAt: float) -> float:
        """
        @param fullAt: The client's bucket.
        @return: How many seconds until a whole token is available: C{0.0}
            when one is available now.
        """
        if self.rate <= 0:
            return 0.0
        missing = self._missing(fullAt, self._clock.seconds())
        if missing <= self.burst - 1:
            return 0.0
        return (missing - self.burst + 1) / self.rate


class SendQueueOwner(Protocol):
    """
    Whoever a L{SendQueueGuard} watches the output of.
    """

    def sendQueueExceeded(self) -> None:
        """
        The client has not been reading: more than the guard's limit piled
        up on top of its transport's full buffer.
        """


@implementer(IPushProducer)
class SendQueueGuard:
    """
    A push producer registered on a client's transport, so that the transport
    tells us when its write buffer is full (it calls L{pauseProducing}) and
    when it has drained (L{resumeProducing}).

    While the transport is paused, every byte we write for that client is
    counted by L{wrote}.  Once more than C{limit} bytes have piled up on top
    of the transport's own full buffer, the client is not reading and its
    C{owner} is told, once.

    @ivar paused: Whether the transport's buffer is full right now.
    @ivar piledUp: Bytes written since the transport paused us.
    """

    __slots__ = ("_owner", "_stopped", "limit", "overflowed", "paused", "piledUp")

    def __init__(self, limit: int, owner: SendQueueOwner) -> None:
        self.limit = limit
        # The owner itself rather than a bound method: one object less per
        # connection.
        self._owner = owner
        self.paused = False
        self.piledUp = 0
        self.overflowed = False
        self._stopped = False

    def wrote(self, size: int) -> None:
        """
        Count C{size} bytes just written to the transport.
        """
        if not self.paused or self._stopped:
            return
        self.piledUp += size
        if self.piledUp > self.limit and not self.overflowed:
            self.overflowed = True
            self._owner.sendQueueExceeded()

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.piledUp = 0

    def stopProducing(self) -> None:
        self._stopped = True
