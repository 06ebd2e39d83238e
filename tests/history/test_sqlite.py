"""
The SQLite history store, on real files, with the pool's work run in the
calling thread (L{tests.history.support}) and a L{Clock} for its timers.
"""

import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from typing import cast

import pytest
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, globalLogPublisher
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.history import sqlite
from chatserver.history.sqlite import (
    FLUSH_DELAY,
    RETRY_FIRST,
    RETRY_MOST,
    TRIM_INTERVAL,
    TRIM_PAUSE,
    SQLiteHistory,
)
from chatserver.history.store import (
    MAX_PAGE,
    MESSAGE,
    HistoryEntry,
    HistoryUnavailable,
)
from tests.history.support import CallingThreadPool, ThreadlessReactor, result


class Opened:
    """
    A store on a file, with its clock and thread pool, and the connections
    its pool opened.
    """

    def __init__(self, path, pageLimit=None, **kw):
        """
        @param pageLimit: If given, the most pages the file may hold, for
            the store's connections: a full disk, for real.
        """
        self.clock = Clock()
        self.threadpool = CallingThreadPool()
        self.connections = []
        self.pageLimit = pageLimit
        self.store = SQLiteHistory(
            str(path),
            clock=self.clock,
            reactor=ThreadlessReactor(),
            threadpool=self.threadpool,
            onConnect=self.connected,
            **kw,
        )

    def connected(self, connection):
        if self.pageLimit is not None:
            connection.execute(f"PRAGMA max_page_count={self.pageLimit}")
        self.connections.append(connection)

    def diskFreed(self):
        for connection in self.connections:
            connection.execute("PRAGMA max_page_count=1000000")

    def start(self):
        self.store.check()
        assert result(self.store.start()) is None
        return self

    def stop(self):
        assert result(self.store.stop()) is None
        assert self.clock.getDelayedCalls() == []
        assert self.threadpool.stopped

    def say(self, roomKey, text, time=None):
        if time is None:
            time = self.clock.seconds()
        return self.store.append(
            roomKey,
            room=roomKey.title(),
            kind=MESSAGE,
            sender="ann",
            text=text,
            time=time,
        )

    def texts(self, roomKey, limit=MAX_PAGE, **kw):
        return [entry.text for entry in result(self.store.query(roomKey, limit, **kw))]

    def flush(self):
        self.clock.advance(FLUSH_DELAY)


def rows(path):
    """
    @return: The texts in the file, by id, read by a connection of its own.
    """
    connection = sqlite3.connect(path)
    try:
        return [text for (text,) in connection.execute("SELECT text FROM history")]
    finally:
        connection.close()


@pytest.fixture
def events():
    """
    The chat server's log events while the test runs.
    """
    seen = []

    def observe(event):
        if event.get("log_namespace") == LOG_NAMESPACE:
            seen.append(event)

    observer = cast(ILogObserver, observe)
    globalLogPublisher.addObserver(observer)
    yield seen
    globalLogPublisher.removeObserver(observer)


def test_history_survives_a_restart_and_ids_keep_growing(tmp_path):
    path = tmp_path / "chat.db"
    first = Opened(path).start()
    ids = [first.say(room, text).id for room, text in [("#a", "1"), ("#b", "2")]]
    ids.append(first.say("#a", "3").id)
    assert ids == [1, 2, 3]
    first.flush()
    assert rows(path) == ["1", "2", "3"]
    first.stop()

    second = Opened(path).start()
    assert second.texts("#a") == ["1", "3"]
    assert second.say("#b", "4").id == 4
    second.stop()


def mark(path):
    """
    @return: The largest id reserved in the file, read by a connection of
        its own.
    """
    connection = sqlite3.connect(path)
    try:
        ((high,),) = connection.execute("SELECT high FROM id_mark").fetchall()
        return high
    finally:
        connection.close()


def test_an_id_given_but_not_written_is_never_given_again(tmp_path):
    """
    Finding 6 of issue 19: a server killed before it wrote a line it gave
    an id (the lines wait L{FLUSH_DELAY} to be written together) gave that
    id again to another line after its restart.
    """
    path = tmp_path / "chat.db"
    killed = Opened(path).start()
    killed.say("#a", "written")
    killed.flush()
    given = killed.say("#a", "given, never written")
    # Killed here: nothing more is written, nothing is stopped.
    assert rows(path) == ["written"]
    again = Opened(path).start()
    assert again.texts("#a") == ["written"]
    assert again.say("#a", "after the restart").id > given.id
    again.stop()


def test_ids_are_reserved_in_the_file_before_they_are_given(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    assert mark(path) == sqlite.ID_BLOCK
    assert opened.say("#a", "1").id == 1
    assert mark(path) == sqlite.ID_BLOCK
    opened.stop()


def test_the_next_block_is_reserved_with_the_lines_once_half_is_given(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(sqlite, "ID_BLOCK", 10)
    monkeypatch.setattr(sqlite, "RESERVE_SECONDS", 0)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    statements: list[str] = []
    opened.connections[0].set_trace_callback(statements.append)
    for n in range(5):
        opened.say("#a", str(n))
    opened.flush()
    assert not any("id_mark" in s for s in statements)
    assert mark(path) == 10
    opened.say("#a", "6")
    opened.flush()
    # The lines and the reservation, in one transaction.
    assert [s.split()[0] for s in statements if "COMMIT" in s or "id_mark" in s] == [
        "COMMIT",
        "UPDATE",
        "COMMIT",
    ]
    assert mark(path) == 20
    opened.stop()


def test_a_block_given_while_a_write_holds_the_file_is_reserved_by_the_next(
    tmp_path, monkeypatch, events
):
    """
    While a write is in flight (the pool is busy), the store's own
    connection holds the file: should the ids reserved run out meanwhile,
    they are given unreserved at once, logged once, rather than the chat
    waiting on a connection of its own for a lock it holds itself (issue
    24: "database is locked" after a second's stall); the next write
    reserves them.
    """
    monkeypatch.setattr(sqlite, "ID_BLOCK", 4)
    monkeypatch.setattr(sqlite, "RESERVE_SECONDS", 0)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    opened.threadpool.held = True
    opened.say("#a", "0")
    opened.flush()
    ids = [opened.say("#a", str(n)).id for n in range(1, 10)]
    assert ids == list(range(2, 11))
    assert mark(path) == 4
    unreserved = [e for e in events if "cannot be reserved" in e["log_format"]]
    assert len(unreserved) == 1
    opened.threadpool.release()
    opened.flush()
    assert rows(path) == [str(n) for n in range(10)]
    assert mark(path) >= 10
    opened.stop()


def test_ids_are_reserved_ahead_for_the_pace_they_are_given_at(
    tmp_path, monkeypatch, events
):
    """
    Issue 24: 10,000 ids lasted half a second at 20,000 lines a second,
    less than a write took on a busy machine.  A write reserves
    RESERVE_SECONDS of ids at the pace they were given since the last, so
    that a write that holds the file a while leaves enough.
    """
    monkeypatch.setattr(sqlite, "ID_BLOCK", 10)
    monkeypatch.setattr(sqlite, "RESERVE_SECONDS", 30.0)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(10):
        opened.say("#a", str(n))
    # Written a second after the start: 10 ids a second, so 300 are
    # reserved ahead of the 10th.
    opened.clock.advance(1.0)
    assert mark(path) == 10 + 300
    opened.threadpool.held = True
    opened.say("#a", "held")
    opened.flush()
    for n in range(100):
        assert opened.say("#a", str(n)).id <= mark(path)
    assert [e for e in events if "cannot be reserved" in e["log_format"]] == []
    opened.threadpool.release()
    opened.stop()


def test_ids_given_while_none_can_be_reserved_are_logged_once(
    tmp_path, monkeypatch, events
):
    """
    When the file cannot be written, ids are given unreserved rather than
    the chat stopping: that is logged once, and so is the end of it, when a
    write reserves them after all.
    """
    monkeypatch.setattr(sqlite, "ID_BLOCK", 4)
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT", 0.01)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    ids = [opened.say("#a", str(n)).id for n in range(8)]
    assert ids == list(range(1, 9))
    unreserved = [e for e in events if "cannot be reserved" in e["log_format"]]
    assert len(unreserved) == 1
    assert "locked" in unreserved[0]["why"]
    other.execute("ROLLBACK")
    other.close()
    opened.clock.advance(RETRY_MOST)
    assert rows(path) == [str(n) for n in range(8)]
    assert mark(path) >= 8
    again = [e for e in events if "reserved again" in e["log_format"]]
    assert len(again) == 1
    opened.stop()


def test_a_clean_stop_gives_back_the_ids_not_given(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    opened.say("#a", "1")
    opened.say("#a", "2")
    opened.stop()
    assert mark(path) == 2


def test_a_file_of_schema_1_gets_its_ids_reserved(tmp_path):
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    for statement in sqlite._SCHEMA_1:
        connection.execute(statement)
    connection.execute(
        "INSERT INTO history VALUES (7, '#a', '#a', 0, 'message', 'ann', 'old')"
    )
    connection.execute("PRAGMA user_version=1")
    connection.commit()
    connection.close()
    opened = Opened(path).start()
    assert opened.say("#a", "new").id == 8
    assert mark(path) == 7 + sqlite.ID_BLOCK
    opened.stop()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (
        sqlite.SCHEMA_VERSION,
    )
    connection.close()


def test_stop_writes_what_is_pending(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(5):
        opened.say("#a", str(n))
    opened.stop()
    assert rows(path) == ["0", "1", "2", "3", "4"]


def test_a_burst_is_written_once(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    statements: list[str] = []
    opened.connections[0].set_trace_callback(statements.append)
    for n in range(50):
        opened.say("#a", str(n))
    assert rows(path) == []
    opened.flush()
    assert len(rows(path)) == 50
    # One statement for all the lines (traced again for each trigger).
    assert len({s for s in statements if s.startswith("INSERT INTO history (")}) == 1
    assert sum(s == "COMMIT" for s in statements) == 1
    opened.stop()


def test_a_query_sees_entries_not_yet_written(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    opened.say("#a", "written")
    opened.flush()
    opened.say("#a", "pending")
    opened.say("#b", "elsewhere")
    assert opened.texts("#a") == ["written", "pending"]
    assert opened.texts("#a", limit=1) == ["pending"]
    assert opened.texts("#a", after=1) == ["pending"]
    assert opened.texts("#a", before=2) == ["written"]
    opened.stop()


def test_a_query_sees_entries_being_written(tmp_path):
    """
    Entries in the transaction being written are given once, whether the
    query reads the file before or after the transaction is done.
    """
    opened = Opened(tmp_path / "chat.db").start()
    opened.say("#a", "1")
    opened.threadpool.held = True
    opened.flush()
    # The write waits in the pool; a query now reads after it.
    after = opened.store.query("#a", 10)
    opened.say("#a", "2")
    opened.flush()
    # A second write waits for the first: nothing is scheduled but the
    # trimming.
    assert len(opened.clock.getDelayedCalls()) == 1
    opened.threadpool.release()
    assert [e.text for e in result(after)] == ["1"]
    opened.flush()
    assert opened.texts("#a") == ["1", "2"]
    assert rows(opened.store.path) == ["1", "2"]
    opened.stop()


def test_pages(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    for n in range(1, 11):
        opened.say("#a", str(n))
        opened.say("#b", "other")
        if n == 5:
            opened.flush()
    # Ids of room #a: 1, 3, 5, ..., 19 for texts 1..10; 1..5 are written.
    for _ in range(2):
        assert opened.texts("#a", 3) == ["8", "9", "10"]
        assert opened.texts("#a", 3, before=9) == ["2", "3", "4"]
        assert opened.texts("#a", 3, after=9) == ["6", "7", "8"]
        assert opened.texts("#a", 10, after=3, before=9) == ["3", "4"]
        assert opened.texts("#a", 3, after=7, before=15) == ["5", "6", "7"]
        assert opened.texts("#a", 0) == []
        assert opened.texts("#a", 5, before=1) == []
        assert opened.texts("#a", 5, after=19) == []
        assert opened.texts("#nobody", 5) == []
        opened.flush()
    entry = result(opened.store.query("#a", 1))[0]
    assert entry == HistoryEntry(19, "#A", FLUSH_DELAY, MESSAGE, "ann", "10")
    opened.stop()


def test_limit_is_capped(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    for n in range(MAX_PAGE + 50):
        opened.say("#a", str(n))
        if n == MAX_PAGE:
            opened.flush()
    page = opened.texts("#a", 10 * MAX_PAGE)
    assert page == [str(n) for n in range(50, MAX_PAGE + 50)]
    opened.flush()
    assert opened.texts("#a", 10 * MAX_PAGE, after=0) == [
        str(n) for n in range(MAX_PAGE)
    ]
    opened.stop()


def test_a_room_keeps_its_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "TRIM_BATCH", 2)
    path = tmp_path / "chat.db"
    opened = Opened(path, maxPerRoom=3).start()
    for n in range(8):
        opened.say("#a", str(n))
    opened.say("#b", "b")
    opened.flush()
    opened.clock.advance(TRIM_INTERVAL)
    # Two full batches of 2, each followed by a pause.
    opened.clock.advance(TRIM_PAUSE)
    opened.clock.advance(TRIM_PAUSE)
    assert rows(path) == ["5", "6", "7", "b"]
    assert opened.texts("#a") == ["5", "6", "7"]
    opened.stop()


def test_trimming_pauses_after_each_full_batch(tmp_path, monkeypatch):
    """
    Ergo's way: the deletes of a trim come in batches of TRIM_BATCH with a
    pause of TRIM_PAUSE after each full one, so that the lines being written
    never wait behind a long run of deletes.
    """
    monkeypatch.setattr(sqlite, "TRIM_BATCH", 2)
    path = tmp_path / "chat.db"
    opened = Opened(path, maxPerRoom=1).start()
    for n in range(6):
        opened.say("#a", str(n))
    opened.flush()
    opened.clock.advance(TRIM_INTERVAL)
    assert rows(path) == ["2", "3", "4", "5"]
    opened.clock.advance(TRIM_PAUSE / 2)
    assert rows(path) == ["2", "3", "4", "5"]
    opened.clock.advance(TRIM_PAUSE / 2)
    assert rows(path) == ["4", "5"]
    opened.clock.advance(TRIM_PAUSE)
    assert rows(path) == ["5"]
    opened.stop()


def test_old_entries_are_deleted_in_batches_with_pauses(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "TRIM_BATCH", 2)
    path = tmp_path / "chat.db"
    opened = Opened(path, keepSeconds=10).start()
    for n in range(5):
        opened.say("#a", str(n), time=0)
    opened.say("#a", "new", time=TRIM_INTERVAL)
    opened.flush()
    opened.clock.advance(TRIM_INTERVAL)
    assert rows(path) == ["2", "3", "4", "new"]
    opened.clock.advance(TRIM_PAUSE)
    assert rows(path) == ["4", "new"]
    opened.clock.advance(TRIM_PAUSE)
    assert rows(path) == ["new"]
    opened.stop()


def file_sizes(path):
    """
    @return: The free pages of the file, and the bytes of its write-ahead
        log, read by a connection of its own.
    """
    connection = sqlite3.connect(path)
    try:
        (free,) = connection.execute("PRAGMA freelist_count").fetchone()
    finally:
        connection.close()
    wal = pathlib.Path(f"{path}-wal")
    return free, wal.stat().st_size if wal.exists() else 0


def file_pages(path):
    """
    @return: The bytes of the pages of the file, its write-ahead log's
        included, read by a connection of its own.
    """
    connection = sqlite3.connect(path)
    try:
        (count,) = connection.execute("PRAGMA page_count").fetchone()
        (size,) = connection.execute("PRAGMA page_size").fetchone()
    finally:
        connection.close()
    return count * size


def test_a_new_file_gives_back_the_pages_trimming_freed(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path, maxPerRoom=1).start()
    # What the schema's tables and indexes take, whatever their number.
    empty = file_pages(path)
    for n in range(300):
        opened.say("#a", f"{n} " + "x" * 1000)
    opened.flush()
    full = path.stat().st_size + file_sizes(path)[1]
    opened.clock.advance(TRIM_INTERVAL)
    assert rows(path)[0].startswith("299 ")
    free, wal = file_sizes(path)
    assert free == 0
    # The log is emptied by a checkpoint, and the file shrinks (to the
    # pages of its tables and indexes, one or a few each).
    assert wal == 0
    assert path.stat().st_size - empty < (full - empty) / 5
    opened.stop()


def test_the_pages_freed_are_given_back_in_steps(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "VACUUM_PAGES", 20)
    path = tmp_path / "chat.db"
    opened = Opened(path, maxPerRoom=1).start()
    for n in range(300):
        opened.say("#a", f"{n} " + "x" * 1000)
    opened.flush()
    opened.clock.advance(TRIM_INTERVAL)
    # The first step gave back 20 pages; the next come TRIM_PAUSE apart.
    first, _ = file_sizes(path)
    assert first > 0
    opened.clock.advance(TRIM_PAUSE)
    assert 0 <= file_sizes(path)[0] == max(0, first - 20)
    for _ in range(first // 20):
        opened.clock.advance(TRIM_PAUSE)
    assert file_sizes(path) == (0, 0)
    opened.stop()


def test_a_file_made_without_incremental_vacuum_keeps_its_free_pages(tmp_path):
    """
    A file made before issue 24 (auto_vacuum NONE) keeps the pages trimming
    frees, for the lines to come: its size stays that of its fullest day.
    Its log is emptied all the same.
    """
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA auto_vacuum=NONE")
    for statement in sqlite._SCHEMA_1:
        connection.execute(statement)
    connection.execute("PRAGMA user_version=1")
    connection.commit()
    connection.close()
    opened = Opened(path, maxPerRoom=1).start()
    for n in range(300):
        opened.say("#a", f"{n} " + "x" * 1000)
    opened.flush()
    opened.clock.advance(TRIM_INTERVAL)
    assert rows(path)[0].startswith("299 ")
    free, wal = file_sizes(path)
    assert free > 50
    assert wal == 0
    opened.stop()


def test_the_first_trim_looks_at_every_room(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(4):
        opened.say("#a", str(n))
    opened.stop()
    smaller = Opened(path, maxPerRoom=2).start()
    assert rows(path) == ["2", "3"]
    smaller.stop()


def test_old_entries_are_never_given_and_are_trimmed(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path, keepSeconds=100).start()
    opened.say("#a", "old")
    opened.say("#b", "old b")
    opened.flush()
    opened.clock.advance(50)
    opened.say("#a", "new")
    # The trimming at 60 s deletes nothing; then the old entries are too old
    # to give, though not deleted before the trimming at 120 s.
    opened.clock.advance(15)
    opened.clock.advance(40)
    assert opened.texts("#a") == ["new"]
    assert opened.texts("#a", after=0) == ["new"]
    assert opened.texts("#b") == []
    assert rows(path) == ["old", "old b", "new"]
    opened.clock.advance(2 * TRIM_INTERVAL - opened.clock.seconds())
    assert rows(path) == ["new"]
    opened.stop()


def test_the_newest_entry_is_kept_so_ids_are_never_given_twice(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path, keepSeconds=10).start()
    opened.say("#a", "1")
    opened.say("#a", "2")
    opened.clock.advance(TRIM_INTERVAL)
    assert rows(path) == ["2"]
    assert opened.texts("#a") == []
    opened.stop()
    again = Opened(path, keepSeconds=10).start()
    assert again.say("#a", "3").id == 3
    again.stop()


def test_a_failed_read_fails_the_query(tmp_path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    other = sqlite3.connect(path)
    other.execute("DROP TABLE history")
    other.close()
    failure = result(opened.store.query("#a", 10))
    assert isinstance(failure, Failure)
    assert failure.check(sqlite3.OperationalError)
    opened.stop()


def test_a_full_disk_does_not_stop_the_chat(tmp_path, events):
    """
    While the file cannot grow, lines are kept in memory and given by
    queries; the failure is logged once, and everything is written when the
    file can grow again.
    """
    path = tmp_path / "chat.db"
    opened = Opened(path, pageLimit=1).start()
    big = "x" * 3000
    ids: list[int] = []
    for _ in range(10):
        for _ in range(5):
            ids.append(opened.say("#a", f"{len(ids)} {big}").id)
        opened.clock.advance(RETRY_MOST)
    assert ids == list(range(1, 51))
    assert rows(path) == []
    assert len(opened.texts("#a")) == 50
    failing = [e for e in events if e.get("chat_event") == "error"]
    assert len(failing) == 1
    assert "database or disk is full" in failing[0]["why"]

    opened.diskFreed()
    opened.clock.advance(RETRY_MOST)
    assert len(rows(path)) == 50
    resumed = [e for e in events if "resumed" in e["log_format"]]
    assert len(resumed) == 1
    assert len(events) == 2
    opened.stop()
    assert [text.split()[0] for text in rows(path)] == [str(n) for n in range(50)]


def test_retries_back_off(tmp_path, events):
    path = tmp_path / "chat.db"
    opened = Opened(path, pageLimit=1).start()
    statements: list[str] = []
    opened.connections[0].set_trace_callback(statements.append)

    def inserts():
        return [s for s in statements if s.startswith("INSERT")]

    opened.say("#a", "x" * 5000)
    opened.flush()
    assert len(inserts()) == 1
    tries: list[int] = []
    for second in range(1, 122):
        opened.clock.advance(1)
        if len(inserts()) > len(tries) + 1:
            tries.append(second)
    assert RETRY_FIRST == 1
    assert RETRY_MOST == 30
    assert tries == [1, 3, 7, 15, 31, 61, 91, 121]
    opened.stop()
    lost = [e for e in events if "lost" in e["log_format"]]
    assert [e["count"] for e in lost] == [1]


def test_lines_beyond_the_bound_are_dropped_and_counted(tmp_path, events, monkeypatch):
    monkeypatch.setattr(sqlite, "MAX_PENDING", 4)
    path = tmp_path / "chat.db"
    opened = Opened(path, pageLimit=1).start()
    for n in range(10):
        opened.say("#a", f"{n} {'x' * 5000}")
        opened.clock.advance(1)
    assert [t.split()[0] for t in opened.texts("#a")] == ["6", "7", "8", "9"]
    opened.diskFreed()
    opened.clock.advance(RETRY_MOST)
    assert [t.split()[0] for t in rows(path)] == ["6", "7", "8", "9"]
    (resumed,) = [e for e in events if "resumed" in e["log_format"]]
    assert resumed["dropped"] == 6
    opened.stop()


def test_start_checks_when_not_checked(tmp_path):
    clock = Clock()
    store = SQLiteHistory(
        str(tmp_path / "nowhere" / "chat.db"),
        clock=clock,
        reactor=ThreadlessReactor(),
        threadpool=CallingThreadPool(),
    )
    failure = result(store.start())
    assert failure.check(HistoryUnavailable)
    assert result(store.stop()) is None


def unavailable(path):
    with pytest.raises(HistoryUnavailable) as raised:
        SQLiteHistory(str(path)).check()
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_missing_directory(tmp_path):
    path = tmp_path / "nowhere" / "chat.db"
    assert unavailable(path) == (
        f"cannot use history file {path}: directory does not exist"
    )


def test_a_directory(tmp_path):
    assert unavailable(tmp_path) == (
        f"cannot use history file {tmp_path}: it is a directory"
    )


def test_not_a_database(tmp_path):
    path = tmp_path / "chat.db"
    path.write_bytes(b"This is not a database, just some text.\n" * 100)
    assert unavailable(path) == (
        f"cannot use history file {path}: file is not a database"
    )


def test_a_newer_schema(tmp_path):
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    newer = sqlite.SCHEMA_VERSION + 1
    connection.execute(f"PRAGMA user_version={newer}")
    connection.close()
    assert unavailable(path) == (
        f"cannot use history file {path}: schema version {newer} is newer than"
        f" this server knows ({sqlite.SCHEMA_VERSION})"
    )


def test_another_programs_table(tmp_path):
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE history (what TEXT)")
    connection.commit()
    connection.close()
    assert unavailable(path) == (
        f"cannot use history file {path}: its history table is not this server's"
    )


def test_a_file_locked_by_another_program(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT", 0.01)
    path = tmp_path / "chat.db"
    SQLiteHistory(str(path)).check()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        message = unavailable(path)
    finally:
        other.close()
    assert message == (
        f"cannot use history file {path}: another program holds it locked"
    )


READ_ONLY_CHECK = """
import os, sys
from chatserver.history.sqlite import SQLiteHistory
from chatserver.history.store import HistoryUnavailable
os.setgid(65534)
os.setuid(65534)
try:
    SQLiteHistory(sys.argv[1]).check()
except HistoryUnavailable as e:
    print(e)
"""


@pytest.fixture
def shared_dir():
    """
    A new directory anyone may write in, reachable by anyone.
    """
    path = tempfile.mkdtemp(prefix="history-test-")
    os.chmod(path, 0o777)
    yield pathlib.Path(path)
    shutil.rmtree(path)


def test_a_read_only_file(shared_dir):
    """
    A file that cannot be written is refused.  Root writes any file, so as
    root the check runs in a child that has become C{nobody}.
    """
    path = shared_dir / "chat.db"
    SQLiteHistory(str(path)).check()
    os.chmod(path, 0o444)
    if os.geteuid() != 0:
        message = unavailable(path)
    else:
        child = subprocess.run(
            [sys.executable, "-c", READ_ONLY_CHECK, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if "PermissionError" in child.stderr:
            pytest.skip("cannot become nobody to test a read-only file as root")
        assert child.stderr == ""
        message = child.stdout.strip()
    assert message == f"cannot use history file {path}: file is read-only"


def test_a_backlog_beyond_the_bound_of_failing_writes_is_kept_while_writes_work(
    tmp_path, monkeypatch
):
    """
    Issue 24: lines appended faster than they were written (a burst, while
    a write was in flight) were dropped beyond MAX_PENDING, the bound meant
    for failing writes: a fill of a million lines at 35,000 a second kept
    less than half.  While writes work, the backlog is bounded by
    MAX_BACKLOG only.
    """
    monkeypatch.setattr(sqlite, "MAX_PENDING", 5)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(20):
        opened.say("#a", str(n))
    opened.flush()
    assert rows(path) == [str(n) for n in range(20)]
    opened.stop()


def test_a_backlog_is_bounded_while_writes_work(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "MAX_BACKLOG", 5)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(20):
        opened.say("#a", str(n))
    opened.flush()
    assert rows(path) == [str(n) for n in range(15, 20)]
    opened.stop()


def test_a_backlog_is_written_a_batch_a_transaction(tmp_path, monkeypatch):
    """
    Lines that wait beyond WRITE_BATCH are written in the transactions
    right after, so that a write (and the query or search queued behind
    it in the pool's one thread) never waits for a whole backlog.
    """
    monkeypatch.setattr(sqlite, "WRITE_BATCH", 10)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    statements: list[str] = []
    opened.connections[0].set_trace_callback(statements.append)
    opened.threadpool.held = True
    opened.say("#a", "first")
    opened.flush()
    for n in range(25):
        opened.say("#a", str(n))
    opened.threadpool.release()
    assert len(rows(path)) == 1
    # Full batches follow at once; the rest waits to be joined by more.
    opened.clock.advance(0)
    assert len(rows(path)) == 21
    opened.flush()
    assert rows(path) == ["first", *(str(n) for n in range(25))]
    inserts = [s for s in statements if s.startswith("INSERT INTO history (")]
    assert [s.count('"message"') for s in dict.fromkeys(inserts)] == [1, 10, 10, 5]
    opened.stop()


def test_lines_dropped_while_writes_work_are_logged(tmp_path, monkeypatch, events):
    """
    Issue 24: beyond MAX_BACKLOG, lines waiting were dropped silently
    while writes worked (a searched line then found nowhere).  That is
    logged when it starts, and how many went once writing caught up.
    """
    monkeypatch.setattr(sqlite, "MAX_BACKLOG", 5)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(20):
        opened.say("#a", str(n))
    behind = [e for e in events if "fall behind" in e["log_format"]]
    assert len(behind) == 1
    opened.flush()
    caught = [e for e in events if "caught up" in e["log_format"]]
    assert [e["dropped"] for e in caught] == [15]
    opened.stop()


def test_stop_writes_a_backlog_of_several_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "WRITE_BATCH", 10)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    for n in range(25):
        opened.say("#a", str(n))
    opened.stop()
    assert rows(path) == [str(n) for n in range(25)]


def test_a_block_given_while_trimming_is_reserved_by_the_next_write(
    tmp_path, monkeypatch, events
):
    """
    A trim's deletes hold the file too (the soak's "History ids cannot be
    reserved (database is locked)"): ids running out while it runs are
    given unreserved at once, not after waiting on its lock.
    """
    monkeypatch.setattr(sqlite, "ID_BLOCK", 4)
    monkeypatch.setattr(sqlite, "RESERVE_SECONDS", 0)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    opened.threadpool.held = True
    opened.clock.advance(TRIM_INTERVAL)
    # The trim's deletes, under way: the file is locked.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    ids = [opened.say("#a", str(n)).id for n in range(6)]
    assert ids == list(range(1, 7))
    (unreserved,) = [e for e in events if "cannot be reserved" in e["log_format"]]
    assert unreserved["why"] == "a write holds the file"
    other.execute("ROLLBACK")
    other.close()
    opened.threadpool.release()
    opened.flush()
    assert mark(path) >= 6
    opened.stop()


def test_lines_dropped_behind_a_write_in_flight_are_not_read(tmp_path, monkeypatch):
    """
    Queries add the lines not written yet, kept by room: a line dropped
    from the backlog is no longer among them, the lines being written
    still are.
    """
    monkeypatch.setattr(sqlite, "MAX_BACKLOG", 3)
    opened = Opened(tmp_path / "chat.db").start()
    opened.threadpool.held = True
    for n in range(2):
        opened.say("#a", str(n))
    opened.flush()
    for n in range(2, 7):
        opened.say("#a", str(n))
    reading = opened.store.query("#a", 10)
    opened.threadpool.release()
    assert [entry.text for entry in result(reading)] == ["0", "1", "4", "5", "6"]
    opened.flush()
    assert opened.texts("#a") == ["0", "1", "4", "5", "6"]
    opened.stop()


def test_a_batch_is_written_in_statements_of_a_few_lines(tmp_path, monkeypatch):
    """
    One transaction, several statements of at most STATEMENT_LINES lines,
    each given its lines as one JSON text made in the pool's thread: no
    statement holds the GIL long making it.
    """
    monkeypatch.setattr(sqlite, "STATEMENT_LINES", 4)
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    statements: list[str] = []
    opened.connections[0].set_trace_callback(statements.append)
    for n in range(10):
        opened.say("#a", str(n))
    opened.flush()
    assert rows(path) == [str(n) for n in range(10)]
    inserts = [s for s in statements if s.startswith("INSERT INTO history (")]
    assert [s.count('"message"') for s in dict.fromkeys(inserts)] == [4, 4, 2]
    assert sum(s == "COMMIT" for s in statements) == 1
    opened.stop()
