"""
One connection of the line door: bytes in, lines out.

The way a line travels::

    bytes -> telnet filter -> LineReceiver framing (with the max-line guard)
          -> UTF-8 and text checks, token bucket -> login or command
          -> the chat core (a ChatUser operation) -> events
          -> the fan-out: encoded once by the LineCodec, one write per turn
          -> this connection's transport, guarded by its send queue

The connection is the user's "mind": the realm hands the chat's output for
this user to L{ChatProtocol.deliver}.  What a user types is read by
L{chatserver.doors.line.login} before login and by
L{chatserver.doors.line.usercommands} after.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IDelayedCall, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.doors import lifecycle
from chatserver.doors.line import login, usercommands
from chatserver.doors.line.iac import IAC_BYTE, ITelnetDecoded, TelnetFilter
from chatserver.limits.addresses import describe_address
from chatserver.limits.flow import SEND_QUEUE_EXCEEDED, SendQueueGuard, log_dropped
from chatwire import lines

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from chatserver.config import ChatConfig
    from chatserver.core.users import ChatUser
    from chatserver.doors.line.codec import LineCodec
    from chatserver.doors.line.factory import LineFactory
    from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)

# One shared empty set: frozenset() makes a new one, 216 bytes, each time.
_NO_HOLDS: frozenset[str] = frozenset()


class ChatProtocol(LineReceiver, TimeoutMixin):
    """
    The server side of one line-door connection, and the mind of its user.

    This class owns the connection's life (keepalive, timeouts, closing),
    its input (framing, limits, pacing) and its output (the send queue);
    L{chatserver.doors.line.login} turns its first lines into a logged-in
    user and L{chatserver.doors.line.usercommands} serves that user.  The
    connection was admitted at accept (see L{chatserver.limits.gate}).

    @ivar user: The user once logged in, else L{None}.
    @ivar host: The client's IP address, as the per-address limits count it.
    @ivar pendingName: The name whose password is awaited, with C{--auth}.
    @ivar failures: Failed logins on this connection.
    @ivar answerCall: The delayed answer to a failed login.
    @ivar leaveReason: Why the connection is closing, once it is.
    """

    delimiter = b"\n"
    # A TCP or TLS transport (ITCPTransport, IConsumer, IPushProducer), or a
    # StringTransport in the tests.
    transport: Any

    # Every attribute a connection sets, Twisted's included, is a slot: an
    # instance dict costs hundreds of bytes per connection once CPython stops
    # sharing its keys between instances (bench/RESULTS.md, the idle
    # scenario), a slot 8 bytes.
    __slots__ = (
        "_TimeoutMixin__timeoutCall",
        "_abortCall",
        "_buffer",
        "_busyReceiving",
        "_closing",
        "_discarding",
        "_fullAt",
        "_guard",
        "_holds",
        "_leftover",
        "_resumeCall",
        "_telnet",
        "answerCall",
        "connected",
        "factory",
        "failures",
        "host",
        "leaveReason",
        "line_mode",
        "paused",
        "pendingName",
        "timeOut",
        "transport",
        "user",
    )

    user: ChatUser | None
    host: str
    pendingName: str
    failures: int
    answerCall: IDelayedCall | None
    leaveReason: str
    _fullAt: float  # this client's token bucket (see TokenBucket)
    _guard: SendQueueGuard
    _telnet: TelnetFilter | None  # made when a telnet command shows up
    _discarding: bool
    _leftover: bytes
    _resumeCall: IDelayedCall | None
    _abortCall: IDelayedCall | None
    _holds: frozenset[str]
    _closing: bool

    def __init__(self, factory: LineFactory) -> None:
        self.factory = factory
        # Twisted's state, from what its classes default to.
        self.transport = None
        self.connected = 0
        self._buffer = b""
        self._busyReceiving = False
        self.paused = False
        self.line_mode = 1
        self.timeOut = None
        self._TimeoutMixin__timeoutCall = None
        # Ours.
        self.user = None
        self.host = ""
        self.pendingName = ""
        self.failures = 0
        self.answerCall = None
        self.leaveReason = ""
        self._fullAt = 0.0
        self._guard = SendQueueGuard(factory.server.config.maxBuffer, self)
        self._telnet = None
        self._discarding = False
        self._leftover = b""
        self._resumeCall = self._abortCall = None
        self._holds = _NO_HOLDS
        self._closing = False

    # What every connection of one server shares, read from the factory.

    @property
    def server(self) -> ChatServer:
        return self.factory.server  # type: ignore[no-any-return]

    @property
    def config(self) -> ChatConfig:
        return self.factory.server.config  # type: ignore[no-any-return]

    @property
    def clock(self) -> IReactorTime:
        return self.factory.server.clock  # type: ignore[no-any-return]

    @property
    def codec(self) -> LineCodec:
        """
        How the chat's events are written to this connection.
        """
        return self.factory.codec  # type: ignore[no-any-return]

    @property
    def MAX_LENGTH(self) -> int:  # type: ignore[override]
        """
        LineReceiver's limit: the longest line, with room for the CR of a CR
        LF.
        """
        return self.config.maxLine + 1

    @property
    def name(self) -> str:
        """
        The user's name once logged in, C{""} before.
        """
        return self.user.name if self.user is not None else ""

    @property
    def door(self) -> str:
        """
        The door this connection came through, as other doors show it.
        """
        return "telnet" if ITelnetDecoded.providedBy(self.transport) else "line"

    @property
    def loggedIn(self) -> bool:
        return self.user is not None

    @property
    def closing(self) -> bool:
        """
        Whether this connection is closing.
        """
        return self._closing

    @property
    def peer(self) -> str:
        """
        The client's address, for logs and the server console.
        """
        if self.transport is None:
            return ""
        return describe_address(self.transport.getPeer())

    def callLater(
        self, delay: float, f: Callable[..., object], *args: object
    ) -> IDelayedCall:
        """
        Schedule through the server's clock; L{TimeoutMixin} calls this.
        """
        return self.clock.callLater(delay, f, *args)

    # Connection life

    def connectionMade(self) -> None:
        self.host = str(getattr(self.transport.getPeer(), "host", ""))
        self._enableKeepAlive()
        self.transport.registerProducer(self._guard, True)
        log.info("Connection from {peer}", chat_event="connect", peer=self.peer)
        if self.config.loginTimeout > 0:
            self.setTimeout(self.config.loginTimeout)
        self.send(
            lines.Info(f"Welcome to {self.config.serverName}. Type /help for help."),
            login.NAME_PROMPT,
        )

    def _enableKeepAlive(self) -> None:
        if ITCPTransport.providedBy(self.transport):
            self.transport.setTcpKeepAlive(True)
            return
        # TLS and other wrappers: reach the socket underneath, if there is one.
        handle = getattr(self.transport, "getHandle", lambda: None)()
        if isinstance(handle, socket.socket):
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.setTimeout(None)
        for call in (self._resumeCall, self._abortCall, self.answerCall):
            if call is not None and call.active():
                call.cancel()
        self._resumeCall = self._abortCall = self.answerCall = None
        # A login answered from now on finds the connection gone.
        self._closing = True
        why = self.leaveReason or lifecycle.describe_loss(reason)
        user, self.user = self.user, None
        lifecycle.ended(self.peer, user=user, why=why)

    def close(self, reason: str, notice: lines.Event | None = None) -> None:
        """
        Say C{notice}, then close the connection; C{reason} is what the
        others are told.  A client that does not take its last lines within
        the grace period is aborted.
        """
        if self._closing:
            return
        self._closing = True
        self.leaveReason = reason
        if notice is not None:
            self.send(notice)
        if self.user is not None:
            # What waits (for the end of the turn, or behind a history replay
            # still being read) goes first.
            fanout = self.server.realm.fanout
            fanout.unhold(self.user)
            fanout.flushOne(self.user)
        self.transport.loseConnection()
        self._abortCall = self.clock.callLater(
            self.config.closeGrace, self.transport.abortConnection
        )

    def disconnect(self, reason: str) -> None:
        """
        Disconnect this user on the operator's behalf, telling them why.
        """
        self.close(
            f"Kicked: {reason}" if reason else "Kicked",
            lines.Info(f"You were disconnected by the server: {reason or 'kicked'}"),
        )

    def serverStopping(self) -> None:
        """
        The server is stopping: say goodbye and close.
        """
        self.close(
            "Server shutting down", lines.Info("The server is shutting down. Goodbye!")
        )

    def timeoutConnection(self) -> None:
        if self.user is not None:
            self.close(
                "Idle timeout",
                lines.Error(
                    f"idle for {self.config.idleTimeout:g} seconds, disconnecting"
                ),
            )
        else:
            self.close(
                "Login timeout",
                lines.Error(
                    f"no name chosen within {self.config.loginTimeout:g} seconds, "
                    "disconnecting"
                ),
            )

    # Output

    def deliver(self, data: bytes) -> None:
        """
        Write encoded lines to this client, unless it has been dropped for
        not reading.
        """
        guard = self._guard
        if guard.overflowed or self.transport is None:
            return
        self.transport.write(data)
        # Once per recipient per turn: the guard counts only while paused.
        if guard.paused:
            guard.wrote(len(data))

    def send(self, *replies: lines.Event) -> None:
        """
        Send server lines to this client alone, in order with the chat's
        events it gets.
        """
        data = b"".join(lines.encode(reply) for reply in replies)
        if self.user is not None:
            self.server.realm.fanout.send(self.user, data)
        else:
            self.deliver(data)

    def sendQueueExceeded(self) -> None:
        """
        Drop this client: it has stopped reading (see L{SendQueueGuard}).
        """
        log_dropped(self.peer, self.name)
        self.leaveReason = SEND_QUEUE_EXCEEDED
        self._closing = True
        # Not loseConnection: its pending output would wait for a reader that
        # is not reading.
        self.transport.abortConnection()

    # Input

    def dataReceived(self, data: bytes) -> None:
        telnet = self._telnet
        if (
            telnet is None
            and IAC_BYTE in data
            and not ITelnetDecoded.providedBy(self.transport)
        ):
            telnet = self._telnet = TelnetFilter()
        if telnet is not None:
            data = telnet.feed(data)
        if self._discarding:
            end = data.find(b"\n")
            if end < 0:
                return
            data = data[end + 1 :]
            self._discarding = False
        super().dataReceived(data)
        while self._leftover and not self.paused and not self._closing:
            rest, self._leftover = self._leftover, b""
            super().dataReceived(rest)

    def lineLengthExceeded(self, line: bytes) -> None:
        end = line.find(b"\n")
        if end < 0:
            self._discarding = True  # the rest of this line is still coming
        else:
            self._leftover = line[end + 1 :]
        self._lineTooLong()

    def _lineTooLong(self) -> None:
        self.reject(f"line too long (over {self.config.maxLine} bytes), discarded")

    def reject(self, why: str) -> None:
        """
        Refuse what the client sent, telling it why, and log it.
        """
        lifecycle.log_rejected(self.peer, self.name, why)
        self.send(lines.Error(why))

    def lineReceived(self, line: bytes) -> None:
        if self._closing:
            return
        if line.endswith(b"\r"):
            line = line[:-1]
        self._fullAt = self.server.bucket.take(self._fullAt)
        if len(line) > self.config.maxLine:
            self._lineTooLong()
        else:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self.reject("invalid UTF-8, line discarded")
            else:
                if self.user is not None:
                    if self.config.idleTimeout > 0:
                        self.resetTimeout()
                    usercommands.serve(self, self.user, text)
                elif self.pendingName:
                    login.check_password(self, text)
                else:
                    login.choose_name(self, text)
        self._pace()

    # Reading held back: for the token bucket, and while a login is checked.

    def hold(self, reason: str) -> None:
        """
        Stop reading from this client until L{release}d for C{reason} (and
        for every other reason held).
        """
        self._holds = self._holds | {reason}
        if not self.paused:
            self.pauseProducing()

    def release(self, reason: str) -> None:
        """
        Stop holding back reading for C{reason}.
        """
        self._holds = self._holds - {reason} or _NO_HOLDS
        if not self._holds and self.paused and not self._closing:
            self.resumeProducing()

    def _pace(self) -> None:
        if self._closing or "rate" in self._holds:
            return
        delay = self.server.bucket.delay(self._fullAt)
        if delay > 0:
            self.hold("rate")
            self._resumeCall = self.clock.callLater(delay, self._resume)

    def _resume(self) -> None:
        self._resumeCall = None
        self.release("rate")
