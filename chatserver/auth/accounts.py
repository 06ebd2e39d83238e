"""
Accounts: the twisted.cred realm of the chat, and the throttle that makes
guessing passwords slow.

With C{--auth}, a name is an account: after the name the server asks for the
password and logs in through a L{Portal} over the checkers C{--auth} made
(C{memory:}, C{file:}, C{passwd:} ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.cred.portal import IRealm
from twisted.internet.interfaces import IReactorTime
from zope.interface import Interface, implementer

from chatserver.limits.addresses import address_key


class IChatAccount(Interface):
    """
    An account of the chat, as the realm hands it to a connection.
    """


@implementer(IChatAccount)
@dataclass(frozen=True)
class ChatAccount:
    """
    An account: the name it logs in as.
    """

    name: str


@implementer(IRealm)
class ChatRealm:
    """
    Turns the avatar ID a checker vouched for into a L{ChatAccount}.
    """

    def requestAvatar(
        self, avatarId: bytes | str | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, ChatAccount, Callable[[], None]]:
        if IChatAccount not in interfaces:
            raise NotImplementedError("the chat realm only makes chat accounts")
        # Checkers give bytes, but twisted's memory: checker gives str.
        if isinstance(avatarId, bytes):
            name = avatarId.decode("utf-8")
        elif isinstance(avatarId, str):
            name = avatarId
        else:
            raise NotImplementedError("the chat has no anonymous accounts")
        return IChatAccount, ChatAccount(name), lambda: None


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

    def _forget(self, now: float) -> None:
        for key in [
            k
            for k, (_, last) in self._failures.items()
            if now - last > self.forgetAfter
        ]:
            del self._failures[key]

    def recentFailures(self, host: str) -> int:
        """
        @return: How many failures from C{host} are remembered.
        """
        return self._failures.get(address_key(host) or host, (0, 0.0))[0]
