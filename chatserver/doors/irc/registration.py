"""
Registering an IRC connection: C{CAP}, C{PASS}, C{NICK}, C{USER} and SASL
C{PLAIN} (C{AUTHENTICATE}), then the login through the chat's portal, with
failed logins answered ever more slowly (the shared
L{chatserver.limits.throttle.LoginThrottle}) and the connection closed
after L{MAX_LOGIN_FAILURES}.  Also the commands a client may send at any
time: C{PING}, C{PONG}, C{QUIT}.  The command table
(L{chatserver.doors.irc.table}) calls each with the parameters it needs
there, and only when its command may be sent.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.cred.credentials import ICredentials, IUsernamePassword, UsernamePassword
from twisted.internet import defer
from twisted.python.failure import Failure

from chatserver.auth.checkers import ChosenName
from chatserver.core.moderation.errors import Klined
from chatserver.doors.irc import caps, commands, message, numerics
from chatserver.doors.irc.message import Message
from chatserver.doors.irc.refusals import need_more_params, refuse
from chatserver.limits.numbers import parse_count
from chatwire.errors import (
    AccountRequired,
    ChatError,
    InvalidName,
    NameTaken,
    PasswordRequired,
)
from chatwire.names import check_name, is_name_character
from chatwire.text import MAX_REALNAME_LENGTH, clean_text

if TYPE_CHECKING:
    from chatserver.doors.irc.protocol import IrcProtocol

SASL_CHUNK = 400
"""
The bytes of base64 in one C{AUTHENTICATE}: a chunk this long means more
is coming (C{+} alone ends a message that fills whole chunks).
"""


def has_accounts(connection: IrcProtocol) -> bool:
    """
    @return: Whether there are accounts to log in to (C{--auth} or
        C{--accounts}): SASL is offered then.
    """
    server = connection.server
    return server.passwords or server.accounts is not None


def registers(connection: IrcProtocol) -> bool:
    """
    @return: Whether users may register accounts (C{REGISTER}).
    """
    accounts = connection.server.accounts
    return accounts is not None and accounts.registration


def cap(connection: IrcProtocol, msg: Message) -> None:
    sub = msg.params[0].upper()
    passwords = has_accounts(connection)
    registration = registers(connection)
    prefix = connection.serverName
    target = connection.target
    if sub == "LS":
        if connection.user is None:
            connection.negotiating = True
        version = 0
        if len(msg.params) > 1:
            version = parse_count(msg.params[1], high=999) or 0
        connection.capVersion = max(connection.capVersion, version)
        tokens = " ".join(
            caps.ls_tokens(passwords, connection.capVersion, registration)
        )
        connection.send(message.encode("CAP", target, "LS", tokens, prefix=prefix))
    elif sub == "LIST":
        enabled = " ".join(sorted(connection.caps))
        connection.send(message.encode("CAP", target, "LIST", enabled, prefix=prefix))
    elif sub == "REQ":
        if connection.user is None:
            connection.negotiating = True
        wanted = msg.params[1] if len(msg.params) > 1 else ""
        result = caps.request(connection.caps, wanted, passwords, registration)
        if result is None:
            connection.send(message.encode("CAP", target, "NAK", wanted, prefix=prefix))
            return
        connection.capsChanged(result)
        connection.send(message.encode("CAP", target, "ACK", wanted, prefix=prefix))
    elif sub == "END":
        if connection.user is None and connection.negotiating:
            connection.negotiating = False
            try_register(connection)
    else:
        connection.reply(numerics.ERR_INVALIDCAPCMD, sub, "Invalid CAP command")


def password(connection: IrcProtocol, msg: Message) -> None:
    connection.password = msg.params[0]


def nick(connection: IrcProtocol, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        connection.reply(numerics.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    new = msg.params[0]
    if connection.user is not None:
        commands.rename(connection, connection.user, new)
        return
    try:
        check_name(new)
    except InvalidName as e:
        refuse(connection, "NICK", new, e)
        return
    online = connection.server.realm.lookup(new)
    if online is not None and online.account is None:
        # A guest's name in use (an account's takes its password, and adds
        # a session).  REGISTER * names it still: registering a name in
        # use is refused for that (ACCOUNT_EXISTS), not for want of a nick.
        connection.nickInUse = new
        refuse(connection, "NICK", new, NameTaken(new))
        return
    connection.nick = new
    try_register(connection)


def user(connection: IrcProtocol, msg: Message) -> None:
    """
    C{USER}: its four parameters are there, the user name and the real
    name not empty (the command table answers 461 otherwise, as Modern).
    """
    # Shown in every mask (nick!~ident@irc): only what a name may hold.
    ident = "".join(c for c in msg.params[0] if is_name_character(c))[:10]
    connection.ident = ident or "user"
    # Other users see it (WHOIS, WHO): it passes the chat's text gate, with
    # what text may not hold taken out (no numeric refuses a real name).
    connection.realname = clean_text(msg.params[3], MAX_REALNAME_LENGTH)
    connection.userGiven = True
    try_register(connection)


def ping(connection: IrcProtocol, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        connection.reply(numerics.ERR_NOORIGIN, "No origin specified")
        return
    connection.send(
        message.encode(
            "PONG", connection.serverName, msg.params[0], prefix=connection.serverName
        )
    )


def pong(connection: IrcProtocol, msg: Message) -> None:
    """
    Any line resets the ping timer; a PONG needs nothing more.
    """


def quit(connection: IrcProtocol, msg: Message) -> None:
    reason = msg.params[0] if msg.params else ""
    connection.close(f"Quit: {reason}" if reason else "Quit", "Quit")


# SASL PLAIN


def authenticate(connection: IrcProtocol, msg: Message) -> None:
    if not has_accounts(connection):
        connection.reply(numerics.ERR_SASLFAIL, "SASL authentication failed")
        return
    user = connection.user
    if connection.account is not None or (user is not None and user.account):
        connection.reply(numerics.ERR_SASLALREADY, "You have already authenticated")
        return
    if user is not None:
        # A guest's name is its own: logging it in to an account once
        # registered is not done (irctest reads 462 as not supported).
        connection.reply(numerics.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    if connection.loggingIn:
        need_more_params(connection, "AUTHENTICATE")
        return
    argument = msg.params[0]
    if len(argument) > SASL_CHUNK:
        connection.saslBuffer = None
        connection.reply(numerics.ERR_SASLTOOLONG, "SASL message too long")
        return
    if argument == "*":
        connection.saslBuffer = None
        connection.reply(numerics.ERR_SASLABORTED, "SASL authentication aborted")
        return
    if connection.saslBuffer is None:
        if argument.upper() != "PLAIN":
            connection.reply(
                numerics.RPL_SASLMECHS, "PLAIN", "are available SASL mechanisms"
            )
            connection.reply(numerics.ERR_SASLFAIL, "SASL authentication failed")
            return
        connection.saslBuffer = ""
        connection.send(message.encode("AUTHENTICATE", "+", prefix=""))
        return
    data = _collect(connection, argument)
    if data is None:
        return
    try:
        fields = b64decode(data, validate=True).split(b"\0")
    except (binascii.Error, ValueError):
        fields = []
    if len(fields) != 3 or not fields[1]:
        connection.reply(numerics.ERR_SASLFAIL, "SASL authentication failed")
        return
    authzid, authcid, secret = fields
    if authzid and authzid != authcid:
        connection.reply(numerics.ERR_SASLFAIL, "SASL authentication failed")
        return
    name = authcid.decode("utf-8", "replace")
    credentials = UsernamePassword(authcid, secret)
    connection.loggingIn = True
    connection.session.hold("login")
    checker = connection.server.portal.checkers[IUsernamePassword]
    checked = defer.maybeDeferred(checker.requestAvatarId, credentials)

    def refused(reason: Failure) -> None:
        connection.loggingIn = False
        connection.session.failed(
            reason,
            name,
            _answer(connection, numerics.ERR_SASLFAIL, "SASL authentication failed"),
        )

    checked.addCallbacks(_vouched, refused, callbackArgs=(connection, secret))


def _vouched(avatarId: bytes | str, connection: IrcProtocol, secret: bytes) -> None:
    """
    SASL vouched for C{avatarId}: say so, then read on (what came after the
    C{AUTHENTICATE} is answered after it).
    """
    connection.loggingIn = False
    account = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else avatarId
    try:
        logged_in(connection, account, secret)
        connection.reply(numerics.RPL_SASLSUCCESS, "SASL authentication successful")
    finally:
        connection.session.release("login")


def logged_in(connection: IrcProtocol, name: str, secret: bytes) -> None:
    """
    The connection, not registered yet, is vouched for as the account
    C{name} (by SASL, or by registering it): say so (900); it logs in to
    the account once registered.
    """
    connection.account = (name, secret)
    mask = f"{connection.nick or name}!~{connection.ident or 'user'}@irc"
    connection.reply(
        numerics.RPL_LOGGEDIN, mask, name, f"You are now logged in as {name}"
    )


def _collect(connection: IrcProtocol, argument: str) -> str | None:
    """
    Add a chunk of an C{AUTHENTICATE} exchange.

    @return: The whole base64 message once complete, else L{None}.
    """
    assert connection.saslBuffer is not None
    if argument != "+":
        connection.saslBuffer += argument
        if len(connection.saslBuffer) > 4096:
            # 905 is for one chunk over 400 bytes; a whole message too long
            # fails the exchange (904), as Ergo answers.
            connection.saslBuffer = None
            connection.reply(numerics.ERR_SASLFAIL, "SASL authentication failed")
            return None
        if len(argument) == SASL_CHUNK:
            return None  # more is coming
    data, connection.saslBuffer = connection.saslBuffer, None
    return data


# Logging in


def try_register(connection: IrcProtocol) -> None:
    """
    Log in once C{NICK} and C{USER} are in and capability negotiation is
    over.
    """
    if (
        connection.user is not None
        or connection.loggingIn
        or connection.closing
        or not connection.nick
        or not connection.userGiven
        or connection.negotiating
    ):
        return
    server = connection.server
    credentials: ICredentials
    name = connection.nick
    if connection.account is not None:
        name, secret = connection.account
        credentials = UsernamePassword(name.encode("utf-8"), secret)
    elif not server.passwords:
        if server.accounts is not None and connection.password:
            # PASS, for a registered account.
            credentials = UsernamePassword(
                name.encode("utf-8"), connection.password.encode("utf-8")
            )
        else:
            # An account's nick is refused with PasswordRequired.
            credentials = ChosenName(name)
    elif connection.password:
        credentials = UsernamePassword(
            name.encode("utf-8"), connection.password.encode("utf-8")
        )
    else:
        connection.reply(
            numerics.ERR_PASSWDMISMATCH,
            "Password required: log in with PASS or SASL PLAIN as your account",
        )
        return
    connection.loggingIn = True
    connection.session.login(credentials, name, lambda r, n: _refused(connection, r, n))


def _refused(connection: IrcProtocol, reason: Failure, name: str) -> None:
    # A wrong password is a wrong password whether the account is online or
    # not (a right one adds a session): the chat answers the same way.
    connection.loggingIn = False
    connection.session.refuse(reason, name)


def refused_by_chat(connection: IrcProtocol, error: ChatError, name: str) -> None:
    """
    The chat refused to log C{name} in, for C{error}: a klined client is
    told so (465) and closed with C{ERROR}.
    """
    if isinstance(error, PasswordRequired):
        connection.reply(
            numerics.ERR_NICKNAMEINUSE,
            name,
            "Nickname is a registered account: log in with SASL or PASS",
        )
    elif isinstance(error, AccountRequired):
        connection.reply(numerics.ERR_PASSWDMISMATCH, error.reason)
        return  # the nick stays: SASL, PASS or REGISTER may follow
    elif isinstance(error, Klined):
        refuse(connection, "NICK", name, error)
        connection.close("K-lined", error.reason)
        return
    else:
        refuse(connection, "NICK", name, error)
    connection.nick = ""


def wrong_password(
    connection: IrcProtocol, reason: Failure, name: str
) -> Callable[[bool], None]:
    """
    The password given with C{PASS} (or SASL) was refused.

    @return: The answer, once the throttle's delay is over.
    """
    byPass = connection.account is None
    connection.password = ""
    connection.account = None
    # A wrong PASS is answered with 464 and ERROR, and the connection is
    # closed (Modern); SASL may be tried again (904, see authenticate).
    return _answer(
        connection,
        numerics.ERR_PASSWDMISMATCH,
        "Password incorrect",
        close=byPass,
    )


def _answer(
    connection: IrcProtocol, code: str, *params: str, close: bool = False
) -> Callable[[bool], None]:
    """
    @return: How a failed login is answered: C{code} with C{params}, and
        the connection closed if C{close}.
    """

    def answer(last: bool) -> None:
        connection.reply(code, *params)
        if close:
            connection.close("Password incorrect")

    return answer
