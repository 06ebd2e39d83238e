"""
Logging in: the name handshake, and with C{--auth} the password, checked
through twisted.cred's portal, with failures answered ever more slowly.

A mixin of L{chatserver.doors.line.protocol.ChatProtocol}, kept apart so that each part
of a connection's life reads on its own.
"""

from __future__ import annotations

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.auth.accounts import ChatAccount, IChatAccount
from chatserver.core.names import InvalidName, check_name
from chatserver.core.registry import NameTaken
from chatserver.doors.line import lines
from chatserver.doors.line.commands import Command, parse_input
from chatserver.doors.line.connection import ConnectionPart
from chatserver.doors.line.echo import hideInput

log = Logger(namespace=LOG_NAMESPACE)

MAX_LOGIN_FAILURES = 3


class LoginMixin(ConnectionPart):
    """
    The part of a connection that turns its first lines into a logged-in
    user.
    """

    def _chooseName(self, text: str) -> None:
        if text.startswith("/"):
            command = parse_input(text)
            if isinstance(command, Command) and command.name in ("quit", "help"):
                self._dispatch(command)
            else:
                self.send(lines.Error("choose a name first (or /quit)"))
            return
        name = text.strip()
        if not name:
            return
        try:
            check_name(name)
        except InvalidName as e:
            self._reject(f"invalid name: {e}")
            return
        if self.portal is None:
            self._register(name)
        elif name in self.registry:
            self._reject(f"{name} is already logged in")
        else:
            self._pendingName = name
            self.send(lines.Prompt(lines.Prompt.PASSWORD, f"Password for {name}?"))
            hideInput(self.transport, True)

    def _checkPassword(self, password: str) -> None:
        if not password:
            return
        hideInput(self.transport, False)
        portal = self.portal
        assert portal is not None
        self._hold("login")
        credentials = UsernamePassword(
            self._pendingName.encode("utf-8"), password.encode("utf-8")
        )
        login = portal.login(credentials, None, IChatAccount)
        login.addCallbacks(self._loggedIn, self._loginFailed)

    def _loggedIn(self, result: tuple[object, ChatAccount, object]) -> None:
        _, account, _ = result
        self._pendingName = ""
        if self._closing:
            return
        self._release("login")
        if account.name in self.registry:
            self._reject(f"{account.name} is already logged in")
            self._promptForName()
            return
        self._register(account.name)

    def _loginFailed(self, reason: Failure) -> None:
        name, self._pendingName = self._pendingName, ""
        if not reason.check(UnauthorizedLogin):
            log.failure(
                "Checking the password of {name} failed",
                failure=reason,
                chat_event="error",
                name=name,
            )
        self._failures += 1
        delay = self.loginThrottle.failed(self.host)
        log.info(
            "Failed login as {name} from {peer} ({count} on this connection)",
            chat_event="rejected",
            name=name,
            peer=self.peer,
            count=self._failures,
            why="wrong name or password",
        )
        self._answerCall = self.clock.callLater(delay, self._answerFailure)

    def _answerFailure(self) -> None:
        self._answerCall = None
        if self._failures >= MAX_LOGIN_FAILURES:
            self.close(
                "Too many failed logins",
                lines.Error("wrong name or password; too many failures, goodbye"),
            )
            return
        self.send(lines.Error("wrong name or password"))
        self._promptForName()
        self._release("login")

    def _promptForName(self) -> None:
        self.send(lines.Prompt(lines.Prompt.NAME, "What's your name?"))

    def _register(self, name: str) -> None:
        self.name = name
        try:
            self.registry.add(self)
        except NameTaken:
            self.name = ""
            self._reject(f"the name {name} is taken, choose another")
            return
        self.loggedIn = True
        self.setTimeout(self.config.idleTimeout or None)
        log.info(
            "{name} logged in from {peer}",
            chat_event="login",
            name=name,
            peer=self.peer,
        )
        self.send(lines.Welcome(self.config.serverName, name))
        for motdLine in self.config.motd.splitlines():
            self.send(lines.Info(motdLine))
        self.send(lines.UserList(self.registry.names()))
        self.registry.broadcast(lines.Joined(name), exclude=self)
