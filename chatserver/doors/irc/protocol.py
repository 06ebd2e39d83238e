"""
One connection of the IRC door: bytes in, IRC messages out.

The way a line travels::

    bytes -> framing (CR, LF or CR LF; 512 bytes, 8191 more for tags)
          -> UTF-8, decoded per line -> parsed (tags, prefix, command)
          -> token bucket (reading paused, never dropped)
          -> registration (L{registration}) or a command (L{commands})
          -> the chat core (a ChatUser operation) -> events
          -> the fan-out: encoded once per IrcCodec, one write per turn
          -> this connection's transport, guarded by its send queue

Twisted's server-side L{twisted.words.protocols.irc.IRC} decodes each read
(a character split across two reads breaks it), has no line limit and does
not read tags; this class frames and decodes bytes itself, one line at a
time.  The connection is the user's "mind": the realm hands the chat's
output for this user to L{IrcProtocol.deliver}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.doors import lifecycle
from chatserver.doors.irc import caps, message, numerics
from chatserver.doors.irc.codec import MAX_LINE, IrcCodec
from chatserver.limits.addresses import describe_address
from chatserver.limits.flow import SEND_QUEUE_EXCEEDED, SendQueueGuard, log_dropped

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from chatserver.config import ChatConfig
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.factory import IrcFactory
    from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)

MAX_TAGS = 8191
"""
The most bytes of tags in a line, the C{@} and the space included.
"""
MAX_CLIENT_TAGS = 4094
"""
The most bytes of tag data (without the C{@} and the space) a client may
send (IRCv3 message-tags: more is refused with 417).
"""


class IrcProtocol(Protocol, TimeoutMixin):
    """
    The server side of one IRC connection, and the mind of its user.

    @ivar user: The user once registered, else L{None}.
    @ivar nick: The nick asked for before registration; the user's name
        after.
    @ivar ident: The user name from C{USER}, as shown in masks.
    @ivar realname: The real name from C{USER}.
    @ivar caps: The IRCv3 capabilities enabled.
    @ivar modes: The user modes set (only C{i}, which changes nothing).
    @ivar capVersion: The C{CAP LS} version asked for (302 or 0).
    @ivar negotiating: Whether registration waits for C{CAP END}.
    @ivar userGiven: Whether C{USER} was sent.
    @ivar password: From C{PASS}, for an account.
    @ivar account: The account SASL vouched for, and its credentials.
    @ivar saslBuffer: The base64 of a SASL exchange so far, or L{None}
        when none is going on.
    @ivar loggingIn: Whether a login is being checked.
    @ivar failures: Failed logins on this connection.
    """

    door = "irc"
    joinsDefaultRoom = False
    """
    An IRC client joins its channels itself, like on any IRC server: the
    realm does not put it in the default room at login.
    """
    transport: Any

    def __init__(self, factory: IrcFactory) -> None:
        self.factory = factory
        self.ircFactory = factory
        self.user: ChatUser | None = None
        self.host = ""
        self.nick = ""
        self.ident = ""
        self.realname = ""
        self.caps: frozenset[str] = frozenset()
        self.modes: frozenset[str] = frozenset()
        self.capVersion = 0
        self.negotiating = False
        self.userGiven = False
        self.password = ""
        self.account: tuple[str, bytes] | None = None
        self.saslBuffer: str | None = None
        self.loggingIn = False
        self.failures = 0
        self.answerCall: IDelayedCall | None = None
        self.leaveReason = ""
        self.lastActive = 0.0
        self._buffer = b""
        self._discarding = False
        self._fullAt = 0.0
        self._holds: set[str] = set()
        self._resumeCall: IDelayedCall | None = None
        self._abortCall: IDelayedCall | None = None
        self._closing = False
        self._pinged = False
        self._guard = SendQueueGuard(factory.server.config.maxBuffer, self)

    # What every connection shares.

    @property
    def server(self) -> ChatServer:
        return self.ircFactory.server

    @property
    def config(self) -> ChatConfig:
        return self.ircFactory.server.config

    @property
    def clock(self) -> IReactorTime:
        return self.ircFactory.server.clock

    @property
    def serverName(self) -> str:
        return self.ircFactory.serverName

    @property
    def codec(self) -> IrcCodec:
        """
        How the chat's events are written to this client, for its
        capabilities.
        """
        return self.ircFactory.codecs.get(self.caps)

    @property
    def echoes(self) -> bool:
        """
        Whether the client gets its own messages back (IRCv3
        C{echo-message}).
        """
        return caps.ECHO_MESSAGE in self.caps

    @property
    def peer(self) -> str:
        if self.transport is None:
            return ""
        return describe_address(self.transport.getPeer())

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def target(self) -> str:
        """
        The first parameter of a numeric: the nick, or C{*} before one.
        """
        if self.user is not None:
            return self.user.name
        return self.nick or "*"

    def callLater(
        self, delay: float, f: Callable[..., object], *args: object
    ) -> IDelayedCall:
        return self.clock.callLater(delay, f, *args)

    def capsChanged(self, caps: frozenset[str]) -> None:
        self.caps = caps
        if self.user is not None:
            self.user.codec = self.codec

    # Connection life

    def connectionMade(self) -> None:
        self.host = str(getattr(self.transport.getPeer(), "host", ""))
        self.transport.registerProducer(self._guard, True)
        log.info("IRC connection from {peer}", chat_event="connect", peer=self.peer)
        if self.config.loginTimeout > 0:
            self.setTimeout(self.config.loginTimeout)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.setTimeout(None)
        for call in (self._resumeCall, self._abortCall, self.answerCall):
            if call is not None and call.active():
                call.cancel()
        self._resumeCall = self._abortCall = self.answerCall = None
        self._closing = True
        why = self.leaveReason or lifecycle.describe_loss(reason)
        user, self.user = self.user, None
        lifecycle.ended(self.peer, user=user, why=why)

    def close(self, reason: str, error: str = "") -> None:
        """
        Send C{ERROR :error} and close; C{reason} is what the others are told.
        """
        if self._closing:
            return
        self._closing = True
        self.leaveReason = reason
        self.send(message.encode("ERROR", f"Closing link: {error or reason}"))
        if self.user is not None:
            fanout = self.server.realm.fanout
            fanout.unhold(self.user)
            fanout.flushOne(self.user)
        self.transport.loseConnection()
        self._abortCall = self.clock.callLater(
            self.config.closeGrace, self.transport.abortConnection
        )

    def disconnect(self, reason: str) -> None:
        """
        Disconnect this user on the operator's behalf.
        """
        self.close(
            f"Kicked: {reason}" if reason else "Kicked",
            f"disconnected by the server: {reason or 'kicked'}",
        )

    def serverStopping(self) -> None:
        self.close("Server shutting down")

    def timeoutConnection(self) -> None:
        if self.user is None:
            self.close("Registration timeout")
        elif not self._pinged:
            self._pinged = True
            self.send(message.encode("PING", self.serverName))
            self.setTimeout(self.ircFactory.pingTimeout)
        else:
            self.close(f"Ping timeout: {self.ircFactory.pingTimeout:g} seconds")

    def registered(self, user: ChatUser) -> None:
        """
        Registration is done: C{user} is logged in.
        """
        self.user = user
        self.nick = user.name
        self.lastActive = self.clock.seconds()
        self.setTimeout(self.ircFactory.pingInterval)

    # Output

    def deliver(self, data: bytes) -> None:
        if self._guard.overflowed or self.transport is None:
            return
        self.transport.write(data)
        self._guard.wrote(len(data))

    def send(self, *data: bytes) -> None:
        """
        Send messages to this client alone, in order with the chat's events.
        """
        joined = b"".join(data)
        if self.user is not None:
            self.server.realm.fanout.send(self.user, joined)
        else:
            self.deliver(joined)

    def numeric(self, code: str, *params: str) -> bytes:
        return message.encode(code, self.target, *params, prefix=self.serverName)

    def reply(self, code: str, *params: str) -> None:
        """
        Send a numeric reply (C{:server CODE nick params}).
        """
        self.send(self.numeric(code, *params))

    def fail(self, command: str, code: str, *context: str) -> None:
        """
        Send an IRCv3 standard reply C{FAIL}.
        """
        self.send(
            message.encode("FAIL", command, code, *context, prefix=self.serverName)
        )

    def sendQueueExceeded(self) -> None:
        log_dropped(self.peer, self.target)
        self.leaveReason = SEND_QUEUE_EXCEEDED
        self._closing = True
        self.transport.abortConnection()

    # Input

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        self._readLines()

    def _readLines(self) -> None:
        while not self._holds and not self._closing:
            buffer = self._buffer
            cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
            end = min(cr, lf) if cr >= 0 and lf >= 0 else max(cr, lf)
            if end < 0:
                if len(buffer) > MAX_TAGS + MAX_LINE:
                    # No line end in sight: drop what came, and the rest of
                    # the line when it comes.
                    self._buffer = b""
                    if not self._discarding:
                        self._discarding = True
                        self._tooLong()
                return
            line, self._buffer = buffer[:end], buffer[end + 1 :]
            if self._discarding:
                self._discarding = False
                continue
            if line:
                self._lineReceived(line)

    def _tooLong(self) -> None:
        self.reply(numerics.ERR_INPUTTOOLONG, "Input line was too long")

    def _lineReceived(self, line: bytes) -> None:
        self._fullAt = self.server.bucket.take(self._fullAt)
        if self.user is not None:
            if self._pinged:
                self._pinged = False
                self.setTimeout(self.ircFactory.pingInterval)
            else:
                self.resetTimeout()
        body = line
        if line.startswith(b"@"):
            space = line.find(b" ")
            if space < 0 or space - 1 > MAX_CLIENT_TAGS:
                self._tooLong()
                self._pace()
                return
            body = line[space + 1 :]
        if len(body) > MAX_LINE - 2:
            self._tooLong()
        else:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self.fail("*", "INVALID_UTF8", "Message rejected: it is not UTF-8")
            else:
                try:
                    parsed = message.parse(text)
                except message.MalformedMessage:
                    pass
                else:
                    self.ircFactory.dispatch(self, parsed)
        self._pace()

    # Reading held back: for the token bucket, and while a login is checked.

    def hold(self, reason: str) -> None:
        if not self._holds and self.transport is not None:
            self.transport.pauseProducing()
        self._holds.add(reason)

    def release(self, reason: str) -> None:
        if reason not in self._holds:
            return
        self._holds.discard(reason)
        if not self._holds and not self._closing:
            self.transport.resumeProducing()
            self._readLines()

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
