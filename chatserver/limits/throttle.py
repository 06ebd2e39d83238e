"""
The login throttle: failed logins from one address are answered ever more
slowly, so that guessing passwords is slow, whatever door they come through.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from twisted.cred.error import UnauthorizedLogin
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.limits.addresses import address_key

log = Logger(namespace=LOG_NAMESPACE)

MAX_LOGIN_FAILURES = 3
"""
Failed logins one connection may make before it is closed.
"""


class LoginThrottle:
    """
    Slows down repeated failed logins from one address: each failure is
    answered after a delay that doubles with the failures that address made
    recently, up to L{maxDelay}.  Failures are forgotten after L{forgetAfter}
    seconds without one.
    """

    firstDelay = 0.25
    maxDelay = 30.0
    forgetAfter = 600.0

    def __init__(self, clock: IReactorTime) -> None:
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}

    def failed(self, host: str) -> float:
        """
        Count a failed login from C{host}.

        @return: Seconds to wait before answering it.
        """
        now = self._clock.seconds()
        key = address_key(host) or host
        count, last = self._failures.get(key, (0, now))
        if now - last > self.forgetAfter:
            count = 0
        count += 1
        self._failures[key] = (count, now)
        if len(self._failures) > 4096:
            self._forget(now)
        return min(self.maxDelay, self.firstDelay * 2.0 ** (count - 1))

    def loginFailed(
        self, reason: Failure, name: str, host: str, peer: str, count: int
    ) -> float:
        """
        A login through any door failed: log it (an error that is not a
        wrong name or password, at error level) and count it against
        C{host}.

        @param reason: Why the portal refused the login.
        @param name: The name tried.
        @param host: The address the try came from.
        @param peer: The address, as logs show it.
        @param count: The failures on this connection, this one included.
        @return: Seconds to wait before answering it.
        """
        if not reason.check(UnauthorizedLogin):
            log.failure(
                "Checking the password of {name} failed",
                failure=reason,
                chat_event="error",
                name=name,
            )
        log.info(
            "Failed login as {name} from {peer} ({count} on this connection)",
            chat_event="rejected",
            name=name,
            peer=peer,
            count=count,
            why="wrong name or password",
        )
        return self.failed(host)

    def _forget(self, now: float) -> None:
        for key in [
            k
            for k, (_, last) in self._failures.items()
            if now - last > self.forgetAfter
        ]:
            del self._failures[key]


class RegistrationRate:
    """
    Accounts registered per address: at most L{count} in any L{seconds},
    whatever door they come through; the addresses the per-address limits
    exempt are not counted.

    @param key: The key an address is counted under, or L{None} for one
        not counted (L{chatserver.limits.addresses.AddressLimits.counted}).
    """

    count = 3
    seconds = 3600.0

    def __init__(self, clock: IReactorTime, key: Callable[[str], str | None]) -> None:
        self._clock = clock
        self._key = key
        self._recent: dict[str, deque[float]] = {}

    def allow(self, host: str) -> bool:
        """
        Count a registration from C{host}, if the limit allows it.

        @return: Whether it is allowed.
        """
        key = self._key(host)
        if key is None:
            return True
        now = self._clock.seconds()
        horizon = now - self.seconds
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= horizon:
            recent.popleft()
        if len(recent) >= self.count:
            return False
        recent.append(now)
        if len(self._recent) > 4096:
            for stale in [k for k, times in self._recent.items() if not times]:
                del self._recent[stale]
        return True
