"""
Accounts kept in an SQLite file (C{--accounts sqlite:PATH}), which may be
the file of C{--history sqlite:PATH}: the accounts have tables of their
own, and a schema version of their own, so the two never touch each
other's.

The file is checked (created, its tables brought up to date) once at
start in the calling thread, before the reactor runs; from then on every
statement runs in the one thread of an L{adbapi.ConnectionPool}, so the
chat never waits for the disk.

The schema's version is the one row of C{accounts_schema(version)}
(C{PRAGMA user_version} is the history's); version 1 is::

    accounts(key TEXT PRIMARY KEY, name TEXT NOT NULL, hashed TEXT NOT NULL,
             created REAL NOT NULL)

where C{key} is the name's case fold.  A newer version adds its steps to
L{MIGRATIONS}; a file of a version newer than this module knows is
refused.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.python.failure import Failure

from chatserver.accounts.store import AccountsUnavailable, StoredAccount
from chatwire.names import name_key

BUSY_TIMEOUT = 1.0
"""
Seconds a statement waits for a lock another connection holds (the
history's, when the file is shared) before it fails.
"""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS accounts (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            hashed TEXT NOT NULL,
            created REAL NOT NULL)""",
    ),
)
"""
The statements that bring the schema from version N to N+1, at index N.
"""

SCHEMA_VERSION = len(MIGRATIONS)


class SQLiteAccounts:
    """
    An L{chatserver.accounts.store.AccountStore} in an SQLite file.

    @ivar path: The file.
    """

    def __init__(
        self, path: str, reactor: Any = None, *, threadpool: Any = None
    ) -> None:
        """
        @param reactor: The connection pool's reactor (see
            L{adbapi.ConnectionPool}'s C{cp_reactor}); the global reactor
            if not given.
        @param threadpool: Runs the pool's work instead of its own thread
            (the tests run it at once in the calling thread).
        """
        self.path = path
        self._reactor = reactor
        self._threadpool = threadpool
        self._pool: adbapi.ConnectionPool | None = None
        self._checked = False

    def _unavailable(self, why: object) -> AccountsUnavailable:
        return AccountsUnavailable(
            f"cannot use accounts file {self.path}: {' '.join(str(why).split())}"
        )

    def check(self) -> None:
        """
        Open the file in the calling thread (creating it if missing), bring
        its accounts' schema up to date, and close it.

        @raise AccountsUnavailable: If the file cannot be used, saying why
            in one line.
        """
        try:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None
            )
        except sqlite3.Error as error:
            raise self._unavailable(error) from None
        try:
            _migrate(connection)
        except sqlite3.Error as error:
            raise self._unavailable(error) from None
        except ValueError as error:
            raise self._unavailable(error) from None
        finally:
            connection.close()
        self._checked = True

    def start(self) -> defer.Deferred[None]:
        """
        Open the pool, L{check}ing the file first if that was not done.

        @return: A L{Deferred} that fails with L{AccountsUnavailable} if the
            file cannot be used.
        """
        if self._pool is not None:
            return defer.succeed(None)
        if not self._checked:
            try:
                self.check()
            except AccountsUnavailable:
                return defer.fail()
        self._pool = adbapi.ConnectionPool(
            "sqlite3",
            self.path,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT,
            cp_min=1,
            cp_max=1,
            cp_openfun=_connected,
            cp_reactor=self._reactor,
        )
        if self._threadpool is not None:
            self._pool.threadpool = self._threadpool
        return defer.succeed(None)

    def stop(self) -> defer.Deferred[None]:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        return defer.succeed(None)

    def _run(self, work: Any, *args: object) -> defer.Deferred[Any]:
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))

        def failed(reason: Failure) -> Failure:
            if reason.check(sqlite3.Error):
                return Failure(self._unavailable(reason.value))
            return reason

        ran: defer.Deferred[Any] = self._pool.runInteraction(work, *args)
        return ran.addErrback(failed)

    def get(self, name: str) -> defer.Deferred[StoredAccount | None]:
        return self._run(_get, name_key(name))

    def create(self, account: StoredAccount) -> defer.Deferred[bool]:
        return self._run(_create, account)

    def setHash(self, name: str, hashed: str) -> defer.Deferred[bool]:
        return self._run(_set_hash, name_key(name), hashed)

    def delete(self, name: str) -> defer.Deferred[bool]:
        return self._run(_delete, name_key(name))


def _connected(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def _migrate(connection: sqlite3.Connection) -> None:
    """
    Bring the accounts' schema of an open file up to L{SCHEMA_VERSION}, in
    one transaction.

    @raise ValueError: If the file's accounts are of a newer schema.
    """
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS accounts_schema (version INTEGER NOT NULL)"
        )
        row = connection.execute("SELECT version FROM accounts_schema").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"accounts schema version {version} is newer than this server "
                f"knows ({SCHEMA_VERSION})"
            )
        for steps in MIGRATIONS[version:]:
            for statement in steps:
                connection.execute(statement)
        if row is None:
            connection.execute(
                "INSERT INTO accounts_schema VALUES (?)", (SCHEMA_VERSION,)
            )
        else:
            connection.execute(
                "UPDATE accounts_schema SET version = ?", (SCHEMA_VERSION,)
            )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _get(transaction: Any, key: str) -> StoredAccount | None:
    transaction.execute(
        "SELECT name, hashed, created FROM accounts WHERE key = ?", (key,)
    )
    row = transaction.fetchone()
    if row is None:
        return None
    return StoredAccount(str(row[0]), str(row[1]), float(row[2]))


def _create(transaction: Any, account: StoredAccount) -> bool:
    transaction.execute(
        "INSERT OR IGNORE INTO accounts VALUES (?, ?, ?, ?)",
        (name_key(account.name), account.name, account.hashed, account.created),
    )
    return bool(transaction.rowcount == 1)


def _set_hash(transaction: Any, key: str, hashed: str) -> bool:
    transaction.execute("UPDATE accounts SET hashed = ? WHERE key = ?", (hashed, key))
    return bool(transaction.rowcount == 1)


def _delete(transaction: Any, key: str) -> bool:
    transaction.execute("DELETE FROM accounts WHERE key = ?", (key,))
    return bool(transaction.rowcount == 1)
