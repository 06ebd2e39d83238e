"""
Flow control in both directions: a token bucket that slows a client's input
down, and a send-queue guard that notices when a client stops reading its
output.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.interfaces import IPushProducer, IReactorTime
from zope.interface import implementer


class TokenBucket:
    """
    A token bucket: C{burst} tokens at most, refilled at C{rate} per second.

    Each line a client sends takes one token.  When the bucket is empty the
    caller stops reading until L{delay} says a token is back, so a flood is
    slowed down rather than dropped.

    @ivar rate: Tokens added per second; C{0} means no limit.
    @ivar burst: The most tokens the bucket holds.
    """

    __slots__ = ("_clock", "_tokens", "_updated", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: IReactorTime) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._updated = clock.seconds()

    def _refill(self) -> None:
        now = self._clock.seconds()
        self._tokens = min(
            float(self.burst), self._tokens + (now - self._updated) * self.rate
        )
        self._updated = now

    def take(self) -> None:
        """
        Take one token, for a line just accepted.  The bucket may go empty,
        never below.
        """
        if self.rate <= 0:
            return
        self._refill()
        self._tokens = max(0.0, self._tokens - 1.0)

    def delay(self) -> float:
        """
        @return: How many seconds until a whole token is available: C{0.0}
            when one is available now.
        """
        if self.rate <= 0:
            return 0.0
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate


@implementer(IPushProducer)
class SendQueueGuard:
    """
    A push producer registered on a client's transport, so that the transport
    tells us when its write buffer is full (it calls L{pauseProducing}) and
    when it has drained (L{resumeProducing}).

    While the transport is paused, every byte we write for that client is
    counted by L{wrote}.  Once more than C{limit} bytes have piled up on top
    of the transport's own full buffer, the client is not reading and
    C{onOverflow} is called, once.

    @ivar paused: Whether the transport's buffer is full right now.
    @ivar piledUp: Bytes written since the transport paused us.
    """

    __slots__ = ("_onOverflow", "_stopped", "limit", "overflowed", "paused", "piledUp")

    def __init__(self, limit: int, onOverflow: Callable[[], None]) -> None:
        self.limit = limit
        self._onOverflow = onOverflow
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
            self._onOverflow()

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False
        self.piledUp = 0

    def stopProducing(self) -> None:
        self._stopped = True
