"""
What the accounts' tests share: a chat harness with accounts kept in
memory, hashed cheaply and at once (no threads).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from chatserver.testing import ChatHarness

CHEAP = 2**4
"""
scrypt's N in the tests: fast, and a hash all the same.
"""


def at_once(f: Any, *args: Any) -> defer.Deferred[Any]:
    """
    Run C{f} now, in the calling thread, as the tests' thread pool.
    """
    return defer.maybeDeferred(f, *args)


def accounts_harness(**settings: Any) -> ChatHarness:
    """
    @return: A harness with C{--accounts memory} (and C{settings}), hashing
        at once.
    """
    settings.setdefault("accounts", "memory")
    settings.setdefault("rate", 0)
    harness = ChatHarness(**settings)
    accounts = harness.server.accounts
    assert accounts is not None
    accounts.run = at_once
    accounts.cost = CHEAP
    return harness


def register(harness: ChatHarness, name: str, password: str) -> None:
    """
    Register C{name} with C{password}, as a client from an exempt address.
    """
    accounts = harness.server.accounts
    assert accounts is not None
    got: list[object] = []
    accounts.register(name, password, "127.0.0.1").addBoth(got.append)
    assert got == [name], got


def result(deferred: defer.Deferred[Any]) -> Any:
    """
    @return: What the fired C{deferred} gave (a failure's value if it
        failed).
    """
    got: list[Any] = []
    deferred.addBoth(got.append)
    assert len(got) == 1, "not fired"
    value = got[0]
    return getattr(value, "value", value)


def account_of(harness: ChatHarness, name: str) -> str | None:
    """
    @return: The account of the user called C{name}, online on the harness.
    """
    user = harness.realm.get(name)
    assert user is not None, f"{name} is not online"
    return user.account
