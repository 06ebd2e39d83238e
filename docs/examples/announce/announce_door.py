"""
The C{announce} door, an example of a door plugin (see C{docs/doors.md}):
C{twistd chat --announce tcp:8200} listens on port 8200 for scripts that say
things in the chat, such as::

    printf 'backup\\nthe nightly backup is done\\n' | nc localhost 8200

The first line is the name to log in as (C{NAME PASSWORD} on a server with
C{--auth}); each line after it is said in the default room as that user.
The door shows nothing of the chat: a client is told only an C{error:} line
when something is refused, and a failed login closes the connection.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.plugin import IPlugin
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver.auth.checkers import ChosenName
from chatserver.core.users import ChatUser, IChatUser
from chatserver.doors import IChatDoor
from chatserver.server import ChatServer
from chatwire.errors import ChatError


class SaysNothing:
    """
    The codec of an announce session: it is shown nothing of the chat.
    """

    def form(self, rooms: Collection[Any], room: Any) -> Hashable:
        return None

    def encode(self, event: Any, form: Hashable) -> bytes:
        return b""


class AnnounceProtocol(LineReceiver):
    """
    One announcing client, and its mind once logged in (what the chat
    tells it goes nowhere).
    """

    delimiter = b"\n"
    door = "announce"
    ident = ""
    realname = ""
    echoes = False
    joinsDefaultRoom = True
    codec = SaysNothing()

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.MAX_LENGTH = server.config.maxLine
        self.user: ChatUser | None = None
        self.closing = False
        self.lastActive = server.clock.seconds()
        self.bucket = 0.0

    @property
    def peer(self) -> str:
        address = self.transport.getPeer()
        return f"{getattr(address, 'host', '?')}:{getattr(address, 'port', '?')}"

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r")
        if self.closing or not text:
            return
        if self.user is None:
            self._login(text)
            return
        self.lastActive = self.server.clock.seconds()
        try:
            self.user.say(text, self.server.config.defaultRoom)
        except ChatError as e:
            self.sendLine(f"error: {e.reason}".encode())
        self._pace()

    def _pace(self) -> None:
        # The server's --rate and --burst: no faster than any other door.
        bucket = self.server.bucket
        self.bucket = bucket.take(self.bucket)
        delay = bucket.delay(self.bucket)
        if delay > 0:
            self.pauseProducing()
            self.server.clock.callLater(delay, self._resume)

    def _resume(self) -> None:
        if not self.closing:
            self.resumeProducing()

    def _login(self, text: str) -> None:
        name, _, password = text.partition(" ")
        credentials: ICredentials = (
            UsernamePassword(name.encode(), password.encode())
            if self.server.passwords
            else ChosenName(name)
        )
        # Nothing more is read until the login is answered.
        self.pauseProducing()
        login = self.server.portal.login(credentials, self, IChatUser)
        login.addCallbacks(self._loggedIn, self._refused)

    def _loggedIn(self, result: tuple[Any, ChatUser, Any]) -> None:
        user = result[1]
        if self.closing:
            user.quit("Connection closed")
            return
        self.user = user
        self.resumeProducing()

    def _refused(self, reason: Failure) -> None:
        why = reason.value.reason if reason.check(ChatError) else "wrong name"
        self.disconnect(f"cannot log in: {why}")  # type: ignore[union-attr]

    def deliver(self, data: bytes) -> None:
        pass

    def disconnect(self, reason: str) -> None:
        if not self.closing:
            self.closing = True
            self.sendLine(f"error: {reason}".encode())
            self.transport.loseConnection()

    def lineLengthExceeded(self, line: bytes) -> None:
        self.disconnect("line too long")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closing = True
        user, self.user = self.user, None
        if user is not None:
            user.quit("Connection closed")


class AnnounceFactory(ServerFactory):
    """
    Makes an L{AnnounceProtocol} for each connection.
    """

    noisy = False

    def __init__(self, server: ChatServer) -> None:
        self.server = server

    def buildProtocol(self, addr: IAddress | None) -> AnnounceProtocol:
        return AnnounceProtocol(self.server)


@implementer(IPlugin, IChatDoor)
class AnnounceDoor:
    """
    The door: C{--announce ENDPOINT}.
    """

    name = "announce"
    description = (
        "Endpoint where each line a script sends (after its name) is said "
        "in the default room."
    )

    def makeFactory(self, server: ChatServer) -> AnnounceFactory:
        return AnnounceFactory(server)

    def refusal(self, why: str) -> bytes:
        return f"error: {why}\n".encode()
