"""
Moderation state kept in the SQLite history file (schema 4): written
behind in order, read back by the next store on the file, and added to a
file of an older schema.
"""

from __future__ import annotations

import sqlite3

from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.moderation.store import IModerationStore, StateRecord
from chatserver.core.realm import ChatRealm
from chatserver.history import sqlite
from tests.core.fakes import RecordingMind
from tests.history.support import result
from tests.history.test_sqlite import Opened

BAN = StateRecord("ban", "#dev", "spam*", '{"mask": "spam*"}')


def test_the_sqlite_store_keeps_moderation_state():
    assert IModerationStore.implementedBy(sqlite.SQLiteHistory)


def test_records_outlive_the_store(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    opened.store.putModeration(BAN)
    opened.store.putModeration(StateRecord("kline", "", "bob", "{}"))
    opened.store.deleteModeration("kline", "", "bob")
    opened.stop()
    again = Opened(tmp_path / "chat.db").start()
    assert result(again.store.loadModeration()) == [BAN]
    again.stop()


def test_a_record_put_again_replaces_the_one_before(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    opened.store.putModeration(BAN)
    newer = StateRecord("ban", "#dev", "spam*", '{"mask": "spam*", "reason": "x"}')
    opened.store.putModeration(newer)
    assert result(opened.store.loadModeration()) == [newer]
    opened.stop()


def test_a_file_of_schema_3_gets_the_moderation_table(tmp_path):
    path = tmp_path / "chat.db"
    connection = sqlite3.connect(path)
    for statement in sqlite._SCHEMA_1:
        connection.execute(statement)
    connection.execute(sqlite._SCHEMA_2)
    connection.execute("PRAGMA user_version=3")
    connection.commit()
    connection.close()
    opened = Opened(path).start()
    opened.store.putModeration(BAN)
    assert result(opened.store.loadModeration()) == [BAN]
    opened.stop()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone() == (
        sqlite.SCHEMA_VERSION,
    )
    connection.close()


def test_a_change_after_stop_is_not_kept_and_says_so(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    opened.stop()
    opened.store.putModeration(BAN)
    again = Opened(tmp_path / "chat.db").start()
    assert result(again.store.loadModeration()) == []
    again.stop()


def test_a_room_s_modlog_outlives_the_store(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    clock = Clock()
    chat = ChatRealm(ChatConfig(), opened.store, clock=clock)
    chat.moderation.load()
    alice = chat.login("alice", RecordingMind(clock))
    alice.join("#dev")
    alice.ban("#dev", "spam*", reason="flood")
    opened.stop()
    again = Opened(tmp_path / "chat.db").start()
    later = ChatRealm(ChatConfig(), again.store, clock=Clock())
    result(later.moderation.load())
    logged = list(later.moderation.room("#dev").log)
    assert [(e.actor, e.action, e.target) for e in logged] == [
        ("alice", "ban", "spam*")
    ]
    again.stop()


def test_an_ended_ban_is_forgotten_by_the_sqlite_store(tmp_path):
    opened = Opened(tmp_path / "chat.db").start()
    opened.store.putModeration(BAN)
    assert result(opened.store.expireModeration(BAN)) is True
    opened.stop()
    again = Opened(tmp_path / "chat.db").start()
    assert result(again.store.loadModeration()) == []
    again.stop()
