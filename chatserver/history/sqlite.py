"""
History kept in an SQLite file, so that it survives restarts.

The chat never waits for the disk: L{SQLiteHistory.append} gives the entry
its id at once and keeps it pending; a burst of appends is written a moment
later as one transaction (of at most L{WRITE_BATCH} lines), in the one
thread of an L{adbapi.ConnectionPool}.
Queries read the file in that thread and add the entries not written yet,
so they see every entry appended before them.

When writing fails while the server runs (the disk is full, an I/O error,
another program holds the file locked) the chat goes on: the failure is
logged once, the unwritten entries stay in memory (at most
L{MAX_PENDING}; beyond that the oldest are dropped and counted) and writing
is retried, less and less often, until it works again.

An id, once given, is never given again, even by a server killed before it
wrote the line (C{kill -9} in the moment between the two): ids are reserved
in the file ahead of being given, L{RESERVE_SECONDS} of them at the pace
they are given (at least L{ID_BLOCK}).  The next reservation is made in the
transaction that writes the pending lines once half of the current one is
given, so no line waits for it.  Should the ids reserved all be given
before that is written: while a write is in flight (it holds the file),
ids go on being given unreserved, logged once, and that write or the next
reserves them; with no write in flight, the next block is reserved at
once, in the reactor's thread, the one time the chat waits for the disk,
and if that fails too (the file cannot be written), ids are given
unreserved until a write works again.  Only in those two cases could a
crash give an id twice.  The reservation is as durable as
the lines' writes (C{synchronous=NORMAL}): it survives the server's crash,
not necessarily the machine's.  A clean stop gives back the ids reserved
but not given, so restarts keep ids dense.

The file's schema is versioned with C{PRAGMA user_version}; version 1 is
one table::

    history(id INTEGER PRIMARY KEY, room_key TEXT NOT NULL, room TEXT NOT NULL,
            time REAL NOT NULL, kind TEXT NOT NULL, sender TEXT NOT NULL,
            text TEXT NOT NULL)

indexed on C{(room_key, id)} and on C{time}.  Version 2 adds the ids
reserved, one row::

    id_mark(high INTEGER NOT NULL)

Ids up to C{high} may have been given; the next one given after a start is
above both C{high} and the largest id in C{history}.  Version 3 adds the
index searches use (L{SQLiteHistory.search}), an FTS5 table over the lines'
text with C{history} as its external content, kept by triggers::

    history_fts USING fts5(text, content='history', content_rowid='id',
                           tokenize='unicode61 remove_diacritics 2')

A file of an older version is indexed when it is first opened (FTS5's
C{rebuild}: some seconds for a million lines, once).  Version 4 adds the
moderation state (L{chatserver.core.moderation.store}: bans, mutes,
klines, room modes and keys, roles of accounts), one row a record::

    moderation(kind TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
               value TEXT NOT NULL, PRIMARY KEY (kind, scope, key))

written behind, in order, in the pool's one thread.

Version 5 adds the accounts' read markers (L{chatserver.state.markers}),
one row per account and room or private conversation::

    read_marker(account TEXT NOT NULL, target TEXT NOT NULL,
                id INTEGER NOT NULL, time REAL NOT NULL,
                PRIMARY KEY (account, target))

Version 6 keeps a read marker's time to the millisecond, as IRC's
C{MARKREAD} gives it, and lets it be at no line (a time before the first
line of its room)::

    read_marker(account TEXT NOT NULL, target TEXT NOT NULL,
                id INTEGER, stamp INTEGER NOT NULL,
                PRIMARY KEY (account, target))

C{stamp} is in milliseconds since the epoch; the markers of a file of
version 5 keep their line, at its time down to the millisecond.

Private lines between two accounts are rows of C{history} like a room's,
under their conversation's key (L{chatserver.core.conversations}).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter, deque
from collections.abc import Callable, Sequence
from itertools import chain, repeat
from typing import Any, cast

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import LoopingCall, deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.core.moderation.store import IModerationStore, StateRecord
from chatserver.history.paging import select_page
from chatserver.history.search import SearchPage, SearchQuery, fts_query
from chatserver.history.store import (
    DEFAULT_KEEP_SECONDS,
    DEFAULT_MAX_PER_ROOM,
    MAX_PAGE,
    HistoryEntry,
    HistoryUnavailable,
    check_retention,
)
from chatserver.metrics.latency import Latencies
from chatserver.state.markers import ReadMarker, farther
from chatwire.names import name_key

log = Logger(namespace=LOG_NAMESPACE)

SCHEMA_VERSION = 6
"""
The newest schema this module knows; a file with a newer one is refused.
"""

_SCHEMA_1 = (
    """CREATE TABLE IF NOT EXISTS history (
        id INTEGER PRIMARY KEY,
        room_key TEXT NOT NULL,
        room TEXT NOT NULL,
        time REAL NOT NULL,
        kind TEXT NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS history_room ON history (room_key, id)",
    "CREATE INDEX IF NOT EXISTS history_time ON history (time)",
)

_SCHEMA_2 = "CREATE TABLE IF NOT EXISTS id_mark (high INTEGER NOT NULL)"

_SCHEMA_3 = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS history_fts USING fts5(
        text, content='history', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS history_fts_insert AFTER INSERT ON history
        BEGIN INSERT INTO history_fts (rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER IF NOT EXISTS history_fts_delete AFTER DELETE ON history
        BEGIN INSERT INTO history_fts (history_fts, rowid, text)
        VALUES ('delete', old.id, old.text); END""",
    """CREATE TRIGGER IF NOT EXISTS history_fts_update AFTER UPDATE ON history
        BEGIN INSERT INTO history_fts (history_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO history_fts (rowid, text) VALUES (new.id, new.text); END""",
    "INSERT INTO history_fts (history_fts) VALUES ('rebuild')",
)

_SCHEMA_4 = """CREATE TABLE IF NOT EXISTS moderation (
    kind TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
    value TEXT NOT NULL, PRIMARY KEY (kind, scope, key))"""

# Version 5's table, as old files have it (version 6 replaces it).
_SCHEMA_5 = """CREATE TABLE IF NOT EXISTS read_marker (
        account TEXT NOT NULL,
        target TEXT NOT NULL,
        id INTEGER NOT NULL,
        time REAL NOT NULL,
        PRIMARY KEY (account, target))"""

_READ_MARKER_6 = """CREATE TABLE IF NOT EXISTS {} (
        account TEXT NOT NULL,
        target TEXT NOT NULL,
        id INTEGER,
        stamp INTEGER NOT NULL,
        PRIMARY KEY (account, target))"""

_SCHEMA_6 = (
    _READ_MARKER_6.format("read_marker_6"),
    """INSERT INTO read_marker_6 (account, target, id, stamp)
        SELECT account, target, id, CAST(round(time * 1000000) AS INTEGER) / 1000
        FROM read_marker""",
    "DROP TABLE read_marker",
    "ALTER TABLE read_marker_6 RENAME TO read_marker",
)

_RAISE_MARK = "UPDATE id_mark SET high = max(high, ?)"

_INSERT = (
    "INSERT INTO history (id, room_key, room, time, kind, sender, text)"
    " SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),"
    " json_extract(value, '$[2]'), json_extract(value, '$[3]'),"
    " json_extract(value, '$[4]'), json_extract(value, '$[5]'),"
    " json_extract(value, '$[6]') FROM json_each(?)"
)

_COLUMNS = ("id", "room_key", "room", "time", "kind", "sender", "text")

ID_BLOCK = 10000
"""
How many ids are reserved in the file at once; the next block is reserved
once half of one is given.
"""

RESERVE_SECONDS = 30.0
"""
How many seconds of ids, at the pace they were given since the last
write, a reservation reserves ahead (at least L{ID_BLOCK}); the next is
made once half of that is given.  Issue 24: a fixed block of 10,000 lasted
half a second at 20,000 lines a second, less than one write took on a busy
machine, so the reactor reserved the next one itself, on a connection of
its own that waited on the write holding the file (C{database is locked},
after stopping the chat for L{BUSY_TIMEOUT}).
"""

FLUSH_DELAY = 0.05
"""
How long, in seconds, appended entries wait before they are written, so
that a burst becomes one transaction.
"""

WRITE_BATCH = 20000
"""
The most lines one transaction writes; more waiting are written in the
transactions right after, so that a query or search waits behind one such
write at most.  Larger transactions write more lines a second (each
rewrites the index pages it touches, and adds a segment to the FTS5 index,
merged later): 35,000 a second in transactions of 20,000 against 14,700 in
transactions of 2,000, into 1,000 rooms on this machine.
"""

STATEMENT_LINES = 2000
"""
The most lines one statement of a write inserts.  Its lines are given as
one JSON text (one step of SQLite, which runs without the GIL) rather than
one statement a line (each step giving the GIL back and waiting for it
again while the reactor runs: a few hundred lines a second on a busy
server); the text is made in the pool's thread, about 1.5 ms for 2,000
lines, the longest the reactor waits for the GIL because of a write.
"""

RETRY_FIRST = 1.0
"""
How long, in seconds, to wait before retrying a failed write; doubled after
each failure, up to L{RETRY_MOST}.
"""

RETRY_MOST = 30.0
"""
The longest wait, in seconds, between two tries of a failing write.
"""

MAX_PENDING = 10000
"""
The most unwritten entries kept in memory while writes fail.
"""

MAX_BACKLOG = 500000
"""
The most unwritten entries kept in memory while writes work but fall
behind (a burst faster than the disk): about 100 MB.  Before issue 24 the
bound of failing writes applied here too, and a fill of a million lines at
35,000 a second lost more than half of them.
"""

TRIM_INTERVAL = 60.0
"""
How often, in seconds, entries beyond the limits are deleted.
"""

TRIM_BATCH = 500
"""
The most entries one trimming transaction deletes, so that trimming never
holds the file long.
"""

TRIM_PAUSE = 0.05
"""
How long, in seconds, trimming waits after a full batch before the next
(as Ergo does), so that the lines being written never wait behind a long
run of deletes.
"""

VACUUM_PAGES = 1000
"""
The most free pages one step of the compaction after a trim gives back to
the file system (C{PRAGMA incremental_vacuum}); steps are L{TRIM_PAUSE}
apart.
"""

WAL_LIMIT = 64 * 1024 * 1024
"""
The bytes the write-ahead log is cut back to after a checkpoint
(C{PRAGMA journal_size_limit}); a trim that deleted anything ends with a
checkpoint that empties it (C{wal_checkpoint(TRUNCATE)}).
"""

CACHE_KIB = 32 * 1024
"""
The page cache of the store's connection, in KiB (C{PRAGMA cache_size}):
enough for the interior pages of the indexes of a million lines, so that
writing them seldom reads the file.
"""

BUSY_TIMEOUT = 1.0
"""
How long, in seconds, a statement waits for a lock another program holds
on the file before it fails.
"""

_Pending = tuple[str, HistoryEntry]


def _one_line(text: str) -> str:
    return " ".join(text.split())


@implementer(IModerationStore)
class SQLiteHistory:
    """
    A L{HistoryStore} in an SQLite file, which keeps the moderation state
    too (an L{IModerationStore}).

    Ids come from one counter for all rooms, following the largest id in the
    file and the largest reserved (see the module's documentation).
    Trimming always spares the newest entry of the file, too, so that an id
    is never given twice even after every entry has grown too old (a query
    never gives an entry too old, spared or not).

    A room's entries beyond C{maxPerRoom} are deleted by the trimming, so a
    busy room may hold, and give, a minute's worth more until it runs.

    The pool's work runs in the pool's own one thread, with one connection
    (not in the reactor's thread pool); L{stop} closes both.

    @ivar path: The file.
    @ivar maxPerRoom: The most entries kept of one room.
    @ivar keepSeconds: How long an entry is kept.
    """

    def __init__(
        self,
        path: str,
        maxPerRoom: int = DEFAULT_MAX_PER_ROOM,
        keepSeconds: float = DEFAULT_KEEP_SECONDS,
        clock: IReactorTime | None = None,
        reactor: Any = None,
        *,
        threadpool: Any = None,
        onConnect: Callable[[sqlite3.Connection], object] | None = None,
    ) -> None:
        """
        @param clock: Tells the time and schedules writes, retries and
            trimming; the global reactor if not given.
        @param reactor: The reactor of the connection pool (see
            L{adbapi.ConnectionPool}'s C{cp_reactor}); the global reactor if
            not given.
        @param threadpool: Runs the pool's work instead of the pool's own
            thread pool (which runs it in one thread); the tests run it at
            once in the calling thread.
        @param onConnect: Called with each connection the pool opens, after
            the store's own settings, to change some more.
        @raise ValueError: If C{maxPerRoom} is below 1 or C{keepSeconds} is
            not positive.
        """
        check_retention(maxPerRoom, keepSeconds)
        self.path = path
        self.maxPerRoom = maxPerRoom
        self.keepSeconds = keepSeconds
        # The global reactor is looked up only when it is needed, so that
        # check() works without one.
        self._givenClock = clock
        self._reactor = reactor
        self._threadpool = threadpool
        self._onConnect = onConnect
        self._pool: adbapi.ConnectionPool | None = None
        self._lastId: int | None = None
        self._reserved = 0
        self._unreserved = False
        self._pending: deque[_Pending] = deque()
        self._inFlight: list[_Pending] = []
        # The entries of both, by room, oldest first: what a query or a
        # search adds to what it reads, found without going through every
        # line waiting (a join's replay went through all of them, up to
        # MAX_BACKLOG, in the reactor's thread).
        self._unwritten: dict[str, deque[HistoryEntry]] = {}
        self._writing: Deferred[None] | None = None
        self._flushCall: IDelayedCall | None = None
        self._retryDelay = RETRY_FIRST
        self._failing = False
        # Read by --metrics when scraped: batches written and failed, and
        # the seconds the written ones took.
        self.writes = 0
        self.writeFailures = 0
        self.writeSeconds = 0.0
        self.writeLatency = Latencies()
        self._writeStarted = 0.0
        self._dropped = 0
        self._backlogFull = False
        self._paceMark = (0.0, 0)
        self._stopping = False
        self._touched: set[str] = set()
        self._trimmedOnce = False
        self._trimFailing = False
        self._trimming: Deferred[None] | None = None
        self._trimCall: LoopingCall | None = None
        self._stateWrite: Deferred[None] = defer.succeed(None)

    def _unavailable(self, reason: str) -> HistoryUnavailable:
        return HistoryUnavailable(
            f"cannot use history file {self.path}: {_one_line(reason)}"
        )

    def _describe(self, error: sqlite3.Error) -> str:
        """
        @return: What C{error}, raised while opening the file, means for the
            operator, in a few words.
        """
        message = str(error)
        directory = os.path.dirname(os.path.abspath(self.path))
        if "unable to open" in message:
            try:
                os.stat(directory)
            except FileNotFoundError:
                return "directory does not exist"
            except OSError as problem:
                return f"cannot reach its directory ({problem.strerror})"
            if os.path.isdir(self.path):
                return "it is a directory"
            return "cannot open or create it (permission denied?)"
        if "readonly" in message:
            return "file is read-only"
        if "locked" in message:
            return "another program holds it locked"
        return message

    def _clock(self) -> IReactorTime:
        if self._givenClock is None:
            from twisted.internet import reactor as globalReactor

            self._givenClock = cast(IReactorTime, globalReactor)
        return self._givenClock

    def check(self) -> None:
        """
        Open the file in the calling thread (creating it if missing), create
        or update its schema, make sure it can be written, read the largest
        id given and reserve the first block of ids, then close it.

        @raise HistoryUnavailable: If the file cannot be used, saying why in
            one line.
        """
        try:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None
            )
        except sqlite3.Error as error:
            raise self._unavailable(self._describe(error)) from None
        try:
            self._lastId, self._reserved = self._prepare(connection)
        except sqlite3.Error as error:
            raise self._unavailable(self._describe(error)) from None
        finally:
            connection.close()

    def _prepare(self, connection: sqlite3.Connection) -> tuple[int, int]:
        """
        Bring the schema of an open file up to date, see that it can be
        written, and reserve a block of ids.

        @return: The largest id that may have been given, 0 if none, and
            the largest reserved now.
        @raise HistoryUnavailable: If the file's schema is not one this
            module can use.
        """
        # Has effect only on a new file, before its first table: pages freed
        # by trimming can then be given back (see _compact).
        connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        connection.execute("PRAGMA journal_mode=WAL")
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise self._unavailable(
                f"schema version {version} is newer than this server knows"
                f" ({SCHEMA_VERSION})"
            )
        connection.execute("BEGIN IMMEDIATE")
        try:
            if version < 1:
                connection.execute(_SCHEMA_1[0])
            columns = tuple(
                row[1] for row in connection.execute("PRAGMA table_info(history)")
            )
            if columns != _COLUMNS:
                raise self._unavailable("its history table is not this server's")
            if version < 1:
                for statement in _SCHEMA_1[1:]:
                    connection.execute(statement)
            if version < 2:
                connection.execute(_SCHEMA_2)
            if version < 3:
                for statement in _SCHEMA_3:
                    connection.execute(statement)
            if version < 4:
                connection.execute(_SCHEMA_4)
            if version < 5:
                # Version 6's table at once: no version 5 table to copy.
                connection.execute(_READ_MARKER_6.format("read_marker"))
            elif version < 6:
                for statement in _SCHEMA_6:
                    connection.execute(statement)
            # Written every time: this is what finds a file that cannot be
            # written (taking the write lock does not).
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            (largest,) = connection.execute("SELECT max(id) FROM history").fetchone()
            marks = connection.execute("SELECT high FROM id_mark").fetchall()
            lastId = max([int(largest or 0), *(int(high) for (high,) in marks)])
            reserved = lastId + ID_BLOCK
            if marks:
                connection.execute("UPDATE id_mark SET high = ?", (reserved,))
            else:
                connection.execute("INSERT INTO id_mark VALUES (?)", (reserved,))
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return lastId, reserved

    def _connected(self, connection: sqlite3.Connection) -> None:
        """
        Set up a connection the pool has opened.
        """
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.create_function("name_key", 1, name_key, deterministic=True)
        connection.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        if self._onConnect is not None:
            self._onConnect(connection)

    def start(self) -> Deferred[None]:
        """
        Open the pool and start trimming (at once, then every
        L{TRIM_INTERVAL} seconds); L{check} the file first if that has not
        been done.

        @return: A L{Deferred} that fails with L{HistoryUnavailable} if the
            file cannot be used.
        """
        if self._pool is not None:
            return defer.succeed(None)
        if self._lastId is None:
            try:
                self.check()
            except HistoryUnavailable:
                return defer.fail()
        self._stopping = False
        self._pool = adbapi.ConnectionPool(
            "sqlite3",
            self.path,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT,
            cp_min=1,
            cp_max=1,
            cp_openfun=self._connected,
            cp_reactor=self._reactor,
        )
        if self._threadpool is not None:
            self._pool.threadpool = self._threadpool
        assert self._lastId is not None
        self._paceMark = (self._clock().seconds(), self._lastId)
        self._trimCall = LoopingCall(self._trim)
        self._trimCall.clock = self._clock()
        self._trimCall.start(TRIM_INTERVAL, now=True)
        if self._pending:
            self._scheduleFlush(FLUSH_DELAY)
        return defer.succeed(None)

    def stop(self) -> Deferred[None]:
        """
        Stop trimming, write what is pending (a batch at a time, until one
        fails: one last try), close the pool.
        """
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        pool = self._pool
        if pool is None:
            return
        self._stopping = True
        if self._trimCall is not None and self._trimCall.running:
            self._trimCall.stop()
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        if self._trimming is not None:
            await self._trimming
        if self._writing is not None:
            await self._writing
        await self._stateWrite
        while self._pending:
            failures = self.writeFailures
            await self._flush()
            if self.writeFailures > failures:
                break
        if self._pending:
            log.error(
                "History: {count} lines could not be written and are lost",
                chat_event="error",
                count=len(self._pending),
            )
            self._pending.clear()
            self._unwritten.clear()
        if self._lastId is not None:
            # Give back the ids reserved but not given; if that cannot be
            # written, they are only skipped.  Started again, the store
            # reserves anew.
            self._reserved = self._lastId
            giving: Deferred[None] = pool.runInteraction(_set_mark, self._lastId)
            await giving.addErrback(lambda reason: None)
        pool.close()
        self._pool = None

    # Moderation state (IModerationStore)

    def loadModeration(self) -> Deferred[list[StateRecord]]:
        """
        @return: A L{Deferred} firing with every moderation record kept.
        """
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))
        rows: Deferred[list[tuple[str, str, str, str]]] = self._pool.runQuery(
            "SELECT kind, scope, key, value FROM moderation"
        )
        return rows.addCallback(lambda found: [StateRecord(*row) for row in found])

    def putModeration(self, record: StateRecord) -> None:
        self._writeState(
            "INSERT OR REPLACE INTO moderation VALUES (?, ?, ?, ?)",
            (record.kind, record.scope, record.key, record.value),
        )

    def deleteModeration(self, kind: str, scope: str, key: str) -> None:
        self._writeState(
            "DELETE FROM moderation WHERE kind = ? AND scope = ? AND key = ?",
            (kind, scope, key),
        )

    def expireModeration(self, record: StateRecord) -> Deferred[bool]:
        """
        Forget the ban C{record} that ended: this node is the only one.
        """
        self.deleteModeration(record.kind, record.scope, record.key)
        return defer.succeed(True)

    def _writeState(self, statement: str, arguments: tuple[str, ...]) -> None:
        """
        Write a change of the moderation state behind, after the changes
        before it; a failure is logged (the state in memory holds).
        """
        pool = self._pool
        if pool is None or self._stopping:
            log.warn(
                "Moderation change not kept: the history file is closed",
                chat_event="error",
            )
            return

        def failed(reason: Failure) -> None:
            log.error(
                "Keeping a moderation change in {path} failed: {why}",
                chat_event="error",
                path=self.path,
                why=reason.getErrorMessage(),
            )

        def write(ignored: object) -> Deferred[None]:
            written: Deferred[None] = pool.runOperation(statement, arguments)
            return written.addErrback(failed)

        self._stateWrite = self._stateWrite.addCallback(write)

    def append(
        self, roomKey: str, *, room: str, kind: str, sender: str, text: str, time: float
    ) -> HistoryEntry:
        """
        Keep one line: it is written a moment later, with whatever else is
        appended meanwhile.

        @return: The entry, with its new id.
        @raise HistoryUnavailable: If the file was never checked or started,
            so the ids to give are not known.
        """
        if self._lastId is None:
            raise self._unavailable("the store was not checked or started")
        if self._lastId >= self._reserved and not self._unreserved:
            self._reserveNow()
        self._lastId += 1
        entry = HistoryEntry(self._lastId, room, time, kind, sender, text)
        pending = self._pending
        pending.append((roomKey, entry))
        waiting = self._unwritten.get(roomKey)
        if waiting is None:
            waiting = self._unwritten[roomKey] = deque()
        waiting.append(entry)
        if len(pending) > min(MAX_PENDING, MAX_BACKLOG):
            self._keep(())
        self._touched.add(roomKey)
        if self._flushCall is None and self._writing is None:
            self._scheduleFlush(FLUSH_DELAY)
        return entry

    def _reserveNow(self) -> None:
        """
        Reserve the next block of ids at once, on a connection of its own
        in the calling thread: all ids reserved are given and the write
        reserving more has not been done yet.  If it cannot be written, give
        ids unreserved until a write reserves them.

        While a write or a trim is under way, the store's own connection
        holds the file (or will again before long): another connection
        would only wait for it (the chat stopped meanwhile) and then fail
        ("database is locked"), so ids are given unreserved at once, and the
        next write reserves them.
        """
        assert self._lastId is not None
        high = self._lastId + ID_BLOCK
        if self._writing is not None or self._trimming is not None:
            self._giveUnreserved("a write holds the file")
            return
        try:
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None
            )
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(_RAISE_MARK, (high,))
                connection.execute("COMMIT")
            finally:
                connection.close()
        except sqlite3.Error as error:
            self._giveUnreserved(str(error))
        else:
            self._reserved = high

    def _giveUnreserved(self, why: str) -> None:
        self._unreserved = True
        log.error(
            "History ids cannot be reserved ({why}); until a write works"
            " again, a crash may give an id twice",
            chat_event="error",
            why=_one_line(why),
        )

    def _nextReservation(self) -> int | None:
        """
        @return: The new mark of the ids reserved, if the next write should
            reserve more: fewer than half of what is reserved ahead is left
            (L{RESERVE_SECONDS} of ids at the pace they were given since the
            last write, at least L{ID_BLOCK}), or ids are given unreserved.
        """
        assert self._lastId is not None
        now = self._clock().seconds()
        then, given = self._paceMark
        self._paceMark = (now, self._lastId)
        pace = (self._lastId - given) / max(now - then, FLUSH_DELAY)
        ahead = max(ID_BLOCK, int(pace * RESERVE_SECONDS))
        if self._reserved - self._lastId >= ahead // 2:
            return None
        return max(self._reserved, self._lastId) + ahead

    def _keep(
        self, entries: Sequence[_Pending], first: bool = False, failed: bool = False
    ) -> None:
        """
        Add entries to the pending ones, dropping the oldest beyond
        L{MAX_PENDING} while writes fail, beyond L{MAX_BACKLOG} while they
        work.

        @param first: Whether C{entries} come before those pending (a batch
            that could not be written) rather than after them.
        @param failed: Whether a write has just failed.
        """
        if first:
            self._pending.extendleft(reversed(entries))
        else:
            self._pending.extend(entries)
        failing = failed or self._failing
        bound = MAX_PENDING if failing else MAX_BACKLOG
        if len(self._pending) <= bound:
            return
        if not failing and not self._backlogFull:
            self._backlogFull = True
            log.error(
                "History writes fall behind: more than {bound} lines wait to be"
                " written, the oldest are dropped",
                chat_event="error",
                bound=bound,
            )
        while len(self._pending) > bound:
            roomKey, entry = self._pending.popleft()
            self._forget(roomKey, entry)
            self._dropped += 1

    def _forget(self, roomKey: str, entry: HistoryEntry) -> None:
        """
        Take C{entry} out of the entries not written by room (it is dropped:
        not the oldest of its room if some of those are being written).
        """
        room = self._unwritten[roomKey]
        if room[0] is entry:
            room.popleft()
        else:
            room.remove(entry)
        if not room:
            del self._unwritten[roomKey]

    def _scheduleFlush(self, delay: float) -> None:
        if self._pool is None or self._stopping:
            return
        if self._writing is not None or self._flushCall is not None:
            return
        self._flushCall = self._clock().callLater(delay, self._flush)

    def _flush(self) -> Deferred[None]:
        """
        Write the pending entries in one transaction.

        @return: A L{Deferred} that fires, never failing, once that is done
            (or has failed).
        """
        self._flushCall = None
        pending = self._pending
        if self._pool is None or not pending or self._writing is not None:
            return defer.succeed(None)
        if len(pending) <= WRITE_BATCH:
            batch = list(pending)
            pending.clear()
        else:
            batch = [pending.popleft() for _ in range(WRITE_BATCH)]
        self._inFlight = batch
        reserve = self._nextReservation()
        self._writeStarted = self._clock().seconds()
        writing: Deferred[None] = self._pool.runInteraction(_insert, batch, reserve)
        writing.addCallbacks(
            self._written,
            self._notWritten,
            callbackArgs=(reserve,),
            errbackArgs=(batch,),
        )
        if not writing.called:
            self._writing = writing
        return writing

    def _written(self, byRoom: dict[str, int], reserved: int | None) -> None:
        took = self._clock().seconds() - self._writeStarted
        self.writes += 1
        self.writeSeconds += took
        self.writeLatency.observe(took)
        unwritten = self._unwritten
        # A batch is the oldest lines waiting, so each its room's oldest.
        for roomKey, count in byRoom.items():
            room = unwritten[roomKey]
            if count == len(room):
                del unwritten[roomKey]
            else:
                for _ in repeat(None, count):
                    room.popleft()
        self._inFlight = []
        self._writing = None
        if reserved is not None:
            self._reserved = max(self._reserved, reserved)
            if self._unreserved and self._lastId is not None:
                self._unreserved = self._lastId > self._reserved
                if not self._unreserved:
                    log.info("History ids are reserved again", chat_event="history")
        if self._failing:
            self._failing = False
            self._retryDelay = RETRY_FIRST
            if self._dropped:
                log.warn(
                    "History writes resumed; {dropped} older lines kept in"
                    " memory meanwhile were dropped",
                    chat_event="error",
                    dropped=self._dropped,
                )
            else:
                log.info("History writes resumed", chat_event="history")
            self._dropped = 0
        if self._backlogFull and len(self._pending) <= WRITE_BATCH:
            self._backlogFull = False
            log.warn(
                "History writes caught up; {dropped} lines that waited were dropped",
                chat_event="error",
                dropped=self._dropped,
            )
            self._dropped = 0
        if self._pending:
            # A full batch waiting is written at once: waiting would not
            # make it larger.
            full = len(self._pending) >= WRITE_BATCH
            self._scheduleFlush(0 if full else FLUSH_DELAY)

    def _notWritten(self, reason: Failure, batch: list[_Pending]) -> None:
        self.writeFailures += 1
        self._inFlight = []
        self._writing = None
        self._keep(batch, first=True, failed=True)
        if self._stopping:
            return
        if not self._failing:
            self._failing = True
            self._retryDelay = RETRY_FIRST
            log.error(
                "History writes are failing ({why}); lines are kept in memory"
                " and retried",
                chat_event="error",
                why=_one_line(reason.getErrorMessage()),
            )
        else:
            self._retryDelay = min(self._retryDelay * 2, RETRY_MOST)
        self._flushCall = self._clock().callLater(self._retryDelay, self._flush)

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        """
        Read a page of a room's history, as L{HistoryStore.query} says,
        entries not written yet included.

        @return: A L{Deferred} that fails if the file cannot be read.
        """
        limit = min(limit, MAX_PAGE)
        if limit <= 0:
            return defer.succeed([])
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))
        since = self._clock().seconds() - self.keepSeconds
        unwritten = list(self._unwritten.get(roomKey, ()))
        reading: Deferred[list[HistoryEntry]] = self._pool.runInteraction(
            _select, roomKey, limit, before=before, after=after, since=since
        )

        def merge(written: list[HistoryEntry]) -> list[HistoryEntry]:
            byId = {entry.id: entry for entry in chain(written, unwritten)}
            entries = [byId[id] for id in sorted(byId)]
            return select_page(entries, limit, before, after, since)

        return reading.addCallback(merge)

    def readMarkers(self, account: str) -> Deferred[dict[str, ReadMarker]]:
        """
        @return: A L{Deferred} firing with C{account}'s read markers (see
            L{chatserver.state.markers.MarkerStore}), or failing if the
            file cannot be read.
        """
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))
        reading: Deferred[dict[str, ReadMarker]] = self._pool.runInteraction(
            _read_markers, account
        )
        return reading

    def setReadMarker(
        self, account: str, target: str, marker: ReadMarker
    ) -> Deferred[ReadMarker]:
        """
        Keep C{marker} unless the one kept is as far (see
        L{chatserver.state.markers.MarkerStore}).

        @return: A L{Deferred} firing with the marker kept now, or failing
            if the file cannot be written.
        """
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))
        setting: Deferred[ReadMarker] = self._pool.runInteraction(
            _set_marker, account, target, marker
        )
        return setting

    def search(
        self,
        roomKeys: Sequence[str],
        query: SearchQuery,
        limit: int,
        before: int | None = None,
    ) -> Deferred[SearchPage]:
        """
        Find lines as L{HistoryStore.search} says, with the file's FTS5
        index, entries not written yet included.  Lines are given newest
        first, not by rank: a chat search asks when something was said, and
        pages by id never skip nor repeat a line.

        @return: A L{Deferred} that fails with L{HistoryUnavailable} if the
            file cannot be read.
        """
        limit = max(1, min(limit, MAX_PAGE))
        if self._pool is None:
            return defer.fail(self._unavailable("the store is not started"))
        wanted = set(roomKeys)
        keys = sorted(wanted)
        if not keys or not query.terms:
            return defer.succeed(SearchPage((), None))
        since = self._clock().seconds() - self.keepSeconds
        unwritten = [
            entry
            for key in keys
            for entry in self._unwritten.get(key, ())
            if (before is None or entry.id < before)
            and entry.time >= since
            and query.matches(entry)
        ]
        reading: Deferred[list[HistoryEntry]] = self._pool.runInteraction(
            _search, keys, query, limit, before=before, since=since
        )

        def merge(written: list[HistoryEntry]) -> SearchPage:
            byId = {entry.id: entry for entry in chain(written, unwritten)}
            found = tuple(byId[id] for id in sorted(byId, reverse=True)[:limit])
            return SearchPage(found, found[-1].id if len(found) == limit else None)

        def failed(reason: Failure) -> Failure:
            if reason.check(sqlite3.Error):
                raise self._unavailable(reason.getErrorMessage())
            return reason

        return reading.addCallbacks(merge, failed)

    def _trim(self) -> Deferred[None]:
        """
        Delete what is beyond the limits, unless a trim is still running.

        @return: A L{Deferred} that fires, never failing, when done.
        """
        if self._trimming is not None:
            return defer.succeed(None)
        trimming = Deferred.fromCoroutine(self._trimSteps())
        trimming.addErrback(self._trimFailed)
        if not trimming.called:
            self._trimming = trimming
        return trimming

    async def _trimSteps(self) -> None:
        """
        Delete the entries too old, then the oldest of each room beyond
        C{maxPerRoom} (all rooms the first time, after that the rooms
        appended to since), at most L{TRIM_BATCH} per transaction.
        """
        pool = self._pool
        assert pool is not None
        since = self._clock().seconds() - self.keepSeconds
        total = 0
        while not self._stopping:
            deleted = await pool.runInteraction(_delete_old, since, TRIM_BATCH)
            total += deleted
            if deleted < TRIM_BATCH:
                break
            await self._pause()
        rooms, self._touched = self._touched, set()
        if not self._trimmedOnce:
            rows = await pool.runQuery("SELECT DISTINCT room_key FROM history")
            rooms.update(row[0] for row in rows)
        for roomKey in sorted(rooms):
            while not self._stopping:
                deleted = await pool.runInteraction(
                    _delete_surplus, roomKey, self.maxPerRoom, TRIM_BATCH
                )
                total += deleted
                if deleted < TRIM_BATCH:
                    break
                await self._pause()
        if total and not self._stopping:
            await self._compact()
        self._trimmedOnce = True
        self._trimming = None
        if self._trimFailing:
            self._trimFailing = False
            log.info("History trimming works again", chat_event="history")

    def _pause(self) -> Deferred[None]:
        """
        @return: A L{Deferred} that fires L{TRIM_PAUSE} seconds from now.
        """
        return deferLater(self._clock(), TRIM_PAUSE)

    async def _compact(self) -> None:
        """
        After a trim that deleted lines: give the pages they took back to
        the file system, L{VACUUM_PAGES} at a time (on a file made with
        C{auto_vacuum=INCREMENTAL}; an older file keeps them for the lines
        to come), then empty the write-ahead log, so that neither file
        outgrows the lines kept.
        """
        pool = self._pool
        assert pool is not None
        while not self._stopping:
            left = await pool.runInteraction(_vacuum_some, VACUUM_PAGES)
            if not left:
                break
            await self._pause()
        if not self._stopping:
            await pool.runInteraction(_checkpoint)

    def _trimFailed(self, reason: Failure) -> None:
        self._trimming = None
        if not self._trimFailing:
            self._trimFailing = True
            log.error(
                "History trimming is failing ({why}); it is retried later",
                chat_event="error",
                why=_one_line(reason.getErrorMessage()),
            )


def _insert(
    transaction: Any, batch: list[_Pending], reserve: int | None
) -> dict[str, int]:
    """
    Write lines and, if C{reserve} is given, reserve the ids up to it, in
    one transaction, in the pool's thread: the lines L{STATEMENT_LINES} at
    a time, each time as one JSON text (a float's shortest C{repr} reads
    back as the same float).

    @return: How many lines of each room were written.
    """
    for start in range(0, len(batch), STATEMENT_LINES):
        rows = json.dumps(
            [
                (e.id, key, e.room, e.time, e.kind, e.sender, e.text)
                for key, e in batch[start : start + STATEMENT_LINES]
            ],
            ensure_ascii=False,
            check_circular=False,
        )
        transaction.execute(_INSERT, (rows,))
    if reserve is not None:
        transaction.execute(_RAISE_MARK, (reserve,))
    return Counter(key for key, _ in batch)


def _read_markers(transaction: Any, account: str) -> dict[str, ReadMarker]:
    transaction.execute(
        "SELECT target, id, stamp FROM read_marker WHERE account = ?", (account,)
    )
    return {
        str(target): ReadMarker(id, stamp)
        for target, id, stamp in transaction.fetchall()
    }


def _set_marker(
    transaction: Any, account: str, target: str, marker: ReadMarker
) -> ReadMarker:
    transaction.execute(
        "SELECT id, stamp FROM read_marker WHERE account = ? AND target = ?",
        (account, target),
    )
    row = transaction.fetchone()
    kept = farther(None if row is None else ReadMarker(*row), marker)
    transaction.execute(
        "INSERT OR REPLACE INTO read_marker (account, target, id, stamp)"
        " VALUES (?, ?, ?, ?)",
        (account, target, kept.id, kept.stamp),
    )
    return kept


def _set_mark(transaction: Any, high: int) -> None:
    """
    Set the mark of the ids reserved, down to the last id given when the
    store stops.
    """
    transaction.execute("UPDATE id_mark SET high = ?", (high,))


def _select(
    transaction: Any,
    roomKey: str,
    limit: int,
    *,
    before: int | None,
    after: int | None,
    since: float,
) -> list[HistoryEntry]:
    """
    Read one page from the file.
    """
    where = ["room_key = ?", "time >= ?"]
    arguments: list[object] = [roomKey, since]
    if before is not None:
        where.append("id < ?")
        arguments.append(before)
    if after is not None:
        where.append("id > ?")
        arguments.append(after)
    order = "ASC" if after is not None else "DESC"
    transaction.execute(
        "SELECT id, room, time, kind, sender, text FROM history"
        f" WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",
        [*arguments, limit],
    )
    entries = [HistoryEntry(*row) for row in transaction.fetchall()]
    if after is None:
        entries.reverse()
    return entries


def _search(
    transaction: Any,
    roomKeys: list[str],
    query: SearchQuery,
    limit: int,
    *,
    before: int | None,
    since: float,
) -> list[HistoryEntry]:
    """
    Find one page of lines in the file, newest first.
    """
    where = [
        "history_fts MATCH ?",
        f"h.room_key IN ({', '.join('?' * len(roomKeys))})",
        "h.time >= ?",
    ]
    arguments: list[object] = [fts_query(query.terms), *roomKeys, since]
    if before is not None:
        where.append("history_fts.rowid < ?")
        arguments.append(before)
    if query.since is not None:
        where.append("h.time >= ?")
        arguments.append(query.since)
    if query.until is not None:
        where.append("h.time < ?")
        arguments.append(query.until)
    if query.senderKey is not None:
        where.append("name_key(h.sender) = ?")
        arguments.append(query.senderKey)
    transaction.execute(
        "SELECT h.id, h.room, h.time, h.kind, h.sender, h.text"
        " FROM history_fts JOIN history AS h ON h.id = history_fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY history_fts.rowid DESC LIMIT ?",
        [*arguments, limit],
    )
    return [HistoryEntry(*row) for row in transaction.fetchall()]


def _vacuum_some(transaction: Any, pages: int) -> int:
    """
    Give at most C{pages} free pages back to the file system, if the file
    was made with C{auto_vacuum=INCREMENTAL}.

    @return: How many free pages are left to give back (0 for a file that
        cannot).
    """
    (mode,) = transaction.execute("PRAGMA auto_vacuum").fetchone()
    if mode != 2:
        return 0
    # Each step of the statement frees one page: executescript steps it to
    # the end (execute would stop after the first).
    transaction.executescript(f"PRAGMA incremental_vacuum({pages})")
    (left,) = transaction.execute("PRAGMA freelist_count").fetchone()
    return int(left)


def _checkpoint(transaction: Any) -> None:
    """
    Copy the write-ahead log into the file and empty it.
    """
    transaction.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _delete_old(transaction: Any, since: float, batch: int) -> int:
    """
    Delete at most C{batch} entries older than C{since}, sparing the newest
    entry of the file (it holds the largest id given).

    @return: How many were deleted.
    """
    transaction.execute(
        "DELETE FROM history WHERE id IN (SELECT id FROM history"
        " WHERE time < ? AND id < (SELECT max(id) FROM history) LIMIT ?)",
        (since, batch),
    )
    return int(transaction.rowcount)


def _delete_surplus(transaction: Any, roomKey: str, keep: int, batch: int) -> int:
    """
    Delete at most C{batch} of the oldest entries of a room beyond its newest
    C{keep}.

    @return: How many were deleted.
    """
    transaction.execute(
        "SELECT id FROM history WHERE room_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
        (roomKey, keep),
    )
    row = transaction.fetchone()
    if row is None:
        return 0
    transaction.execute(
        "DELETE FROM history WHERE id IN (SELECT id FROM history"
        " WHERE room_key = ? AND id <= ? ORDER BY id LIMIT ?)",
        (roomKey, row[0], batch),
    )
    return int(transaction.rowcount)
