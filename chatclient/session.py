"""
The client's side of the conversation with the server: logging in (and in
again after a reconnection), sending what the user types, and telling the
model what happened, in words.
"""

from __future__ import annotations

import math

from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from zope.interface import implementer

from chatclient.entry import prepare_outgoing
from chatclient.model import PRIVATE, ChatModel, Conversation, Status
from chatclient.network import (
    Connection,
    EndpointMaker,
    IConnectionEvents,
    RetryPolicy,
)
from chatwire import lines
from chatwire.addresses import format_address
from chatwire.commands import Chat, parse_input
from chatwire.errors import InvalidText
from chatwire.names import room_key

#: Seconds of silence from a new connection before the status line wonders
#: why (a plain connection to a TLS port, for instance, hears nothing).
SILENCE = 10.0


@implementer(IConnectionEvents)
class ChatSession:
    """
    Logs in, relays events to the model and sends the user's lines.

    The password (with C{--auth} on the server) is kept in memory only, for
    as long as the program runs, to log in again after a reconnection.  It
    is never shown, logged or put in the chat view; a password the server
    refused is forgotten at once, so it is never sent again by itself.

    @ivar wantedName: The name to log in with (kept across reconnections,
        and following C{/nick}).
    @ivar loggedIn: Whether the server has welcomed us on this connection.
    @ivar connection: The connection to the server.
    """

    def __init__(
        self,
        model: ChatModel,
        clock: IReactorTime,
        makeEndpoint: EndpointMaker | None = None,
        retryPolicy: RetryPolicy | None = None,
    ) -> None:
        self.model = model
        self.clock = clock
        self.connection = Connection(self, clock, makeEndpoint, retryPolicy)
        self.wantedName = ""
        #: The rooms to be in after logging in, in order (remembered, and
        #: the tabs open when the connection was lost).
        self.wantedRooms: list[str] = []
        model.send = self._command
        model.onHome = self._rejoin
        self._password = ""
        self._passwordFor: tuple[str, int, bool, str] = ("", 0, False, "")
        # Register the name once logged in (the connect form's choice).
        self._register = False
        self.loggedIn = False
        # What the server waits for ("name", "password" or "": nothing, or
        # our answer is on its way), and what we sent it last.
        self._awaiting = ""
        self._answered = ""
        # After a refusal, the server's next name prompt waits for the user.
        self._holdForUser = False
        self._refusedLogin = ""
        self._everLoggedIn = False
        self._quitting = False
        self._problem = ""
        self._serverSaid = ""
        self._retryAt = 0.0
        self._countdown: task.LoopingCall | None = None
        self._silence: IDelayedCall | None = None

    @property
    def address(self) -> str:
        return format_address(self.connection.host, self.connection.port)

    @property
    def hasPassword(self) -> bool:
        """
        Whether a password is held for the next login.
        """
        return bool(self._password)

    # What the user does

    def connect(
        self,
        host: str,
        port: int,
        name: str,
        password: str = "",
        tls: bool = False,
        *,
        register: bool = False,
    ) -> None:
        """
        Log in to C{host:port} as C{name} (with C{password}, if the server
        asks for one), reusing the open connection when it goes to the same
        place.

        @param register: Whether to make C{name} an account with
            C{password} once logged in as a guest (C{/register}, on a server
            with C{--accounts}); a name the server asks the password of is
            an account already.
        """
        self._register = register and bool(password)
        connection = self.connection
        sameServer = (host, port, tls) == (
            connection.host,
            connection.port,
            connection.tls,
        )
        if (
            connection.active
            and sameServer
            and self._awaiting == "password"
            and name != self.wantedName
        ):
            # The server waits for the password of the name sent before: a
            # new connection starts again from the name.
            connection.close()
        # An empty password field keeps the one held for this very account:
        # the same name on the same server, over TLS if it was.  Another
        # server, or plain TCP now, never gets it by itself.
        account = (host, port, tls, name)
        if password or account != self._passwordFor:
            self._password, self._passwordFor = password, account
        self.wantedName = name
        self._quitting = self._holdForUser = False
        self._refusedLogin = ""
        self._stopCountdown()
        if connection.active and sameServer:
            if connection.protocol is None:
                connection.reconnectNow()
            elif self._awaiting == "name":
                self._sendName()
            elif self._awaiting == "password":
                self._answerPassword()
            return
        self._awaiting = self._answered = ""
        self._problem = ""
        self.model.setServer(format_address(host, port))
        connection.open(host, port, tls)

    def send(self, text: str) -> str:
        """
        Send a line the user typed and show it at once where the server will
        not echo it.

        @return: Why it was not sent, or C{""}.
        """
        outgoing = prepare_outgoing(text, self.model.ownName)
        if outgoing.error:
            return outgoing.error
        if outgoing.send is None:
            return ""
        if not self.loggedIn or self.connection.protocol is None:
            return "not connected, nothing was sent"
        target = self.model.selected
        try:
            routed = self._route(outgoing.send, target)
        except ValueError as e:
            return str(e)
        for line in routed:
            if not self.connection.sendText(line):
                return "not connected, nothing was sent"
            private = _private_line(line)
            if private is not None:
                self.model.sentPrivate(*private)
        if outgoing.echo is not None and target.kind != PRIVATE:
            assert isinstance(outgoing.echo, (lines.Message, lines.Action))
            self.model.echo(outgoing.echo)
        if outgoing.quits:
            self._quitting = True
            self.connection.close().addCallback(lambda _: self._quit())
        return ""

    def _command(self, line: str) -> None:
        if self.loggedIn:
            self.connection.sendText(line)

    def _switch(self, target: Conversation) -> list[str]:
        """
        @return: What makes C{target} the server's current room, if it is
            not already.
        """
        if target.key == self.model.current or not target.name:
            return []
        self.model.switchTo(target)
        return [f"/join {target.name}"]

    def _route(self, text: str, target: Conversation) -> list[str]:
        """
        @return: The lines that do what C{text}, typed in C{target}'s tab,
            asks: a plain line or an action goes to that room (made current
            first) or that person; room commands without a room name the
            tab's room.
        @raise ValueError: With why, if C{text} makes no sense there.
        """
        try:
            parsed = parse_input(text)
        except InvalidText as e:
            raise ValueError(str(e)) from None
        if parsed is None:
            return []
        private = target.kind == PRIVATE
        if isinstance(parsed, Chat):
            if private:
                return [f"/msg {target.name} {parsed.text}"]
            return [*self._switch(target), text]
        name, args = parsed.name, parsed.args
        if name == "me":
            if private:
                raise ValueError("/me works in rooms, not in a private conversation")
            return [*self._switch(target), text]
        inRoom = not private and bool(target.name)
        if name in ("part", "topic", "who", "history") and inRoom:
            if not args.startswith("#"):
                args = f"{target.name} {args}".strip()
            room = args.split(" ", 1)[0]
            if name == "history":
                conversation = self.model.conversation(room)
                if conversation is not None:
                    conversation.requests.append("older")
            return [f"/{name} {args}"]
        return [text]

    def _rejoin(self) -> None:
        """
        The home room has its name: join the other rooms wanted, in order,
        and leave the home room if it is not one of them.
        """
        home = self.model.home
        wanted = [r for r in self.wantedRooms if room_key(r) != home.key]
        for room in wanted:
            self.connection.sendText(f"/join {room}")
        if self.wantedRooms and len(wanted) == len(self.wantedRooms):
            self.connection.sendText(f"/part {home.name}")

    def reconnectNow(self) -> None:
        """
        Try again at once instead of waiting out the back-off.
        """
        self.connection.reconnectNow()

    def quit(self, timeout: float = 3.0) -> defer.Deferred[None]:
        """
        Say goodbye to the server (C{/quit}) and close the connection.

        @param timeout: Seconds to wait for the connection to close.
        @return: Fires when the connection is closed (or C{timeout} passed).
        """
        self._quitting = True
        self._stopCountdown()
        self._stopSilence()
        if self.loggedIn:
            self.connection.sendText("/quit")
        closing = self.connection.close()
        closing.addTimeout(timeout, self.clock)
        return closing.addErrback(lambda _: None)

    def _quit(self) -> None:
        self.loggedIn = False
        self._awaiting = self._answered = ""
        self.model.disconnected()
        if not self._quitting:
            return  # the user is already connecting again
        self.model.setStatus(Status(f"Disconnected from {self.address}."))
        self.model.addNotice("You left the chat.")
        self.model.showLogin()

    def _sendName(self) -> None:
        if self.connection.sendText(self.wantedName):
            self._awaiting, self._answered = "", "name"
            self.model.setStatus(
                Status(f"Connected to {self.address}, logging in as {self.wantedName}…")
            )

    def _answerPassword(self) -> None:
        if not self._password:
            self.model.askPassword(self.wantedName)
            self.model.setStatus(
                Status(f"{self.address} asks for the password of {self.wantedName}.")
            )
            return
        if self.connection.sendText(self._password):
            self._awaiting, self._answered = "", "password"
            self.model.setStatus(
                Status(f"Logging in to {self.address} as {self.wantedName}…")
            )

    def _refused(self, text: str) -> None:
        answered, self._answered = self._answered, ""
        self._awaiting = "name"  # the server waits for a name again
        self._holdForUser = True
        field = "name"
        if answered == "password":
            self._refusedLogin = text
            if text.startswith("wrong name or password"):
                field = "password"
                self._password = ""  # never sent again by itself
        self.model.loginFailed(text, field)
        again = "Reconnected, but cannot" if self._everLoggedIn else "Cannot"
        self.model.setStatus(
            Status(f"{again} log in as {self.wantedName}: {text}.", "warning")
        )

    # What the connection tells us

    def connecting(self, host: str, port: int) -> None:
        self._stopCountdown()
        if self._problem:
            self.model.setStatus(Status(f"{self._problem} Trying again…", "error"))
        else:
            address = format_address(host, port)
            self.model.setStatus(Status(f"Connecting to {address}…"))

    def connectFailed(self, message: str) -> None:
        self._problem = message if message.endswith(("?", "!", ".")) else message + "."
        self.model.setStatus(Status(self._problem, "error"))

    def retryScheduled(self, delay: float) -> None:
        self._retryAt = self.clock.seconds() + delay
        self._stopCountdown()
        self._countdown = task.LoopingCall(self._showCountdown)
        self._countdown.clock = self.clock
        self._countdown.start(1.0, now=True)

    def connectionMade(self) -> None:
        self._awaiting = self._answered = ""
        self._holdForUser = False
        self._refusedLogin = ""
        self._problem = self._serverSaid = ""
        self._stopSilence()
        self._silence = self.clock.callLater(SILENCE, self._silent)
        if self.connection.tls:
            checking = ", checking its certificate…"
            self.model.setStatus(Status(f"Connected to {self.address}{checking}"))
        else:
            self.model.setStatus(Status(f"Connected to {self.address}."))

    def lineReceived(self, event: lines.Event) -> None:
        self._stopSilence()
        if self.loggedIn:
            self.model.addEvent(event)
            return
        match event:
            case lines.Prompt(field) if field == lines.Prompt.NAME:
                self._awaiting, self._answered = "name", ""
                self._refusedLogin = ""
                if self._holdForUser:
                    return
                if self.wantedName:
                    self._sendName()
                else:
                    self.model.showLogin()
            case lines.Prompt(field) if field == lines.Prompt.PASSWORD:
                # Not shown in the chat view: the form asks for it.  The
                # name is an account already (or the server registers it
                # with this very answer, --require-account).
                self._register = False
                self._awaiting, self._answered = "password", ""
                self._answerPassword()
            case lines.Welcome(_, name):
                # A name logged in with its password is an account.
                self.model.account = self._answered == "password"
                self.loggedIn = self._everLoggedIn = True
                self._awaiting = self._answered = ""
                self.wantedName = name
                self.model.loggedIn(name)
                self.model.addEvent(event)
                self.model.expectWhere()
                if self._register:
                    self._register = False
                    # Never echoed: the server answers with an Info line.
                    self.connection.sendText(f"/register {self._password}")
                self.connection.sendText("/where")
                # The rooms panel lists the rooms from the start.
                self.connection.sendText("/rooms")
                over = " (TLS)" if self.connection.tls else ""
                self.model.setStatus(
                    Status(f"Logged in to {self.address} as {name}{over}.", "ok")
                )
            case lines.Error(text) if self._answered:
                self.model.addEvent(event)
                self._refused(text)
            case lines.Error(text):
                # Not about the name: "the server is full", a timeout...
                self._serverSaid = text
                self.model.addEvent(event)
                self.model.setStatus(Status(f"The server says: {text}.", "error"))
            case _:
                self.model.addEvent(event)

    def badLine(self, line: bytes, why: str) -> None:
        self.model.addNotice(f"The server sent a line the client cannot read: {why}")

    def connectionLost(self, message: str) -> None:
        self._stopSilence()
        wasLoggedIn, self.loggedIn = self.loggedIn, False
        self._awaiting = self._answered = ""
        self.model.disconnected()
        if self._quitting:
            return
        if self._refusedLogin:
            # Closed right after refusing a password: too many failures.
            # Trying again by ourselves would only be refused again.
            refused, self._refusedLogin = self._refusedLogin, ""
            self.connection.close()
            self._problem = ""
            self.model.addNotice(
                f"{self.address} closed the connection after failed logins.", "error"
            )
            self.model.loginFailed(refused, "password")
            self.model.setStatus(
                Status(
                    f"Not connected: {self.address} closed the connection after "
                    f"failed logins ({refused}). Check the name and password, "
                    "then connect again.",
                    "error",
                )
            )
            return
        if self._serverSaid:
            message = f"{message} ({self._serverSaid})"
        self._problem = f"Connection to {self.address} lost: {message}."
        self.model.addNotice(self._problem, "error")
        if wasLoggedIn:
            self.wantedName = self.model.ownName or self.wantedName
            self.wantedRooms = self.model.roomNames()
        self.model.setStatus(Status(self._problem, "error"))

    def tlsFailed(self, message: str) -> None:
        self._stopSilence()
        self.loggedIn = False
        self._awaiting = self._answered = ""
        self._problem = ""
        self._stopCountdown()
        self.model.disconnected()
        if self._quitting:
            return
        self.model.addNotice(f"Not connected: {message}.", "error")
        self.model.loginFailed(message, "tls")
        self.model.setStatus(
            Status(
                f"Not connected: {message}. Not retrying; check the host name "
                "and the trusted certificate (--ca), then connect again.",
                "error",
            )
        )

    def _showCountdown(self) -> None:
        remaining = math.ceil(self._retryAt - self.clock.seconds())
        if remaining <= 0:
            return
        self.model.setStatus(
            Status(f"{self._problem} Retrying in {remaining}s.", "error", True)
        )

    def _silent(self) -> None:
        self._silence = None
        if self.connection.protocol is None or self._quitting:
            return
        hint = "" if self.connection.tls else " Is it a TLS port? Then tick TLS."
        self.model.setStatus(
            Status(
                f"Connected to {self.address}, but the server has said nothing "
                f"for {SILENCE:.0f} seconds.{hint}",
                "warning",
            )
        )

    def _stopSilence(self) -> None:
        if self._silence is not None and self._silence.active():
            self._silence.cancel()
        self._silence = None

    def _stopCountdown(self) -> None:
        if self._countdown is not None and self._countdown.running:
            self._countdown.stop()
        self._countdown = None


def _private_line(line: str) -> tuple[str, str] | None:
    """
    @return: The recipient and text of C{line} if it is a private line
        (C{/msg NAME TEXT}), else L{None}.
    """
    try:
        parsed = parse_input(line)
    except InvalidText:
        return None
    if parsed is None or isinstance(parsed, Chat) or parsed.name != "msg":
        return None
    name, _, text = parsed.args.partition(" ")
    if not (name and text) or name.startswith("#"):
        return None
    return name, text
