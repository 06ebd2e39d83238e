"""
IRCv3 C{draft/account-registration}: C{REGISTER <account|*> <email|*>
<password>}, before the connection is registered or after.

The account is the nick (C{*} names it; another name is refused with
C{ACCOUNT_NAME_MUST_BE_NICK}, the capability having no
C{custom-account-name}); no e-mail is asked for, and one given is not kept.
A registration that succeeds logs the connection in to the account (900)
and is answered C{REGISTER SUCCESS <account> <message>}; one refused,
C{FAIL REGISTER <code> <account> <message>}, its code the spec's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.python.failure import Failure

from chatserver.accounts import actions
from chatserver.accounts.registry import is_weak
from chatserver.doors.irc import message, numerics, registration
from chatwire.errors import (
    AccountError,
    AccountExists,
    BadPassword,
    ChatError,
    InvalidName,
)
from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

REGISTERING = "register"
"""
The hold on reading while a registration is made: a C{CAP END} read
meanwhile would log the connection in as a guest.
"""


def fail_code(error: ChatError) -> str:
    """
    @return: The C{FAIL REGISTER} code that tells C{error}.
    """
    if isinstance(error, AccountExists):
        return "ACCOUNT_EXISTS"
    if isinstance(error, BadPassword):
        return "WEAK_PASSWORD" if is_weak(error) else "UNACCEPTABLE_PASSWORD"
    if isinstance(error, InvalidName):
        return "BAD_ACCOUNT_NAME"
    return "TEMPORARILY_UNAVAILABLE"


def register(connection: IrcProtocol, msg: Message) -> None:
    accounts = connection.server.accounts
    if accounts is None or not accounts.registration:
        connection.reply(numerics.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
        return
    wanted, _, password = msg.params[:3]
    user = connection.user
    nick = user.name if user is not None else connection.nick
    if user is None and not nick:
        nick = connection.nickInUse
    account = nick if wanted == "*" else wanted
    if not nick:
        connection.fail("REGISTER", "NEED_NICK", account, "Send NICK first")
        return
    if name_key(account) != name_key(nick):
        connection.fail(
            "REGISTER",
            "ACCOUNT_NAME_MUST_BE_NICK",
            account,
            "The account's name must be your nick",
        )
        return
    if connection.account is not None or (user is not None and user.account):
        connection.fail(
            "REGISTER",
            "ALREADY_AUTHENTICATED",
            account,
            "You are logged in to an account already",
        )
        return
    if user is None and nick in connection.server.realm:
        connection.fail("REGISTER", "ACCOUNT_EXISTS", account, f"{nick} is in use now")
        return
    session = connection.session
    session.hold(REGISTERING)
    if user is not None:
        registering = actions.register(user, password, connection.host)
    else:
        registering = accounts.register(nick, password, connection.host)

    # Reading goes on once the answer is sent: the commands that came after
    # REGISTER are answered after it.

    def registered(name: str) -> None:
        try:
            answer(name)
        finally:
            session.release(REGISTERING)

    def answer(name: str) -> None:
        if connection.user is None:
            registration.logged_in(connection, name, password.encode("utf-8"))
        else:
            mask = connection.ircFactory.mask(name)
            connection.reply(
                numerics.RPL_LOGGEDIN, mask, name, f"You are now logged in as {name}"
            )
        connection.send(
            message.encode(
                "REGISTER",
                "SUCCESS",
                name,
                "Account created",
                prefix=connection.serverName,
            )
        )
        # NICK and USER may be in already (a guest refused by
        # --require-account): the connection logs in to its new account.
        registration.try_register(connection)

    def refused(reason: Failure) -> None:
        try:
            reason.trap(AccountError, InvalidName)
            error = reason.value
            assert isinstance(error, ChatError)
            connection.fail("REGISTER", fail_code(error), account, error.reason)
        finally:
            session.release(REGISTERING)

    registering.addCallbacks(registered, refused)
