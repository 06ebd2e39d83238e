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

from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.core.minds import IMind
from chatserver.doors.irc import (
    caps,
    labels,
    message,
    numerics,
    registration,
    welcome,
)
from chatserver.doors.irc.codec import MAX_LINE, IrcCodec
from chatserver.doors.session import DoorSession, deliver_output
from chatserver.limits.addresses import describe_address

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from chatserver.config import ChatConfig
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.factory import IrcFactory
    from chatserver.server import ChatServer
    from chatwire.errors import ChatError

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


@implementer(IMind)
class IrcProtocol(Protocol):
    """
    The server side of one IRC connection, and the mind of its user: its
    framing, registration and commands; its L{DoorSession} keeps the rest
    of the connection's life.

    @ivar session: The connection's life.
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
    @ivar nickInUse: The last nick asked for before registration that was
        refused as in use, or empty.
    @ivar account: The account SASL vouched for, and its credentials.
    @ivar saslBuffer: The base64 of a SASL exchange so far, or L{None}
        when none is going on.
    @ivar loggingIn: Whether a login is being checked.
    @ivar lastActive: When the user last spoke, in POSIX seconds.
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
        self.session = DoorSession(self)
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
        self.nickInUse = ""
        self.account: tuple[str, bytes] | None = None
        self.saslBuffer: str | None = None
        self.loggingIn = False
        self.lastActive = 0.0
        self._buffer = b""
        self._discarding = False
        self._pinged = False
        self._captured: list[bytes] | None = None

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
    def user(self) -> ChatUser | None:
        """
        The user once registered, else L{None}.
        """
        return self.session.user

    @property
    def closing(self) -> bool:
        return self.session.closing

    @property
    def name(self) -> str:
        """
        What the logs call this client: its nick, or C{*} before one.
        """
        return self.target

    @property
    def target(self) -> str:
        """
        The first parameter of a numeric: the nick, or C{*} before one.
        """
        if self.user is not None:
            return self.user.name
        return self.nick or "*"

    def capsChanged(self, caps: frozenset[str]) -> None:
        self.caps = caps
        if self.user is not None:
            self.user.codec = self.codec

    # Connection life

    def connectionMade(self) -> None:
        self.host = str(getattr(self.transport.getPeer(), "host", ""))
        self.transport.registerProducer(self.session, True)
        log.info("IRC connection from {peer}", chat_event="connect", peer=self.peer)
        self.session.start(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.session.connectionLost(reason)

    def close(self, reason: str, error: str = "") -> None:
        """
        Send C{ERROR :error} and close; C{reason} is what the others are told.
        """
        self.session.close(
            reason, message.encode("ERROR", f"Closing link: {error or reason}")
        )

    def endTransport(self) -> None:
        self.transport.loseConnection()

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
            self.session.setTimeout(self.ircFactory.pingTimeout)
        else:
            self.close(f"Ping timeout: {self.ircFactory.pingTimeout:g} seconds")

    # Registration (see chatserver.doors.irc.registration)

    def greet(self, user: ChatUser) -> None:
        """
        Registration is done: C{user} is logged in; greet it.
        """
        self.loggingIn = False
        self.nick = user.name
        self.lastActive = self.clock.seconds()
        self.session.setTimeout(self.ircFactory.pingInterval)
        welcome.greet(self, user)

    def loginRefused(self, error: ChatError, name: str) -> None:
        registration.refused_by_chat(self, error, name)

    def loginFailed(self, reason: Failure, name: str) -> Callable[[bool], None]:
        return registration.wrong_password(self, reason, name)

    # Output

    deliver = deliver_output

    def send(self, *data: bytes) -> None:
        """
        Send messages to this client alone, in order with the chat's events.
        """
        if self._captured is not None and self.user is None:
            self._captured.extend(data)
            return
        self.session.send(b"".join(data))

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

    # Input

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        self.session.readOn()

    def readLine(self) -> bool:
        """
        Frame the next line (up to CR, LF or CR LF; empty ones skipped),
        and handle it.

        @return: Whether a line end was buffered.
        """
        buffer = self._buffer
        cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
        end = min(cr, lf) if cr >= 0 and lf >= 0 else max(cr, lf)
        if end < 0:
            if len(buffer) > MAX_TAGS + MAX_LINE:
                # No line end in sight: drop what came, and the rest of the
                # line when it comes.
                self._buffer = b""
                if not self._discarding:
                    self._discarding = True
                    self._tooLong()
            return False
        line, self._buffer = buffer[:end], buffer[end + 1 :]
        if self._discarding:
            self._discarding = False
        elif line:
            self._lineReceived(line)
        return True

    def _tooLong(self) -> None:
        self.reply(numerics.ERR_INPUTTOOLONG, "Input line was too long")

    def _lineReceived(self, line: bytes) -> None:
        session = self.session
        session.take()
        if session.user is not None:
            if self._pinged:
                self._pinged = False
                session.setTimeout(self.ircFactory.pingInterval)
            else:
                session.resetTimeout()
        body = line
        if line.startswith(b"@"):
            space = line.find(b" ")
            if space < 0 or space - 1 > MAX_CLIENT_TAGS:
                self._tooLong()
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
                    label = parsed.tags.get("label")
                    if label and caps.LABELED_RESPONSE in self.caps:
                        self._labeled(parsed, label)
                    else:
                        self.ircFactory.dispatch(self, parsed)

    def _labeled(self, parsed: message.Message, label: str) -> None:
        """
        Handle a command that carries a C{label} (IRCv3 C{labeled-response}):
        what it makes this client get in this turn is caught and sent
        labeled (L{labels.labeled}).  A reply that comes later (after a
        lookup in another node, say) goes unlabeled.
        """
        user = self.user
        fanout = self.server.realm.fanout
        if user is not None:
            fanout.flushOne(user)  # what came before is not a reply
        captured: list[bytes] = []
        self._captured = captured
        # The fan-out hands this client's output to its deliver: caught on
        # the instance for this command alone, so that no other delivery
        # pays a test.
        setattr(self, "deliver", captured.append)  # noqa: B010
        try:
            self.ircFactory.dispatch(self, parsed)
            if user is not None:
                fanout.flushOne(user)
        finally:
            delattr(self, "deliver")
            self._captured = None
        data = labels.labeled(self.serverName, label, b"".join(captured))
        if self.user is not None:
            deliver_output(self, data)
        else:
            self.session.deliver(data)
