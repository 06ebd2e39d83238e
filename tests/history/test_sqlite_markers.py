"""
Read markers kept in the SQLite history file (schema 5, after the
moderation state's schema 4; schema 6 keeps a marker's own time, to the
millisecond, and a marker at no line): a file of any older schema is
brought up through each step in order.
"""

from __future__ import annotations

import sqlite3

from chatserver.core.moderation.store import StateRecord
from chatserver.history import sqlite
from chatserver.state.markers import ReadMarker
from tests.history.support import result
from tests.history.test_sqlite import Opened

BAN = StateRecord("ban", "#dev", "spam*", '{"mask": "spam*"}')
MARKER = ReadMarker(41, 1_700_000_000_500)


def _old_file(path, version):
    """
    Write a history file of schema C{version} (3, 4 or 5), as a server of
    that version left it.
    """
    connection = sqlite3.connect(path)
    for statement in sqlite._SCHEMA_1:
        connection.execute(statement)
    connection.execute(sqlite._SCHEMA_2)
    if version >= 4:
        connection.execute(sqlite._SCHEMA_4)
        connection.execute(
            "INSERT INTO moderation (kind, scope, key, value) VALUES (?, ?, ?, ?)",
            (BAN.kind, BAN.scope, BAN.key, BAN.value),
        )
    if version >= 5:
        connection.execute(sqlite._SCHEMA_5)
        connection.execute(
            "INSERT INTO read_marker (account, target, id, time) VALUES (?, ?, ?, ?)",
            ("ann", "#dev", 41, 1_700_000_000.5004),
        )
    connection.execute(f"PRAGMA user_version={version}")
    connection.commit()
    connection.close()


def _version(path):
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def test_read_markers_own_times_are_schema_6():
    assert sqlite.SCHEMA_VERSION == 6


def test_a_file_of_schema_3_opens_to_6_with_both_tables(tmp_path):
    path = tmp_path / "chat.db"
    _old_file(path, 3)
    opened = Opened(path).start()
    opened.store.putModeration(BAN)
    assert result(opened.store.setReadMarker("ann", "#dev", MARKER)) == MARKER
    assert result(opened.store.loadModeration()) == [BAN]
    assert result(opened.store.readMarkers("ann")) == {"#dev": MARKER}
    opened.stop()
    assert _version(path) == 6


def test_a_file_of_schema_4_opens_to_6_keeping_its_moderation(tmp_path):
    path = tmp_path / "chat.db"
    _old_file(path, 4)
    opened = Opened(path).start()
    assert result(opened.store.loadModeration()) == [BAN]
    assert result(opened.store.setReadMarker("ann", "#dev", MARKER)) == MARKER
    assert result(opened.store.readMarkers("ann")) == {"#dev": MARKER}
    opened.stop()
    assert _version(path) == 6


def test_markers_and_moderation_outlive_the_store(tmp_path):
    path = tmp_path / "chat.db"
    _old_file(path, 4)
    opened = Opened(path).start()
    result(opened.store.setReadMarker("ann", "#dev", MARKER))
    opened.stop()
    again = Opened(path).start()
    assert result(again.store.readMarkers("ann")) == {"#dev": MARKER}
    assert result(again.store.loadModeration()) == [BAN]
    again.stop()


def test_a_file_of_schema_5_keeps_its_markers_at_their_line_to_the_millisecond(
    tmp_path,
):
    path = tmp_path / "chat.db"
    _old_file(path, 5)
    opened = Opened(path).start()
    assert result(opened.store.readMarkers("ann")) == {"#dev": MARKER}
    assert result(opened.store.loadModeration()) == [BAN]
    opened.stop()
    assert _version(path) == 6


def test_a_marker_at_no_line_is_kept_with_its_time(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    early = ReadMarker(None, 1_600_000_000_123)
    assert result(opened.store.setReadMarker("ann", "#dev", early)) == early
    opened.stop()
    again = Opened(tmp_path / "chat.db").start()
    assert result(again.store.readMarkers("ann")) == {"#dev": early}
    again.stop()


def test_the_file_keeps_the_later_time_and_the_larger_id(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    result(opened.store.setReadMarker("ann", "#dev", ReadMarker(None, 9_000)))
    result(opened.store.setReadMarker("ann", "#dev", ReadMarker(5, 3_000)))
    kept = result(opened.store.setReadMarker("ann", "#dev", ReadMarker(2, 1_000)))
    assert kept == ReadMarker(5, 9_000)
    assert result(opened.store.readMarkers("ann")) == {"#dev": kept}
    opened.stop()
