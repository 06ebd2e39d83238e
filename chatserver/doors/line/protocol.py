"""
One connection of the line door: bytes in, lines out.

The way a line travels::

    bytes -> telnet filter -> framing on LF (with the max-line guard)
          -> UTF-8 and text checks, token bucket -> login or command
          -> the chat core (a ChatUser operation) -> events
          -> the fan-out: encoded once by the LineCodec, one write per turn
          -> this connection's transport, guarded by its send queue

The token bucket, the send queue, the timeouts, closing and the login are
the connection's L{DoorSession}'s, as on every door.  The connection is the
user's "mind": the realm hands the chat's output for
this user to L{ChatProtocol.deliver}.  What a user types is read by
L{chatserver.doors.line.login} before login and by
L{chatserver.doors.line.usercommands} after.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IPushProducer, ITCPTransport
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.core.minds import IMind
from chatserver.doors import lifecycle
from chatserver.doors.line import accounts, login, usercommands
from chatserver.doors.line.iac import IAC_BYTE, ITelnetDecoded, TelnetFilter
from chatserver.doors.session import DoorSession, deliver_output
from chatserver.limits.addresses import describe_address
from chatwire import lines

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from chatserver.config import ChatConfig
    from chatserver.core.users import ChatUser
    from chatserver.doors.line.codec import LineCodec
    from chatserver.doors.line.factory import LineFactory
    from chatserver.server import ChatServer
    from chatwire.errors import ChatError

log = Logger(namespace=LOG_NAMESPACE)

PAUSED = "paused"
"""
The hold of a connection whose reading is paused as a producer's.
"""


@implementer(IMind, IPushProducer)
class ChatProtocol(Protocol):
    """
    The server side of one line-door connection, and the mind of its user.

    This class frames the connection's input into lines (with the max-line
    guard and the telnet filter) and writes the door's replies; its
    L{DoorSession} keeps the rest of the connection's life (pacing, the
    send queue, timeouts, closing, the login).
    L{chatserver.doors.line.login} turns its first lines into a logged-in
    user and L{chatserver.doors.line.usercommands} serves that user.

    @ivar session: The connection's life.
    @ivar host: The client's IP address, as the per-address limits count it.
    @ivar pendingName: The name whose password is awaited, with C{--auth}.
    @ivar pendingSecret: What takes the next line, a password typed with
        its echo hidden (L{chatserver.doors.line.accounts}), or L{None}.
    """

    # A TCP or TLS transport (ITCPTransport, IConsumer, IPushProducer), or a
    # StringTransport in the tests.
    transport: Any

    ident = ""
    realname = ""
    echoes = False
    joinsDefaultRoom = True

    # Every attribute a connection sets, Twisted's included, is a slot: an
    # instance dict costs hundreds of bytes per connection once CPython stops
    # sharing its keys between instances (bench/RESULTS.md, the idle
    # scenario), a slot 8 bytes.
    __slots__ = (
        "_buffer",
        "_discarding",
        "_telnet",
        "connected",
        "factory",
        "host",
        "pendingName",
        "pendingSecret",
        "session",
        "transport",
    )

    host: str
    pendingName: str
    pendingSecret: Callable[[str], None] | None
    session: DoorSession
    _buffer: bytes
    _telnet: TelnetFilter | None  # made when a telnet command shows up
    _discarding: bool

    def __init__(self, factory: LineFactory) -> None:
        self.factory = factory
        self.transport = None
        self.connected = 0
        self.host = ""
        self.pendingName = ""
        self.pendingSecret = None
        self.session = DoorSession(self)
        self._buffer = b""
        self._telnet = None
        self._discarding = False

    @property
    def lastActive(self) -> float:
        """
        When the client last sent a line (its session keeps it).
        """
        return self.session.lastActive

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
    def MAX_LENGTH(self) -> int:
        """
        The longest line, with room for the CR of a CR LF.
        """
        return self.config.maxLine + 1

    @property
    def user(self) -> ChatUser | None:
        """
        The user once logged in, else L{None}.
        """
        return self.session.user

    @property
    def name(self) -> str:
        """
        The user's name once logged in, C{""} before.
        """
        user = self.session.user
        return user.name if user is not None else ""

    @property
    def door(self) -> str:
        """
        The door this connection came through, as other doors show it.
        """
        return "telnet" if ITelnetDecoded.providedBy(self.transport) else "line"

    @property
    def loggedIn(self) -> bool:
        return self.session.user is not None

    @property
    def closing(self) -> bool:
        """
        Whether this connection is closing.
        """
        return self.session.closing

    @property
    def peer(self) -> str:
        """
        The client's address, for logs and the server console.
        """
        if self.transport is None:
            return ""
        return describe_address(self.transport.getPeer())

    # Connection life

    def connectionMade(self) -> None:
        self.host = str(getattr(self.transport.getPeer(), "host", ""))
        self._enableKeepAlive()
        self.transport.registerProducer(self.session, True)
        log.info("Connection from {peer}", chat_event="connect", peer=self.peer)
        self.session.start(self.transport)
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
        self.connected = 0
        self.session.connectionLost(reason)

    def close(self, reason: str, notice: lines.Event | None = None) -> None:
        """
        Say C{notice}, then close the connection; C{reason} is what the
        others are told.  A client that does not take its last lines within
        the grace period is aborted.
        """
        self.session.close(reason, lines.encode(notice) if notice is not None else b"")

    def endTransport(self) -> None:
        self.transport.loseConnection()

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
        if self.session.user is not None:
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

    # Logging in (see chatserver.doors.line.login)

    def greet(self, user: ChatUser) -> None:
        login.greet(self, user)

    def loginRefused(self, error: ChatError, name: str) -> None:
        login.refused(self, error, name)

    def loginFailed(self, reason: Failure, name: str) -> Callable[[bool], None]:
        self.pendingName = ""
        return self._answerFailure

    def _answerFailure(self, last: bool) -> None:
        login.answer_failure(self, last)

    # Output

    # Encoded lines, written unless the client has been dropped for not
    # reading.
    deliver = deliver_output

    def send(self, *replies: lines.Event) -> None:
        """
        Send server lines to this client alone, in order with the chat's
        events it gets.
        """
        self.session.send(b"".join(lines.encode(reply) for reply in replies))

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
        self._buffer += data
        self.session.readOn()

    def readLine(self) -> bool:
        """
        Frame the next line (up to LF, within the max-line guard), and
        handle it.

        @return: Whether a whole line was buffered.
        """
        buffer = self._buffer
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > self.MAX_LENGTH:
                # No line end in sight: drop what came, and the rest of the
                # line when it comes.
                self._buffer = b""
                self._discarding = True
                self._lineTooLong()
            return False
        line, self._buffer = buffer[:end], buffer[end + 1 :]
        if len(line) > self.MAX_LENGTH:
            self._lineTooLong()
        else:
            self.lineReceived(line)
        return True

    def clearLineBuffer(self) -> bytes:
        """
        Clear the buffer of input not yet read as lines.

        @return: What it held.
        """
        buffer, self._buffer = self._buffer, b""
        return buffer

    def _lineTooLong(self) -> None:
        self.reject(f"line too long (over {self.config.maxLine} bytes), discarded")

    def reject(self, why: str) -> None:
        """
        Refuse what the client sent, telling it why, and log it.
        """
        lifecycle.log_rejected(self.peer, self.name, why)
        self.send(lines.Error(why))

    def lineReceived(self, line: bytes) -> None:
        session = self.session
        if session.closing:
            return
        if line.endswith(b"\r"):
            line = line[:-1]
        session.take()
        if len(line) > self.config.maxLine:
            self._lineTooLong()
        else:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self.reject("invalid UTF-8, line discarded")
            else:
                user = session.user
                if self.pendingSecret is not None:
                    accounts.take_secret(self, text)
                elif user is not None:
                    session.resetTimeout()
                    usercommands.serve(self, user, text)
                elif self.pendingName:
                    login.check_password(self, text)
                else:
                    login.choose_name(self, text)

    # Reading paused as a producer's (IPushProducer): a hold like the others.

    @property
    def paused(self) -> bool:
        """
        Whether reading is held back, for any reason.
        """
        return self.session.holding

    def pauseProducing(self) -> None:
        self.session.hold(PAUSED)

    def resumeProducing(self) -> None:
        self.session.release(PAUSED)

    def stopProducing(self) -> None:
        self.transport.loseConnection()
