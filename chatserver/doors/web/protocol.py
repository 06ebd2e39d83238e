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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.internet import error
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.accounts import actions
from chatserver.accounts.actions import NoAccounts
from chatserver.auth.checkers import ChosenName
from chatserver.core.minds import IMind
from chatserver.core.search import parse_search
from chatserver.core.users import DEFAULT_SEARCH_PAGE, ChatUser
from chatserver.doors import lifecycle
from chatserver.doors.session import DoorSession, deliver_output
from chatserver.doors.web import moderation
from chatserver.doors.web.codec import encode_message
from chatserver.doors.web.messages import BadMessage, parse_message
from chatserver.history.store import MAX_PAGE
from chatserver.limits.addresses import describe_address
from chatwire.errors import AccountExists, ChatError, NameTaken, PasswordRequired
from chatwire.names import check_name

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

SIGNING_UP = "signup"
"""
The hold on reading while a sign-up registers its account: a login read
meanwhile would race it.
"""


def room_state(room: Room, user: ChatUser) -> dict[str, Any]:
    """
    @return: The C{room} message: what a member of C{room} needs to show it,
        as C{user} reads it.
    """
    return {
        "type": "room",
        "room": room.name,
        "topic": room.topic,
        "topicSetter": room.topicSetter,
        "members": list(room.names()),
        "roles": user.memberRoles(room),
    }


@implementer(IMind)
class WebSession:
    """
    The server side of one WebSocket connection of the web door, and the
    mind of its user: its messages, greeting and commands; its
    L{DoorSession} keeps the rest of the connection's life.

    @ivar session: The connection's life.
    @ivar host: The client's IP address, as the per-address limits count it.
    @ivar pingInterval: Seconds between keepalive pings; a client that has
        not answered one by the next is closed.
    """

    pingInterval = 30.0
    #: The door, as other doors show where a user comes from (IRC's host part).
    door = "web"
    #: The page shows a user's own lines as the core gives them back.
    echoes = True
    ident = ""
    realname = ""
    joinsDefaultRoom = True

    transport: WebSocketTransport | None

    def __init__(self, server: ChatServer, codec: WebCodec, request: Request) -> None:
        self.server = server
        self.codec = codec
        self.session = DoorSession(self)
        self.transport = None
        address = request.getClientAddress()
        self.host = str(getattr(address, "host", ""))
        self._peer = describe_address(address)
        # The connection under the WebSocket: read pausing, aborting.
        self._tcp: Any = request.channel.transport
        self._request = request
        self._queue: deque[str] = deque()
        self._awaitingPong = False
        self._closeCode = NORMAL
        self._pingCall: IDelayedCall | None = None

    @property
    def config(self) -> ChatConfig:
        return self.server.config

    @property
    def lastActive(self) -> float:
        """
        When the client last sent a line (its session keeps it).
        """
        return self.session.lastActive

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def user(self) -> ChatUser | None:
        """
        The user once logged in, else L{None}.
        """
        return self.session.user

    @property
    def name(self) -> str:
        user = self.session.user
        return user.name if user is not None else ""

    @property
    def closing(self) -> bool:
        return self.session.closing

    # WebSocketProtocol

    def negotiationStarted(self, transport: WebSocketTransport) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        # The HTTP channel's own timeout would end the WebSocket after it:
        # the session keeps its own time from now on.
        self._request.channel.setTimeout(None)
        # The HTTP channel is the transport's producer; it passes pauses on
        # to the request's producer, the guard.
        self._request.registerProducer(self.session, True)
        log.info("Connection from {peer} (web)", chat_event="connect", peer=self.peer)
        self.session.start(self._tcp)
        self._pingCall = self.server.clock.callLater(self.pingInterval, self._ping)
        self.send(
            {
                "type": "hello",
                "server": self.config.serverName,
                "password": self.server.passwords,
                "accounts": self._accountsHello(),
                "defaultRoom": self.config.defaultRoom,
                "maxMessage": self.maxMessage,
            }
        )

    def _accountsHello(self) -> dict[str, bool] | None:
        """
        @return: What the page needs to know of registered accounts, or
            L{None} when the server has none.
        """
        accounts = self.server.accounts
        if accounts is None:
            return None
        return {"registration": accounts.registration, "required": accounts.required}

    @property
    def maxMessage(self) -> int:
        """
        The longest message a client may send, in UTF-8 bytes: a line of
        C{--max-line} and room for its JSON.
        """
        return self.config.maxLine + 1024

    def textMessageReceived(self, message: str) -> None:
        if self.session.closing:
            return
        self._queue.append(message)
        self.session.readOn()

    def bytesMessageReceived(self, data: bytes | bytearray) -> None:
        self.reject("only text messages (JSON) are taken")

    def messageTooLong(self) -> None:
        """
        The client sent a message over L{maxMessage}; it was discarded.
        """
        if not self.session.closing:
            self.reject(f"message too long (over {self.maxMessage} bytes), discarded")

    def pongReceived(self, payload: bytes) -> None:
        self._awaitingPong = False

    def connectionLost(self, reason: Failure) -> None:
        self._stopPinging()
        self._queue.clear()
        if not self.session.leaveReason and reason.check(error.ConnectionLost):
            # A browser resets the connection when its tab is closed: for a
            # page, that is how it says goodbye, not a fault.
            self.session.leaveReason = "Connection closed"
        self.session.connectionLost(reason)

    # Life

    def _stopPinging(self) -> None:
        if self._pingCall is not None and self._pingCall.active():
            self._pingCall.cancel()
        self._pingCall = None

    def _ping(self) -> None:
        if self._tcp.disconnecting:
            # The browser closed the WebSocket (a tab closed: its close frame
            # was answered) and the connection is ending: a ping now would
            # be a protocol error, not a keepalive.
            self._pingCall = None
            return
        if self._awaitingPong:
            self._pingCall = None
            self.session.leaveReason = "Ping timeout"
            self.session.closing = True
            self._tcp.abortConnection()
            return
        self._awaitingPong = True
        if self.transport is not None:
            self.transport.ping(b"keepalive")
        self._pingCall = self.server.clock.callLater(self.pingInterval, self._ping)

    def timeoutConnection(self) -> None:
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
        if self.session.closing:
            return
        self._closeCode = code
        notice = encode_message({"type": kind, "message": text}) if text else b""
        self.session.close(reason, notice)

    def endTransport(self) -> None:
        if self.transport is not None:
            # Nothing is written after the close frame, nor pinged: the
            # client may take its time to answer it (wsproto refuses a ping
            # once the close frame is sent).
            self.session.writing = False
            self._stopPinging()
            self.transport.loseConnection(self._closeCode)

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

    # Encoded messages are whole WebSocket frames already (see
    # chatserver.doors.web.codec), written to the connection under the
    # WebSocket as they are.  Nothing is written once the close frame is
    # sent, or once the client has been dropped for not reading.
    deliver = deliver_output

    def send(self, *messages: dict[str, Any]) -> None:
        """
        Send messages to this client alone, in order with the chat's events.
        """
        if self.session.closing:
            return
        self.session.send(b"".join(encode_message(message) for message in messages))

    def reject(self, why: str, about: str | None = None) -> None:
        """
        Refuse what the client sent, telling it why, and log it.
        """
        lifecycle.log_rejected(self.peer, self.name, why)
        self.error(why, about)

    def error(
        self, why: str, about: str | None = None, code: str | None = None
    ) -> None:
        message: dict[str, Any] = {"type": "error", "message": why, "about": about}
        if code is not None:
            # A moderation refusal's code (chatserver.core.moderation.errors).
            message["code"] = code
        self.send(message)

    # Input, paced

    def readLine(self) -> bool:
        """
        Handle the next message queued, if there is one.

        @return: Whether there was one.
        """
        if not self._queue:
            return False
        self._handle(self._queue.popleft())
        return True

    def _handle(self, text: str) -> None:
        self.session.take()
        try:
            kind, message = parse_message(text)
        except BadMessage as e:
            self.reject(e.why, e.about)
            return
        if self.user is None:
            if kind == "login":
                self._login(message)
            elif kind == "signup":
                self._signUp(message)
            elif kind == "quit":
                self.close("Quit", "Goodbye!")
            else:
                self.error("log in first", kind)
            return
        self.session.resetTimeout()
        if kind in ("login", "signup"):
            self.error(f"you are logged in as {self.user.name}", kind)
            return
        try:
            COMMANDS[kind](self, self.user, message)
        except ChatError as e:
            self.error(e.reason, kind, getattr(e, "code", None))

    # Logging in

    def _login(self, message: dict[str, Any]) -> None:
        name = message["name"].strip()
        try:
            check_name(name)
        except ChatError as e:
            self.reject(e.reason, "login")
            return
        credentials: ICredentials
        if self.server.accounts is not None and message.get("password"):
            credentials = UsernamePassword(
                name.encode("utf-8"), message["password"].encode("utf-8")
            )
        elif self.server.passwords:
            password = message.get("password", "")
            if not password:
                self.error(f"a password is needed for {name}", "login")
                return
            credentials = UsernamePassword(
                name.encode("utf-8"), password.encode("utf-8")
            )
        else:
            credentials = ChosenName(name)
        self.session.login(credentials, name)

    def _signUp(self, message: dict[str, Any]) -> None:
        """
        Register the account C{name} with C{password}, then log in to it.
        """
        accounts = self.server.accounts
        name, password = message["name"].strip(), message["password"]
        if accounts is None:
            self.error(NoAccounts().reason, "signup")
            return
        if name in self.server.realm:
            self.error(AccountExists(name, "is in use now").reason, "signup")
            return
        self.session.hold(SIGNING_UP)

        def registered(account: str) -> None:
            self.session.release(SIGNING_UP)
            self.session.login(
                UsernamePassword(account.encode("utf-8"), password.encode("utf-8")),
                account,
            )

        def refused(reason: Failure) -> None:
            self.session.release(SIGNING_UP)
            reason.trap(ChatError)
            assert isinstance(reason.value, ChatError)
            self.error(reason.value.reason, "signup")

        accounts.register(name, password, self.host).addCallbacks(registered, refused)

    def greet(self, user: ChatUser) -> None:
        config = self.config
        replies: list[dict[str, Any]] = [
            {
                "type": "welcome",
                "account": user.account,
                "name": user.name,
                "server": config.serverName,
                "motd": config.motd.splitlines(),
            }
        ]
        # Every room the user is in (a session of an account may join
        # several at once), the current one first: the page shows it.
        current = user.current
        rooms = [r for r in user.rooms if r is not current]
        if current is not None:
            rooms.insert(0, current)
        replies.extend(room_state(room, user) for room in rooms)
        self.send(*replies)
        for room in rooms:
            user.replay(room)

    def loginRefused(self, error: ChatError, name: str) -> None:
        if isinstance(error, PasswordRequired):
            self.send({"type": "password", "name": name, "message": error.reason})
        elif isinstance(error, NameTaken) and self.server.passwords:
            self.reject(f"{name} is already logged in", "login")
        else:
            self.reject(error.reason, "login")

    def loginFailed(self, reason: Failure, name: str) -> Callable[[bool], None]:
        return self._answerFailure

    def _answerFailure(self, last: bool) -> None:
        if last:
            self.close(
                "Too many failed logins",
                "wrong name or password; too many failures, goodbye",
                POLICY,
                kind="error",
            )
        else:
            self.error("wrong name or password", "login")


# Commands of a logged-in user: each reads its checked fields, calls the
# core and answers; the core checks every rule.


# A web session echoes: the sender gets its own lines back from the core,
# with their ids and times, in their place among the room's.


def _say(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.say(m["text"], m.get("room"))


def _act(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.act(m["text"], m.get("room"))


def _msg(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.whisper(m["to"], m["text"], action=m.get("action", False))


def _join(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    room, new = user.join(m["room"], m.get("key", ""))
    session.send(room_state(room, user))
    if new:
        user.replay(room)


def _part(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.part(m.get("room"), m.get("reason", ""))


def _topic(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    if "text" in m:
        user.setTopic(m["text"], m.get("room"))
    else:
        session.send(room_state(user.room(m.get("room")), user))


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
    session.send(
        {
            "type": "members",
            "room": room.name,
            "members": list(names),
            "roles": user.memberRoles(room),
        }
    )


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


def _search(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    limit = m.get("limit", DEFAULT_SEARCH_PAGE)
    if not 1 <= limit <= MAX_PAGE:
        session.error(f"'limit' must be from 1 to {MAX_PAGE}", "search")
        return
    if "query" not in m:
        searching = user.searchMore()
    else:
        request = parse_search(m["query"])
        searching = user.search(
            request.words,
            room=request.room,
            sender=request.sender,
            before=request.before,
            after=request.after,
            limit=limit,
            beforeId=m.get("before"),
        )

    def refused(reason: Failure) -> None:
        reason.trap(ChatError)
        assert isinstance(reason.value, ChatError)
        session.error(reason.value.reason, "search")

    searching.addErrback(refused)


def _read(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    marking = user.markRead(m.get("target"), id=m.get("id"))

    def refused(reason: Failure) -> None:
        reason.trap(ChatError)
        assert isinstance(reason.value, ChatError)
        session.error(reason.value.reason, "read")

    marking.addErrback(refused)


def _sessions(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    if "end" in m:
        user.endSession(str(m["end"]))
    listed = [
        {
            "number": info.number,
            "door": info.door,
            "peer": info.peer,
            "since": info.since,
            "this": info.this,
            "node": info.node,
        }
        for info in user.sessionList()
    ]
    session.send({"type": "sessions", "sessions": listed})


def _quit(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    reason = m.get("reason", "")
    session.close(f"Quit: {reason}" if reason else "Quit", "Goodbye!")


def _done(session: WebSession, kind: str, text: str) -> None:
    session.send({"type": "ok", "about": kind, "message": text})


def _failed(reason: Failure, session: WebSession, kind: str) -> None:
    reason.trap(ChatError)
    assert isinstance(reason.value, ChatError)
    session.error(reason.value.reason, kind)


def _register(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    actions.register(user, m["password"], session.host).addCallbacks(
        lambda account: _done(session, "register", f"{account} is registered"),
        _failed,
        errbackArgs=(session, "register"),
    )


def _password(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    actions.change_password(user, m["old"], m["new"]).addCallbacks(
        lambda _: _done(session, "password", "your password is changed"),
        _failed,
        errbackArgs=(session, "password"),
    )


def _unregister(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    actions.unregister(user, m["password"]).addCallbacks(
        lambda _: _done(session, "unregister", "your account is gone"),
        _failed,
        errbackArgs=(session, "unregister"),
    )


COMMANDS = {
    "register": _register,
    "password": _password,
    "unregister": _unregister,
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
    "search": _search,
    "read": _read,
    "sessions": _sessions,
    "quit": _quit,
    **moderation.COMMANDS,
}
