"""
The stores of accounts, memory and SQLite, through the same operations;
the SQLite file's schema, its version, and its sharing with the history.
The SQLite store runs its work at once in the calling thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.accounts.memory import MemoryAccounts
from chatserver.accounts.sqlite import SCHEMA_VERSION, SQLiteAccounts
from chatserver.accounts.store import AccountStore, AccountsUnavailable, StoredAccount
from chatserver.history.sqlite import SQLiteHistory
from tests.accounts.support import result
from tests.history.support import CallingThreadPool, ThreadlessReactor


def opened(path: Path) -> SQLiteAccounts:
    store = SQLiteAccounts(
        str(path), reactor=ThreadlessReactor(), threadpool=CallingThreadPool()
    )
    result(store.start())
    return store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    if request.param == "memory":
        yield MemoryAccounts()
        return
    kept = opened(tmp_path / "chat.db")
    yield kept
    result(kept.stop())


ALICE = StoredAccount("Alice", "$scrypt$hash", 100.0)


def test_an_account_is_found_by_its_name_in_any_case(store: AccountStore):
    assert result(store.create(ALICE)) is True
    assert result(store.get("aLICE")) == ALICE
    assert result(store.get("bob")) is None


def test_an_account_is_created_once(store: AccountStore):
    result(store.create(ALICE))
    assert result(store.create(StoredAccount("alice", "other", 5.0))) is False
    assert result(store.get("alice")) == ALICE


def test_a_hash_is_changed_for_an_account_only(store: AccountStore):
    result(store.create(ALICE))
    assert result(store.setHash("alice", "$scrypt$new")) is True
    assert result(store.get("alice")).hashed == "$scrypt$new"
    assert result(store.setHash("bob", "$scrypt$new")) is False


def test_a_deleted_account_is_gone(store: AccountStore):
    result(store.create(ALICE))
    assert result(store.delete("ALICE")) is True
    assert result(store.get("alice")) is None
    assert result(store.delete("alice")) is False


def test_accounts_outlive_the_store_in_their_file(tmp_path: Path):
    first = opened(tmp_path / "chat.db")
    result(first.create(ALICE))
    result(first.stop())
    second = opened(tmp_path / "chat.db")
    assert result(second.get("alice")) == ALICE
    result(second.stop())


def test_the_history_file_keeps_both_and_its_own_version(tmp_path: Path):
    path = tmp_path / "chat.db"
    history = SQLiteHistory(str(path))
    history.check()
    accounts = opened(path)
    result(accounts.create(ALICE))
    result(accounts.stop())
    history.check()
    connection = sqlite3.connect(path)
    try:
        tables = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master")
        }
        (version,) = connection.execute(
            "SELECT version FROM accounts_schema"
        ).fetchone()
    finally:
        connection.close()
    assert {"history", "accounts", "accounts_schema"} <= tables
    assert version == SCHEMA_VERSION


def test_a_newer_accounts_schema_is_refused_in_one_line(tmp_path: Path):
    path = tmp_path / "chat.db"
    result(opened(path).stop())
    connection = sqlite3.connect(path)
    connection.execute("UPDATE accounts_schema SET version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(AccountsUnavailable) as refused:
        SQLiteAccounts(str(path)).check()
    assert "newer than this server knows" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_store_not_started_is_unavailable(tmp_path: Path):
    store = SQLiteAccounts(str(tmp_path / "chat.db"))
    assert isinstance(result(store.get("alice")), AccountsUnavailable)
