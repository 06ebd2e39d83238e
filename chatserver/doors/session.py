"""
What every door does with a connection, written once: a L{DoorSession}
that a door's protocol owns.

The session paces the client's input (the shared L{TokenBucket}: a flood is
slowed by not reading, never dropped) and holds reading back for other
reasons (a login being checked); guards its output (it is the
L{SendQueueGuard} registered on the transport) and delivers it; keeps the
login and idle timeouts; closes with a grace period and remembers why the
user left; and logs in through the chat's twisted.cred portal, failed logins
answered ever more slowly (the shared L{LoginThrottle}) and the connection
closed after L{MAX_LOGIN_FAILURES}.

A door supplies what is its own (see L{Door}): its framing (a line at a
time, when the session asks), its greeting, its codec, and
how a reply, a refused login or a refused operation reads on its wire.  Its
connection was admitted at accept (see L{chatserver.limits.gate}).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from twisted.cred.credentials import ICredentials
from twisted.python.failure import Failure

from chatserver.core.users import ChatUser, IChatUser
from chatserver.doors import lifecycle
from chatserver.limits.flow import SEND_QUEUE_EXCEEDED, SendQueueGuard, log_dropped
from chatserver.limits.throttle import MAX_LOGIN_FAILURES
from chatwire.errors import ChatError, PasswordRequired

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall

    from chatserver.server import ChatServer

# One shared empty set: frozenset() makes a new one, 216 bytes, each time.
_NO_HOLDS: frozenset[str] = frozenset()

RATE = "rate"
"""
The hold of a client that has sent faster than the token bucket allows.
"""
LOGIN = "login"
"""
The hold while a login is checked: in a cluster the name is claimed in
Redis meanwhile, and a second name read now would log a second user in on
one connection.
"""


class Door(Protocol):
    """
    What a L{DoorSession} asks of the door's protocol that owns it.
    """

    session: DoorSession

    @property
    def server(self) -> ChatServer:
        """
        The chat server the connection belongs to.
        """

    @property
    def peer(self) -> str:
        """
        The client's address, for logs.
        """

    @property
    def host(self) -> str:
        """
        The client's IP address, as the per-address limits count it.
        """

    @property
    def name(self) -> str:
        """
        The user's name, or what the door calls the client before login.
        """

    def readLine(self) -> bool:
        """
        Handle the next whole line (or message) buffered, if there is one:
        the session calls this while reading is not held back, and paces
        the client after each.

        @return: Whether there was one.
        """

    def endTransport(self) -> None:
        """
        Close the transport cleanly, its last output first (C{loseConnection},
        or a WebSocket's close frame).
        """

    def close(self, reason: str) -> None:
        """
        Close as the door closes for C{reason} (what the others are told).
        """

    def timeoutConnection(self) -> None:
        """
        The login or idle timeout has expired.
        """

    def greet(self, user: ChatUser) -> None:
        """
        C{user} has just logged in on this connection: greet it.
        """

    def loginRefused(self, error: ChatError, name: str) -> None:
        """
        The chat refused to log C{name} in, for C{error}: say so.
        """

    def loginFailed(self, reason: Failure, name: str) -> Callable[[bool], None]:
        """
        The credentials for C{name} were refused (wrong name or password).

        @return: How to answer, once the throttle's delay is over; called
            with whether that was the last failure allowed (the connection
            is then closed).
        """


class _HasSession(Protocol):
    session: DoorSession


def deliver_output(door: _HasSession, data: bytes) -> None:
    """
    A door's C{deliver} (L{chatserver.core.minds.IMind.deliver}), the chat's
    output for its user: L{DoorSession.deliver}, without a call more on the
    fan-out's path (a door's class takes this function as its method).
    """
    session = door.session
    if session.writing:
        session.transport.write(data)
        # Once per recipient per turn: the guard counts only while the
        # transport's buffer is full.
        if session.paused:
            session.wrote(len(data))


class DoorSession(SendQueueGuard):
    """
    One connection's life, whatever its door: owned by the door's protocol
    (its L{Door}), and registered on its transport as the send-queue guard.

    @ivar door: The door's protocol.
    @ivar transport: What bytes are written to, and reading paused on; set
        by L{start}.
    @ivar user: The user once logged in, else L{None}.
    @ivar closing: Whether the connection is closing.
    @ivar leaveReason: Why the connection is closing, once it is.
    @ivar failures: Failed logins on this connection.
    @ivar lastActive: When the client last sent a line (or message), in
        POSIX seconds; C{0.0} before it has.
    @ivar writing: Whether output is still written (not before L{start},
        nor once the client is dropped or the door has said its last word).
    """

    # A slot costs 8 bytes, an instance dict hundreds (bench/RESULTS.md, the
    # idle scenario): the session carries what the doors' protocols did.
    __slots__ = (
        "_abortCall",
        "_answerCall",
        "_fullAt",
        "_holds",
        "_paceCall",
        "_reading",
        "_timeout",
        "_timer",
        "closing",
        "door",
        "failures",
        "lastActive",
        "leaveReason",
        "transport",
        "user",
        "writing",
    )

    door: Door
    transport: Any
    user: ChatUser | None
    _fullAt: float  # this client's token bucket (see TokenBucket)
    _holds: frozenset[str]
    _reading: bool
    _paceCall: IDelayedCall | None
    _abortCall: IDelayedCall | None
    _answerCall: IDelayedCall | None
    _timer: IDelayedCall | None
    _timeout: float

    def __init__(self, door: Door) -> None:
        super().__init__(door.server.config.maxBuffer, self)
        self.door = door
        self.transport = None
        self.user = None
        self.closing = False
        self.leaveReason = ""
        self.failures = 0
        self.lastActive = 0.0
        self.writing = False
        self._fullAt = 0.0
        self._holds = _NO_HOLDS
        self._reading = False
        self._paceCall = self._abortCall = self._answerCall = self._timer = None
        self._timeout = 0.0

    # Life

    def start(self, transport: Any) -> None:
        """
        The connection is made: write to C{transport}, and give the client
        the login timeout to log in.  The door registers the session as its
        transport's producer.
        """
        self.transport = transport
        self.writing = True
        loginTimeout = self.door.server.config.loginTimeout
        if loginTimeout > 0:
            self.setTimeout(loginTimeout)

    def connectionLost(self, reason: Failure) -> None:
        """
        The connection is gone: its user, if it logged in, leaves the chat
        for the reason given when it closed, or for how it was lost.
        """
        self.setTimeout(None)
        for call in (self._paceCall, self._abortCall, self._answerCall):
            if call is not None and call.active():
                call.cancel()
        self._paceCall = self._abortCall = self._answerCall = None
        # A login answered from now on finds the connection gone.
        self.closing = True
        why = self.leaveReason or lifecycle.describe_loss(reason)
        user, self.user = self.user, None
        lifecycle.ended(self.door.peer, user=user, why=why)

    def close(self, reason: str, notice: bytes = b"") -> None:
        """
        Say C{notice}, then close; C{reason} is what the others are told.  A
        client that does not take its last output within the grace period
        is aborted.
        """
        if self.closing:
            return
        self.closing = True
        self.leaveReason = reason
        if notice:
            self.send(notice)
        user = self.user
        if user is not None:
            # What waits (for the end of the turn, or behind a history replay
            # still being read) goes first.
            fanout = self.door.server.realm.fanout
            fanout.unhold(user)
            fanout.flushOne(user)
        self.door.endTransport()
        self._abortCall = self.door.server.clock.callLater(
            self.door.server.config.closeGrace, self.transport.abortConnection
        )

    def sendQueueExceeded(self) -> None:
        """
        Drop this client: it has stopped reading (see L{SendQueueGuard}).
        """
        log_dropped(self.door.peer, self.door.name)
        self.door.server.counts.count("send-queue")
        self.leaveReason = SEND_QUEUE_EXCEEDED
        self.closing = True
        self.writing = False
        # Not a clean close: its pending output would wait for a reader that
        # is not reading.
        self.transport.abortConnection()

    # Timeouts: one timer, for the login timeout and then the idle one.

    def setTimeout(self, seconds: float | None) -> None:
        """
        Call the door's C{timeoutConnection} after C{seconds} without
        L{resetTimeout}; L{None} (or C{0}) for never.
        """
        timer = self._timer
        if timer is not None:
            if timer.active():
                timer.cancel()
            self._timer = None
        if seconds:
            self._timeout = seconds
            self._timer = self.door.server.clock.callLater(seconds, self._timedOut)

    def resetTimeout(self) -> None:
        """
        The client did something: its timeout starts again.
        """
        timer = self._timer
        if timer is not None:
            timer.reset(self._timeout)

    def _timedOut(self) -> None:
        self._timer = None
        self.door.timeoutConnection()

    # Output

    def deliver(self, data: bytes) -> None:
        """
        Write encoded output to this client, unless it has been dropped for
        not reading or the door has said its last word.
        """
        deliver_output(self.door, data)

    def send(self, data: bytes) -> None:
        """
        Send encoded replies to this client alone, in order with the chat's
        events it gets.
        """
        if self.user is not None:
            self.door.server.realm.fanout.send(self.user, data)
        else:
            self.deliver(data)

    # Input: paced, and held back while a login is checked.

    @property
    def holding(self) -> bool:
        """
        Whether reading is held back, for any reason.
        """
        return bool(self._holds)

    def take(self) -> None:
        """
        A line (or message) came in: it takes a token from the bucket.
        """
        server = self.door.server
        self._fullAt = server.bucket.take(self._fullAt)
        self.lastActive = server.clock.seconds()

    def pace(self) -> None:
        """
        After a line: hold reading back until the bucket has a token again.
        """
        if self.closing or RATE in self._holds:
            return
        delay = self.door.server.bucket.delay(self._fullAt)
        if delay > 0:
            self.hold(RATE)
            self._paceCall = self.door.server.clock.callLater(delay, self._paced)

    def _paced(self) -> None:
        self._paceCall = None
        self.release(RATE)

    def hold(self, reason: str) -> None:
        """
        Stop reading from this client until L{release}d for C{reason} (and
        for every other reason held).
        """
        if reason in self._holds:
            return
        first = not self._holds
        self._holds = self._holds | {reason}
        if first and self.transport is not None:
            self.transport.pauseProducing()

    def release(self, reason: str) -> None:
        """
        Stop holding reading back for C{reason}: once nothing holds it, the
        door reads on.
        """
        if reason not in self._holds:
            return
        self._holds = self._holds - {reason} or _NO_HOLDS
        if not self._holds and not self.closing:
            self.transport.resumeProducing()
            self.readOn()

    def readOn(self) -> None:
        """
        Input came, or reading is no longer held back: the door handles what
        is buffered.
        """
        if self._reading:
            return  # a line being handled released a hold: its loop goes on
        self._reading = True
        try:
            while not self._holds and not self.closing and self.door.readLine():
                self.pace()
        finally:
            self._reading = False

    # Logging in

    def login(
        self,
        credentials: ICredentials,
        name: str,
        refused: Callable[[Failure, str], None] | None = None,
    ) -> None:
        """
        Log C{name} in with C{credentials} through the chat's portal, this
        connection's door as the mind; nothing more is read until it is
        answered.

        @param refused: What to do if the login is refused (called with the
            failure and C{name}); L{refuse} when not given.
        """
        self.hold(LOGIN)
        server = self.door.server
        answer = server.whenStarted().addCallback(
            lambda _: server.portal.login(credentials, self.door, IChatUser)
        )
        answer.addCallbacks(
            self._loggedIn,
            refused or self.refuse,
            errbackArgs=(name,),
        )

    def _loggedIn(self, result: tuple[object, ChatUser, object]) -> None:
        user = result[1]
        if self.closing or self.transport is None:
            # The connection went away while the password was checked.
            user.quit(self.leaveReason or "Connection closed")
            return
        self.user = user
        self.setTimeout(self.door.server.config.idleTimeout or None)
        # Greet before reading on: what came after the login is answered
        # after the greeting.
        self.door.greet(user)
        self.release(LOGIN)

    def refuse(self, reason: Failure, name: str) -> None:
        """
        A login of C{name} was refused: by the chat (a L{ChatError}, said
        at once), or for its credentials (answered after the throttle's
        delay, see L{failed}).
        """
        if reason.check(ChatError):
            if self.closing:
                return
            self.release(LOGIN)
            assert isinstance(reason.value, ChatError)
            if not isinstance(reason.value, PasswordRequired):
                # An account's name without its password is the first half
                # of its login (--accounts), not a refusal.
                self.door.server.counts.refusedLogin(type(reason.value).__name__)
            self.door.loginRefused(reason.value, name)
            return
        self.door.server.counts.refusedLogin("credentials")
        self.failed(reason, name, self.door.loginFailed(reason, name))

    def failed(
        self, reason: Failure, name: str, answer: Callable[[bool], None]
    ) -> None:
        """
        Credentials for C{name} were refused: C{answer} after the throttle's
        delay, with whether that was the last failure allowed; then read on,
        or close after the last.  Reading stays held meanwhile.
        """
        self.hold(LOGIN)
        self.failures += 1
        delay = self.door.server.loginThrottle.loginFailed(
            reason, name, self.door.host, self.door.peer, self.failures
        )
        self._answerCall = self.door.server.clock.callLater(delay, self._answer, answer)

    def _answer(self, answer: Callable[[bool], None]) -> None:
        self._answerCall = None
        last = self.failures >= MAX_LOGIN_FAILURES
        answer(last)
        if last:
            self.door.close("Too many failed logins")
        else:
            self.release(LOGIN)
