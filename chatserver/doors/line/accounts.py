"""
Accounts over the line door: C{/register}, C{/password} and
C{/unregister}, and the password prompts they and a sign-up at login use,
each answered on a line of its own with the echo hidden on telnet (as the
login password is).

A password may also follow the command on its line (C{/register
PASSWORD}, for scripts); typed so, telnet shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.python.failure import Failure

from chatserver.accounts import actions
from chatserver.doors.line.echo import hide_input
from chatwire import lines
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.line.protocol import ChatProtocol


def ask_secret(
    connection: ChatProtocol, question: str, then: Callable[[str], None]
) -> None:
    """
    Ask for a password, hiding what is typed: the next line goes to C{then}
    (an empty line cancels).
    """
    connection.pendingSecret = then
    # Echo off before the prompt (see login.choose_name).
    hide_input(connection.transport, True)
    connection.send(lines.Prompt(lines.Prompt.PASSWORD, question))


def take_secret(connection: ChatProtocol, text: str) -> None:
    """
    The line asked for by L{ask_secret} came: show the echo again, and
    hand it on.
    """
    then, connection.pendingSecret = connection.pendingSecret, None
    hide_input(connection.transport, False)
    if not text:
        connection.send(lines.Info("cancelled"))
        return
    assert then is not None
    then(text)


def _failed(reason: Failure, connection: ChatProtocol) -> None:
    reason.trap(ChatError)
    assert isinstance(reason.value, ChatError)
    if not connection.closing:
        connection.send(lines.Error(reason.value.reason))


def command_register(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    def register(password: str) -> None:
        def done(account: str) -> None:
            connection.send(
                lines.Info(
                    f"the account {account} is registered: log in with its "
                    "password from now on"
                )
            )

        registering = actions.register(user, password, connection.host)
        registering.addCallbacks(done, _failed, errbackArgs=(connection,))

    if args:
        register(args)
    else:
        ask_secret(connection, f"Choose a password for {user.name}:", register)


def command_password(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    def change(old: str, new: str) -> None:
        changing = actions.change_password(user, old, new)
        changing.addCallbacks(
            lambda _: connection.send(lines.Info("your password is changed")),
            _failed,
            errbackArgs=(connection,),
        )

    if args:
        words = args.split()
        if len(words) != 2:
            connection.send(lines.Error("usage: /password [OLD NEW]"))
            return
        change(words[0], words[1])
        return
    ask_secret(
        connection,
        "Your password now?",
        lambda old: ask_secret(
            connection, "Your new password?", lambda new: change(old, new)
        ),
    )


def command_unregister(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    def unregister(password: str) -> None:
        def done(_: None) -> None:
            connection.send(
                lines.Info(f"the account {user.name} is gone: you are a guest now")
            )

        giving = actions.unregister(user, password)
        giving.addCallbacks(done, _failed, errbackArgs=(connection,))

    if args:
        unregister(args)
    else:
        ask_secret(connection, f"Password of {user.name}, to give it up?", unregister)


COMMANDS = {
    "register": command_register,
    "password": command_password,
    "unregister": command_unregister,
}
"""
The account commands, added to the line door's own.
"""
