"""
Logging in over the line door: the name, and with C{--auth} the password,
through the chat's twisted.cred portal, with failures answered ever more
slowly (the shared L{chatserver.limits.throttle.LoginThrottle}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.python.failure import Failure

from chatserver.auth.checkers import ChosenName
from chatserver.core.users import ChatUser, IChatUser
from chatserver.doors.line import usercommands
from chatserver.doors.line.echo import hide_input
from chatserver.limits.throttle import MAX_LOGIN_FAILURES
from chatwire import lines
from chatwire.commands import Command, parse_input
from chatwire.errors import ChatError, NameTaken
from chatwire.names import check_name

if TYPE_CHECKING:
    from chatserver.doors.line.protocol import ChatProtocol


NAME_PROMPT = lines.Prompt(lines.Prompt.NAME, "What's your name?")


def choose_name(connection: ChatProtocol, text: str) -> None:
    """
    Read a line typed before login: a name, C{/quit} or C{/help}.
    """
    if text.startswith("/"):
        try:
            command = parse_input(text)
        except ChatError as e:
            connection.reject(e.reason)
            return
        if isinstance(command, Command) and command.name in ("quit", "help"):
            usercommands.COMMANDS[command.name](connection, None, command.args)
        else:
            connection.send(lines.Error("choose a name first (or /quit)"))
        return
    name = text.strip()
    if not name:
        return
    try:
        check_name(name)
    except ChatError as e:
        connection.reject(e.reason)
        return
    server = connection.server
    if not server.passwords:
        _login(connection, ChosenName(name), name)
    elif name in server.realm:
        connection.reject(f"{name} is already logged in")
    else:
        connection.pendingName = name
        # Echo off before the prompt: a client shown the prompt first could
        # echo what is typed before it reads the request (a write may now
        # leave on its own, see chatserver.tuning.leantcp).
        hide_input(connection.transport, True)
        connection.send(lines.Prompt(lines.Prompt.PASSWORD, f"Password for {name}?"))


def check_password(connection: ChatProtocol, password: str) -> None:
    """
    Read the password for the name chosen, and log in with both.
    """
    if not password:
        return
    hide_input(connection.transport, False)
    name = connection.pendingName
    credentials = UsernamePassword(name.encode("utf-8"), password.encode("utf-8"))
    _login(connection, credentials, name)


def _login(connection: ChatProtocol, credentials: ICredentials, name: str) -> None:
    # Nothing more is read until the login is answered: in a cluster the
    # name is claimed in Redis meanwhile, and a second name read now would
    # log in a second user on this one connection.
    connection.hold("login")
    login = connection.server.portal.login(credentials, connection, IChatUser)
    login.addCallbacks(
        lambda result: _loggedIn(connection, result[1]),
        lambda reason: _refused(connection, reason, name),
    )


def _loggedIn(connection: ChatProtocol, user: ChatUser) -> None:
    connection.pendingName = ""
    if connection.closing or connection.transport is None:
        # The connection went away while the password was checked.
        user.quit(connection.leaveReason or "Connection closed")
        return
    connection.user = user
    config = connection.config
    connection.setTimeout(config.idleTimeout or None)
    replies: list[lines.Event] = [lines.Welcome(config.serverName, user.name)]
    replies.extend(lines.Info(motdLine) for motdLine in config.motd.splitlines())
    room = user.current
    if room is not None:
        if room.topic:
            replies.append(lines.TopicIs(room.topic, room.topicSetter))
        replies.append(lines.UserList(room.names()))
    connection.send(*replies)
    if room is not None:
        user.replay(room)
    # Read on once logged in: what came after the name is the user's.
    connection.release("login")


def _refused(connection: ChatProtocol, reason: Failure, name: str) -> None:
    connection.pendingName = ""
    if reason.check(ChatError):
        if connection.closing:
            return
        connection.release("login")
        if reason.check(NameTaken) and connection.server.passwords:
            connection.reject(f"{name} is already logged in")
            connection.send(NAME_PROMPT)
        else:
            connection.reject(reason.value.reason)  # type: ignore[union-attr]
        return
    connection.failures += 1
    delay = connection.server.loginThrottle.loginFailed(
        reason, name, connection.host, connection.peer, connection.failures
    )
    connection.answerCall = connection.clock.callLater(
        delay, _answerFailure, connection
    )


def _answerFailure(connection: ChatProtocol) -> None:
    connection.answerCall = None
    if connection.failures >= MAX_LOGIN_FAILURES:
        connection.close(
            "Too many failed logins",
            lines.Error("wrong name or password; too many failures, goodbye"),
        )
        return
    connection.send(lines.Error("wrong name or password"), NAME_PROMPT)
    connection.release("login")
