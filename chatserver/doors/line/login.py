"""
Logging in over the line door: the name, and with C{--auth} (or for a
registered account, with C{--accounts}) the password,
through the chat's twisted.cred portal, with failures answered ever more
slowly (the shared L{chatserver.limits.throttle.LoginThrottle}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.cred.credentials import ICredentials, UsernamePassword
from twisted.python.failure import Failure

from chatserver.auth.checkers import ChosenName
from chatserver.core.users import ChatUser
from chatserver.doors.line import usercommands
from chatserver.doors.line.accounts import ask_secret
from chatserver.doors.line.echo import hide_input
from chatwire import lines
from chatwire.commands import Command, parse_input
from chatwire.errors import AccountRequired, ChatError, NameTaken, PasswordRequired
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
        # With --accounts, an account's name is refused with
        # PasswordRequired, and the password asked for (refused, below).
        _login(connection, ChosenName(name), name)
    else:
        _ask_password(connection, name)


def _ask_password(connection: ChatProtocol, name: str) -> None:
    connection.pendingName = name
    # Echo off before the prompt: a client shown the prompt first could
    # echo what is typed before it reads the request (a write may now
    # leave on its own, see chatserver.tuning.leantcp).
    hide_input(connection.transport, True)
    connection.send(lines.Prompt(lines.Prompt.PASSWORD, f"Password for {name}?"))


def _sign_up(connection: ChatProtocol, name: str) -> None:
    """
    Register C{name} with the password typed next, then log in to it: the
    way in of a server that wants accounts only.
    """
    accounts = connection.server.accounts
    assert accounts is not None

    def register(password: str) -> None:
        def registered(account: str) -> None:
            connection.send(lines.Info(f"the account {account} is registered"))
            credentials = UsernamePassword(
                account.encode("utf-8"), password.encode("utf-8")
            )
            _login(connection, credentials, account)

        def failed(reason: Failure) -> None:
            reason.trap(ChatError)
            assert isinstance(reason.value, ChatError)
            if not connection.closing:
                connection.reject(reason.value.reason)
                connection.send(NAME_PROMPT)

        registering = accounts.register(name, password, connection.host)
        registering.addCallbacks(registered, failed)

    ask_secret(
        connection,
        f"No account is called {name}: choose a password to register it",
        register,
    )


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
    connection.session.login(credentials, name)


def greet(connection: ChatProtocol, user: ChatUser) -> None:
    """
    Greet C{user}, just logged in on C{connection}: the welcome, the message
    of the day, and the room it is in.
    """
    connection.pendingName = ""
    config = connection.config
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


def refused(connection: ChatProtocol, error: ChatError, name: str) -> None:
    """
    The chat refused to log C{name} in, for C{error}.
    """
    connection.pendingName = ""
    accounts = connection.server.accounts
    if isinstance(error, PasswordRequired):
        _ask_password(connection, name)
    elif isinstance(error, AccountRequired) and accounts is not None:
        if accounts.registration:
            _sign_up(connection, name)
        else:
            connection.reject(f"{error.reason} (registration is closed)")
    elif isinstance(error, NameTaken) and connection.server.passwords:
        connection.reject(f"{name} is already logged in")
        connection.send(NAME_PROMPT)
    else:
        connection.reject(error.reason)


def answer_failure(connection: ChatProtocol, last: bool) -> None:
    """
    Answer a wrong name or password, after the throttle's delay; after the
    C{last} failure allowed, the connection closes.
    """
    if last:
        connection.close(
            "Too many failed logins",
            lines.Error("wrong name or password; too many failures, goodbye"),
        )
        return
    connection.send(lines.Error("wrong name or password"), NAME_PROMPT)
