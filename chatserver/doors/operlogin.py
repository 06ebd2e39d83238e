"""
C{/oper} for every door: the core checks the operator's credentials; a
refusal is answered after the delay the login throttle gives the client's
address, as a failed login is, so operator passwords cannot be guessed
faster than accounts' (issue 21).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from twisted.python.failure import Failure

from chatserver.core.moderation.errors import OperRefused
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.server import ChatServer


class _Door(Protocol):
    @property
    def server(self) -> ChatServer: ...

    @property
    def host(self) -> str: ...

    @property
    def closing(self) -> bool: ...


def oper(
    door: _Door,
    user: ChatUser,
    name: str,
    password: str,
    answer: Callable[[ChatError | None], None],
) -> None:
    """
    Make C{user} a server operator with C{name} and C{password}, then call
    C{answer} with L{None}, or with the refusal (an L{OperRefused} after
    the throttle's delay).
    """

    def done(ignored: None) -> None:
        if not door.closing:
            answer(None)

    def refused(reason: Failure) -> None:
        reason.trap(OperRefused)
        error = reason.value
        assert isinstance(error, OperRefused)
        delay = door.server.loginThrottle.failed(door.host)

        def late() -> None:
            if not door.closing:
                answer(error)

        door.server.clock.callLater(delay, late)

    user.oper(name, password).addCallbacks(done, refused)
