"""
What a logged-in user does with its account, from any door: register the
name it uses, change the password, give the account up.  Each door parses
its own command into one of these calls and says the answer its own way.
"""

from __future__ import annotations

from twisted.internet import defer

from chatserver.core.users import ChatUser
from chatwire.errors import AccountError, AccountExists, NoAccount


class NoAccounts(AccountError):
    """
    The server keeps no accounts users register (no C{--accounts}).
    """

    def __init__(self) -> None:
        super().__init__("this server has no registration (no --accounts)")


def register(user: ChatUser, password: str, host: str) -> defer.Deferred[str]:
    """
    Register the name C{user} uses as an account with C{password}, for a
    client at C{host}; the user is logged in to it once registered.

    @return: A L{Deferred} firing with the account's name, or failing with
        an L{AccountError}.
    """
    accounts = user.realm.registry
    if accounts is None:
        return defer.fail(NoAccounts())
    if user.account is not None:
        return defer.fail(AccountExists(user.name, "is your account already"))
    name = user.name

    def registered(account: str) -> str:
        if user.online and user.name == name:
            user.realm.accountChanged(user, account)
        return account

    return accounts.register(name, password, host).addCallback(registered)


def change_password(user: ChatUser, old: str, new: str) -> defer.Deferred[None]:
    """
    Change the password of C{user}'s account from C{old} to C{new}.

    @return: A L{Deferred} failing with an L{AccountError} if refused.
    """
    accounts = user.realm.registry
    if accounts is None:
        return defer.fail(NoAccounts())
    if user.account is None:
        return defer.fail(NoAccount())
    return accounts.changePassword(user.account, old, new)


def unregister(user: ChatUser, password: str) -> defer.Deferred[None]:
    """
    Give up C{user}'s account, once C{password} is its password: the name
    is free again, and the user a guest.

    @return: A L{Deferred} failing with an L{AccountError} if refused.
    """
    accounts = user.realm.registry
    if accounts is None:
        return defer.fail(NoAccounts())
    account = user.account
    if account is None:
        return defer.fail(NoAccount())

    def given(_: None) -> None:
        if user.online and user.account == account:
            user.realm.accountChanged(user, None)

    return accounts.unregister(account, password).addCallback(given)
