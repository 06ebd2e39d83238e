"""
The twisted.cred checker of a server with registered accounts: a name
alone logs in a guest unless it is an account (or the server wants
accounts only); a name and a password log in to an account, the
operator's (C{--auth}) or a registered one.
"""

from __future__ import annotations

from typing import Any

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.internet import defer
from zope.interface import implementer

from chatserver.accounts.registry import Accounts
from chatserver.auth.checkers import AccountName, ChosenName, IChosenName
from chatwire.errors import AccountRequired, PasswordRequired
from chatwire.names import check_name


@implementer(ICredentialsChecker)
class AccountsChecker:
    """
    Checks guests' names and accounts' passwords against L{Accounts}.

    A guest's name that is an account fails with L{PasswordRequired}, and
    any guest's with L{AccountRequired} when the server wants accounts
    only: both are L{chatwire.errors.ChatError}s, which a door says at
    once (no strike against the client); a wrong password fails with
    L{twisted.cred.error.UnauthorizedLogin}, answered after the login
    throttle's delay.

    @ivar accounts: The accounts.
    """

    credentialInterfaces = (IChosenName, IUsernamePassword)

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[Any]:
        """
        @return: A L{Deferred} firing with the name in UTF-8, an
            L{AccountName} for an account's login.
        """
        if isinstance(credentials, ChosenName):
            return self._guest(credentials.username)
        name = _text(credentials.username)
        try:
            password = _text(credentials.password)
        except UnicodeDecodeError:
            password = "\ufffd"  # matches no hash
        return self.accounts.verify(name, password).addCallback(
            lambda account: AccountName(account.encode("utf-8"))
        )

    def _guest(self, name: str) -> defer.Deferred[Any]:
        try:
            check_name(name)
        except Exception:
            return defer.fail()

        def free(registered: bool) -> bytes:
            if registered:
                raise PasswordRequired(name)
            if self.accounts.required:
                raise AccountRequired()
            return name.encode("utf-8")

        return self.accounts.isRegistered(name).addCallback(free)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
