"""
A cluster's accounts (C{--accounts redis} with C{--cluster}): one Redis
hash an account, C{chat:account:KEY} (C{KEY} the name's case fold) with
the fields C{name}, C{hashed} and C{created}, read and written through the
node's command connection, so every node sees every account at once.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from chatserver.accounts.store import AccountsUnavailable, StoredAccount
from chatserver.cluster import keys
from chatserver.cluster.link import RedisError, RedisLink
from chatwire.names import name_key

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'hashed', ARGV[2], 'created', ARGV[3])
return 1
"""

_SET_HASH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'hashed', ARGV[1])
return 1
"""


def account_key(name: str) -> str:
    """
    @return: The key of the hash of the account called C{name} in any case.
    """
    return f"{keys.PREFIX}account:{name_key(name)}"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _unavailable(reason: Failure) -> Failure:
    if reason.check(RedisError):
        return Failure(
            AccountsUnavailable(f"accounts cannot be reached: {reason.value}")
        )
    return reason


class RedisAccounts:
    """
    An L{chatserver.accounts.store.AccountStore} in the cluster's Redis.

    @param link: The node's connection for commands.
    """

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def start(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def stop(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def get(self, name: str) -> defer.Deferred[StoredAccount | None]:
        def found(reply: Any) -> StoredAccount | None:
            if not reply:
                return None
            fields = (
                dict(zip(reply[::2], reply[1::2], strict=True))
                if isinstance(reply, list)
                else reply
            )
            fields = {_text(k): _text(v) for k, v in fields.items()}
            if "hashed" not in fields:
                return None
            return StoredAccount(
                fields["name"], fields["hashed"], float(fields.get("created", 0))
            )

        reply: defer.Deferred[Any] = self.link.execute("HGETALL", account_key(name))
        return reply.addCallbacks(found, _unavailable)

    def create(self, account: StoredAccount) -> defer.Deferred[bool]:
        reply: defer.Deferred[Any] = self.link.execute(
            "EVAL",
            _CREATE,
            1,
            account_key(account.name),
            account.name,
            account.hashed,
            repr(account.created),
        )
        return reply.addCallbacks(bool, _unavailable)

    def setHash(self, name: str, hashed: str) -> defer.Deferred[bool]:
        reply: defer.Deferred[Any] = self.link.execute(
            "EVAL", _SET_HASH, 1, account_key(name), hashed
        )
        return reply.addCallbacks(bool, _unavailable)

    def delete(self, name: str) -> defer.Deferred[bool]:
        reply: defer.Deferred[Any] = self.link.execute("DEL", account_key(name))
        return reply.addCallbacks(bool, _unavailable)
