"""
One WebSocket session of the web door: JSON messages in, JSON messages out.

The way a message travels::

    frames -> the size cap, on their headers (framecap.MessageCap) -> wsproto
           (via twisted.web.websocket)
           -> queue (reading paused while held: token bucket, login check)
           -> JSON checks (messages.parse_message) -> login or command
           -> the chat core (a ChatUser operation) -> events
           -> the fan-out: encoded once by the WebCodec, one deliver per turn
           -> split into one text message per event, send queue guarded

The session is the user's "mind".  It uses the limits every door shares
(its connection was admitted at accept, see L{chatserver.limits.gate}): the
L{TokenBucket} (a flood is delayed by not reading, never dropped), the
L{SendQueueGuard} and the L{LoginThrottle} with its three strikes.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.auth.checkers import ChosenName
from chatserver.core.errors import ChatError, NameTaken
from chatserver.core.names import check_name
from chatserver.core.users import ChatUser, IChatUser
from chatserver.doors import lifecycle
from chatserver.doors.web.codec import encode_message
from chatserver.doors.web.messages import BadMessage, parse_message
from chatserver.history.store import MAX_PAGE
from chatserver.limits.addresses import describe_address
from chatserver.limits.flow import SEND_QUEUE_EXCEEDED, SendQueueGuard, log_dropped
from chatserver.limits.throttle import MAX_LOGIN_FAILURES

if TYPE_CHECKING:
    from twisted.web.server import Request
    from twisted.web.websocket import WebSocketTransport

    from chatserver.config import ChatConfig
    from chatserver.core.rooms import Room
    from chatserver.doors.web.codec import WebCodec
    from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)

# Close codes (RFC 6455, section 7.4.1).
NORMAL = 1000
GOING_AWAY = 1001
POLICY = 1008

DEFAULT_HISTORY_PAGE = 20


def room_state(room: Room) -> dict[str, Any]:
    """
    @return: The C{room} message: what a member of C{room} needs to show it.
    """
    return {
        "type": "room",
        "room": room.name,
        "topic": room.topic,
        "topicSetter": room.topicSetter,
        "members": list(room.names()),
    }


class WebSession:
    """
    The server side of one WebSocket connection of the web door, and the
    mind of its user.

    @ivar user: The user once logged in, else L{None}.
    @ivar host: The client's IP address, as the per-address limits count it.
    @ivar failures: Failed logins on this connection.
    @ivar pingInterval: Seconds between keepalive pings; a client that has
        not answered one by the next is closed.
    """

    pingInterval = 30.0
    #: The door, as other doors show where a user comes from (IRC's host part).
    door = "web"
    #: The page shows a user's own lines as the core gives them back.
    echoes = True

    transport: WebSocketTransport | None

    def __init__(self, server: ChatServer, codec: WebCodec, request: Request) -> None:
        self.server = server
        self.codec = codec
        self.user: ChatUser | None = None
        self.transport = None
        address = request.getClientAddress()
        self.host = str(getattr(address, "host", ""))
        self._peer = describe_address(address)
        # The connection under the WebSocket: read pausing, aborting.
        self._tcp: Any = request.channel.transport
        self._request = request
        self.failures = 0
        self.leaveReason = ""
        self._guard = SendQueueGuard(server.config.maxBuffer, self)
        self._fullAt = 0.0
        self._queue: deque[str] = deque()
        self._holds: set[str] = set()
        self._draining = False
        self._closing = False
        self._awaitingPong = False
        self._closeSent = False
        self._calls: dict[str, IDelayedCall] = {}

    @property
    def config(self) -> ChatConfig:
        return self.server.config

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def name(self) -> str:
        return self.user.name if self.user is not None else ""

    @property
    def closing(self) -> bool:
        return self._closing

    def _later(self, what: str, delay: float, f: Any, *args: object) -> None:
        self._cancel(what)
        self._calls[what] = self.server.clock.callLater(delay, f, *args)

    def _cancel(self, what: str) -> None:
        call = self._calls.pop(what, None)
        if call is not None and call.active():
            call.cancel()

    # WebSocketProtocol

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        # The HTTP channel's own timeout would end the WebSocket after it:
        # the session keeps its own time from now on.
        self._request.channel.setTimeout(None)
        # The HTTP channel is the transport's producer; it passes pauses on
        # to the request's producer, the guard.
        self._request.registerProducer(self._guard, True)
        log.info("Connection from {peer} (web)", chat_event="connect", peer=self.peer)
        if self.config.loginTimeout > 0:
            self._later("timeout", self.config.loginTimeout, self._timedOut)
        self._later("ping", self.pingInterval, self._ping)
        self.send(
            {
                "type": "hello",
                "server": self.config.serverName,
                "password": self.server.passwords,
                "defaultRoom": self.config.defaultRoom,
                "maxMessage": self.maxMessage,
            }
        )

    @property
    def maxMessage(self) -> int:
        """
        The longest message a client may send, in UTF-8 bytes: a line of
        C{--max-line} and room for its JSON.
        """
        return self.config.maxLine + 1024

    def textMessageReceived(self, message: str) -> None:
        if self._closing:
            return
        self._queue.append(message)
        self._drain()

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        self.reject("only text messages (JSON) are taken")

    def messageTooLong(self) -> None:
        """
        The client sent a message over L{maxMessage}; it was discarded.
        """
        if not self._closing:
            self.reject(f"message too long (over {self.maxMessage} bytes), discarded")

    def pongReceived(self, payload: bytes) -> None:
        self._awaitingPong = False

    def connectionLost(self, reason: Failure) -> None:
        for what in list(self._calls):
            self._cancel(what)
        self._closing = True
        self._queue.clear()
        why = self.leaveReason or lifecycle.describe_loss(reason)
        user, self.user = self.user, None
        lifecycle.ended(self.peer, user=user, why=why)

    # Life

    def _ping(self) -> None:
        if self._awaitingPong:
            self.leaveReason = "Ping timeout"
            self._closing = True
            self._tcp.abortConnection()
            return
        self._awaitingPong = True
        if self.transport is not None:
            self.transport.ping(b"keepalive")
        self._later("ping", self.pingInterval, self._ping)

    def _timedOut(self) -> None:
        if self.user is not None:
            why = f"idle for {self.config.idleTimeout:g} seconds, disconnecting"
            self.close("Idle timeout", why, POLICY, kind="error")
        else:
            why = (
                f"no name chosen within {self.config.loginTimeout:g} seconds, "
                "disconnecting"
            )
            self.close("Login timeout", why, POLICY, kind="error")

    def close(
        self, reason: str, text: str = "", code: int = NORMAL, kind: str = "bye"
    ) -> None:
        """
        Say C{text} (as a C{bye} or C{error} message), then close with
        C{code}; C{reason} is what the others are told.  A client that does
        not take its last messages within the grace period is aborted.
        """
        if self._closing:
            return
        if text:
            self.send({"type": kind, "message": text})
        self._closing = True
        self.leaveReason = reason
        if self.user is not None:
            fanout = self.server.realm.fanout
            fanout.unhold(self.user)
            fanout.flushOne(self.user)
        if self.transport is not None:
            self._closeSent = True
            self.transport.loseConnection(code)
        self._later("abort", self.config.closeGrace, self._tcp.abortConnection)

    def disconnect(self, reason: str) -> None:
        self.close(
            f"Kicked: {reason}" if reason else "Kicked",
            f"You were disconnected by the server: {reason or 'kicked'}",
            POLICY,
        )

    def serverStopping(self) -> None:
        self.close(
            "Server shutting down", "The server is shutting down. Goodbye!", GOING_AWAY
        )

    # Output

    def deliver(self, data: bytes) -> None:
        """
        Write encoded messages to this client: they are whole WebSocket
        frames already (see L{chatserver.doors.web.codec}), written to the
        connection under the WebSocket as they are.  Nothing is written once
        the close frame is sent, or once the client has been dropped for
        not reading.
        """
        if self._guard.overflowed or self._closeSent:
            return
        self._tcp.write(data)
        self._guard.wrote(len(data))

    def send(self, *messages: dict[str, Any]) -> None:
        """
        Send messages to this client alone, in order with the chat's events.
        """
        if self._closing:
            return
        data = b"".join(encode_message(message) for message in messages)
        if self.user is not None:
            self.server.realm.fanout.send(self.user, data)
        else:
            self.deliver(data)

    def sendQueueExceeded(self) -> None:
        log_dropped(self.peer, self.name)
        self.leaveReason = SEND_QUEUE_EXCEEDED
        self._closing = True
        self._tcp.abortConnection()

    def reject(self, why: str, about: str | None = None) -> None:
        """
        Refuse what the client sent, telling it why, and log it.
        """
        lifecycle.log_rejected(self.peer, self.name, why)
        self.error(why, about)

    def error(self, why: str, about: str | None = None) -> None:
        self.send({"type": "error", "message": why, "about": about})

    # Input, paced

    def hold(self, reason: str) -> None:
        """
        Stop reading from this client until L{release}d for C{reason}.
        """
        if not self._holds:
            self._tcp.pauseProducing()
        self._holds.add(reason)

    def release(self, reason: str) -> None:
        self._holds.discard(reason)
        if not self._holds and not self._closing:
            self._tcp.resumeProducing()
            self._drain()

    def _drain(self) -> None:
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue and not self._holds and not self._closing:
                self._handle(self._queue.popleft())
                self._pace()
        finally:
            self._draining = False

    def _pace(self) -> None:
        if self._closing or "rate" in self._holds:
            return
        delay = self.server.bucket.delay(self._fullAt)
        if delay > 0:
            self.hold("rate")
            self._later("rate", delay, self.release, "rate")

    def _handle(self, text: str) -> None:
        self._fullAt = self.server.bucket.take(self._fullAt)
        try:
            kind, message = parse_message(text)
        except BadMessage as e:
            self.reject(e.why, e.about)
            return
        if self.user is None:
            if kind == "login":
                self._login(message)
            elif kind == "quit":
                self.close("Quit", "Goodbye!")
            else:
                self.error("log in first", kind)
            return
        if self.config.idleTimeout > 0:
            self._later("timeout", self.config.idleTimeout, self._timedOut)
        if kind == "login":
            self.error(f"you are logged in as {self.user.name}", kind)
            return
        try:
            COMMANDS[kind](self, self.user, message)
        except ChatError as e:
            self.error(e.reason, kind)

    # Logging in

    def _login(self, message: dict[str, Any]) -> None:
        name = message["name"].strip()
        try:
            check_name(name)
        except ChatError as e:
            self.reject(e.reason, "login")
            return
        credentials: ICredentials
        if self.server.passwords:
            password = message.get("password", "")
            if not password:
                self.error(f"a password is needed for {name}", "login")
                return
            if name in self.server.realm:
                self.reject(f"{name} is already logged in", "login")
                return
            credentials = UsernamePassword(
                name.encode("utf-8"), password.encode("utf-8")
            )
        else:
            credentials = ChosenName(name)
        self.hold("login")
        login = self.server.portal.login(credentials, self, IChatUser)
        login.addCallbacks(
            lambda result: self._loggedIn(result[1]),
            lambda reason: self._refused(reason, name),
        )

    def _loggedIn(self, user: ChatUser) -> None:
        if self._closing or self.transport is None:
            user.quit(self.leaveReason or "Connection closed")
            return
        self.user = user
        config = self.config
        if config.idleTimeout > 0:
            self._later("timeout", config.idleTimeout, self._timedOut)
        else:
            self._cancel("timeout")
        replies: list[dict[str, Any]] = [
            {
                "type": "welcome",
                "name": user.name,
                "server": config.serverName,
                "motd": config.motd.splitlines(),
            }
        ]
        room = user.current
        if room is not None:
            replies.append(room_state(room))
        self.send(*replies)
        if room is not None:
            user.replay(room)
        self.release("login")

    def _refused(self, reason: Failure, name: str) -> None:
        if reason.check(ChatError):
            self.release("login")
            if reason.check(NameTaken) and self.server.passwords:
                self.reject(f"{name} is already logged in", "login")
            else:
                self.reject(reason.value.reason, "login")  # type: ignore[union-attr]
            return
        self.failures += 1
        delay = self.server.loginThrottle.loginFailed(
            reason, name, self.host, self.peer, self.failures
        )
        self._later("answer", delay, self._answerFailure)

    def _answerFailure(self) -> None:
        self._calls.pop("answer", None)
        if self.failures >= MAX_LOGIN_FAILURES:
            self.close(
                "Too many failed logins",
                "wrong name or password; too many failures, goodbye",
                POLICY,
                kind="error",
            )
            return
        self.error("wrong name or password", "login")
        self.release("login")


# Commands of a logged-in user: each reads its checked fields, calls the
# core and answers; the core checks every rule.


# A web session echoes: the sender gets its own lines back from the core,
# with their ids and times, in their place among the room's.


def _say(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.say(m["text"], m.get("room"))


def _act(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.act(m["text"], m.get("room"))


def _msg(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.whisper(m["to"], m["text"])


def _join(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    room, new = user.join(m["room"])
    session.send(room_state(room))
    if new:
        user.replay(room)


def _part(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.part(m.get("room"), m.get("reason", ""))


def _topic(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    if "text" in m:
        user.setTopic(m["text"], m.get("room"))
    else:
        session.send(room_state(user.room(m.get("room"))))


def _nick(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    def refused(reason: Failure) -> None:
        reason.trap(ChatError)
        assert isinstance(reason.value, ChatError)
        session.error(reason.value.reason, "nick")

    user.rename(m["name"].strip()).addErrback(refused)


def _rooms(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    session.send(
        {
            "type": "rooms",
            "rooms": [
                {"name": info.name, "members": info.members, "topic": info.topic}
                for info in user.listRooms()
            ],
        }
    )


def _who(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    if m.get("room") is None and user.current is None:
        everyone = [u.name for u in user.realm.everyone()]
        session.send({"type": "members", "room": None, "members": everyone})
        return
    room, names = user.who(m.get("room"))
    session.send({"type": "members", "room": room.name, "members": list(names)})


def _history(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    limit = m.get("limit", DEFAULT_HISTORY_PAGE)
    if not 1 <= limit <= MAX_PAGE:
        session.error(f"'limit' must be from 1 to {MAX_PAGE}", "history")
        return
    fetched = user.olderHistory(m.get("room"), limit)

    def failed(reason: Failure) -> None:
        # The core has logged it.
        session.error("history cannot be read right now, try again later", "history")

    fetched.addErrback(failed)


def _quit(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    reason = m.get("reason", "")
    session.close(f"Quit: {reason}" if reason else "Quit", "Goodbye!")


COMMANDS = {
    "say": _say,
    "act": _act,
    "msg": _msg,
    "join": _join,
    "part": _part,
    "topic": _topic,
    "nick": _nick,
    "rooms": _rooms,
    "who": _who,
    "history": _history,
    "quit": _quit,
}
