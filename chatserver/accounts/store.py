"""
Where registered accounts are kept: the interface every store provides
(memory, an SQLite file, a cluster's Redis) and what it keeps of one
account.

A store knows nothing of passwords but their hashes (made with
L{chatserver.auth.passwords.hash_password}); names are looked up by their
case fold (L{chatwire.names.name_key}), as the chat compares names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from twisted.internet import defer


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """
    One registered account.

    @ivar name: The name as registered (its case kept).
    @ivar hashed: The scrypt hash of its password.
    @ivar created: When it was registered, in POSIX seconds.
    """

    name: str
    hashed: str
    created: float


class AccountsUnavailable(Exception):
    """
    The store cannot be used now (its file cannot be opened, the cluster's
    Redis is away); the message says why in one line.
    """


class AccountStore(Protocol):
    """
    What keeps the registered accounts.  Every operation answers with a
    L{Deferred}, failing with L{AccountsUnavailable} when the store cannot
    be reached.
    """

    def start(self) -> defer.Deferred[None]:
        """
        Open the store.
        """

    def stop(self) -> defer.Deferred[None]:
        """
        Close the store.
        """

    def get(self, name: str) -> defer.Deferred[StoredAccount | None]:
        """
        @return: The account called C{name} in any case, or L{None}.
        """

    def create(self, account: StoredAccount) -> defer.Deferred[bool]:
        """
        Keep C{account}, unless an account has its name in any case.

        @return: Whether it was kept.
        """

    def setHash(self, name: str, hashed: str) -> defer.Deferred[bool]:
        """
        Give the account called C{name} the password hash C{hashed}.

        @return: Whether there was such an account.
        """

    def delete(self, name: str) -> defer.Deferred[bool]:
        """
        Forget the account called C{name}.

        @return: Whether there was such an account.
        """
