"""
What the parts of a connection kept in other modules (the login handshake,
the user's commands) use of L{chatserver.doors.line.protocol.ChatProtocol}, declared
once for the type checker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted.cred.portal import Portal
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

    from chatserver.auth.accounts import LoginThrottle
    from chatserver.config import ChatConfig
    from chatserver.core.registry import Registry
    from chatserver.doors.line import lines
    from chatserver.doors.line.commands import Command


class ConnectionPart:
    """
    The base of the mixins that make up L{chatserver.doors.line.protocol.ChatProtocol}:
    at run time an empty class, for the type checker the members they share.
    """

    if TYPE_CHECKING:  # provided by ChatProtocol

        @property
        def registry(self) -> Registry: ...
        @property
        def portal(self) -> Portal | None: ...
        @property
        def loginThrottle(self) -> LoginThrottle: ...
        @property
        def config(self) -> ChatConfig: ...
        @property
        def clock(self) -> IReactorTime: ...

        @property
        def peer(self) -> str: ...

        transport: Any
        name: str
        host: str
        loggedIn: bool
        _closing: bool
        _pendingName: str
        _failures: int
        _answerCall: IDelayedCall | None

        def send(self, event: lines.Event) -> None: ...
        def deliver(self, data: bytes) -> None: ...
        def close(self, reason: str, notice: lines.Event | None = None) -> None: ...
        def setTimeout(self, period: float | None) -> float | None: ...
        def resetTimeout(self) -> None: ...
        def _reject(self, why: str) -> None: ...
        def _hold(self, reason: str) -> None: ...
        def _release(self, reason: str) -> None: ...
        def _dispatch(self, command: Command) -> None: ...
