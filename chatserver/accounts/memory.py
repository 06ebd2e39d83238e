"""
Accounts kept in memory (C{--accounts memory}): gone when the server
stops, for trying accounts out and for tests.
"""

from __future__ import annotations

from twisted.internet import defer

from chatserver.accounts.store import StoredAccount
from chatwire.names import name_key


class MemoryAccounts:
    """
    An L{chatserver.accounts.store.AccountStore} in a dictionary.
    """

    def __init__(self) -> None:
        self._accounts: dict[str, StoredAccount] = {}

    def start(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def get(self, name: str) -> defer.Deferred[StoredAccount | None]:
        return defer.succeed(self._accounts.get(name_key(name)))

    def create(self, account: StoredAccount) -> defer.Deferred[bool]:
        key = name_key(account.name)
        if key in self._accounts:
            return defer.succeed(False)
        self._accounts[key] = account
        return defer.succeed(True)

    def setHash(self, name: str, hashed: str) -> defer.Deferred[bool]:
        key = name_key(name)
        account = self._accounts.get(key)
        if account is None:
            return defer.succeed(False)
        self._accounts[key] = StoredAccount(account.name, hashed, account.created)
        return defer.succeed(True)

    def delete(self, name: str) -> defer.Deferred[bool]:
        return defer.succeed(self._accounts.pop(name_key(name), None) is not None)
