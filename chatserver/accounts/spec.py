"""
The C{--accounts STORE} option: C{memory}, C{sqlite:PATH}, or C{redis} (a
cluster's, the only store a cluster takes), and the store it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.accounts.memory import MemoryAccounts
from chatserver.accounts.sqlite import SQLiteAccounts
from chatserver.accounts.store import AccountStore

if TYPE_CHECKING:
    from chatserver.cluster.link import RedisLink

MEMORY = "memory"
REDIS = "redis"
SQLITE = "sqlite:"


def parse_accounts(value: str, cluster: bool = False) -> str:
    """
    @param cluster: Whether the server is a node of a cluster.
    @return: C{value}, checked.
    @raise ValueError: If it names no store, or one the server cannot use
        (a cluster keeps its accounts in its Redis).
    """
    if cluster:
        if value != REDIS:
            raise ValueError("a cluster keeps its accounts in Redis: --accounts redis")
        return value
    if value == MEMORY:
        return value
    if value.startswith(SQLITE):
        if not value[len(SQLITE) :]:
            raise ValueError("sqlite: needs a path (sqlite:PATH)")
        return value
    if value == REDIS:
        raise ValueError("redis is a cluster's store: give --cluster too")
    raise ValueError(f"{value!r}: memory, sqlite:PATH, or redis with --cluster")


def make_accounts_store(value: str, commands: RedisLink | None = None) -> AccountStore:
    """
    @param commands: The cluster's command connection, for C{redis}.
    @return: The store C{value} (checked by L{parse_accounts}) names.
    """
    if value == REDIS:
        from chatserver.accounts.redis import RedisAccounts

        assert commands is not None, "redis accounts need a cluster"
        return RedisAccounts(commands)
    if value.startswith(SQLITE):
        return SQLiteAccounts(value[len(SQLITE) :])
    return MemoryAccounts()
