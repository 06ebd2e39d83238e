"""
Read markers kept in the SQLite history file (schema 5, after the
moderation state's schema 4): a file of either older schema is brought up
through each step in order.
"""

from __future__ import annotations

import sqlite3

from chatserver.core.moderation.store import StateRecord
from chatserver.history import sqlite
from chatserver.state.markers import ReadMarker
from tests.history.support import result
from tests.history.test_sqlite import Opened

BAN = StateRecord("ban", "#dev", "spam*", '{"mask": "spam*"}')
MARKER = ReadMarker(41, 1_700_000_000.5)


def _old_file(path, version):
    """
    Write a history file of schema C{version} (3 or 4), as a server of
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
    connection.execute(f"PRAGMA user_version={version}")
    connection.commit()
    connection.close()


def _version(path):
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def test_read_markers_are_schema_5_after_moderations_4():
    assert sqlite.SCHEMA_VERSION == 5


def test_a_file_of_schema_3_opens_to_5_with_both_tables(tmp_path):
    path = tmp_path / "chat.db"
    _old_file(path, 3)
    opened = Opened(path).start()
    opened.store.putModeration(BAN)
    assert result(opened.store.setReadMarker("ann", "#dev", MARKER)) == MARKER
    assert result(opened.store.loadModeration()) == [BAN]
    assert result(opened.store.readMarkers("ann")) == {"#dev": MARKER}
    opened.stop()
    assert _version(path) == 5


def test_a_file_of_schema_4_opens_to_5_keeping_its_moderation(tmp_path):
    path = tmp_path / "chat.db"
    _old_file(path, 4)
    opened = Opened(path).start()
    assert result(opened.store.loadModeration()) == [BAN]
    assert result(opened.store.setReadMarker("ann", "#dev", MARKER)) == MARKER
    assert result(opened.store.readMarkers("ann")) == {"#dev": MARKER}
    opened.stop()
    assert _version(path) == 5


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
