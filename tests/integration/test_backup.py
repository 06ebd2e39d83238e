"""
The backups docs/operations.md shows, made of the SQLite history of a
running server: a consistent copy a new server starts from.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.support import ChatServer, run, wait_for

SAID = ["first words", "second words", "third words"]


def texts(path: Path) -> list[str]:
    """
    @return: The texts of the history lines in the SQLite file at C{path},
        read without writing to it.
    """
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return [text for (text,) in db.execute("SELECT text FROM history ORDER BY id")]


def vacuum_into(live: Path, backup: Path) -> list[str]:
    return ["sqlite3", str(live), f"VACUUM INTO '{backup}'"]


def backup_api(live: Path, backup: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sqlite3, sys; "
        "sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))",
        str(live),
        str(backup),
    ]


@pytest.mark.parametrize("command", [vacuum_into, backup_api])
def test_a_backup_of_a_running_server_is_a_history_to_start_from(
    tmp_path: Path,
    start_server: Callable[..., ChatServer],
    command: Callable[[Path, Path], list[str]],
) -> None:
    live = tmp_path / "live.sqlite"
    server = start_server("--rate", "0", "--history", f"sqlite:{live}")
    alice = server.login("alice")
    for text in SAID:
        alice.send(text)
    wait_for(lambda: texts(live) == SAID, "the lines written")
    backup = tmp_path / "backup.sqlite"
    result = run(command(live, backup))
    assert result.returncode == 0, result.stderr
    alice.send("after the backup")
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert texts(backup) == SAID
    restored = start_server("--history", f"sqlite:{backup}")
    bob = restored.connect()
    bob.expect(lines.Prompt)
    bob.send("bob")
    replayed = [bob.expect(lines.History) for _ in SAID]
    assert [event.line for event in replayed] == [  # type: ignore[union-attr]
        lines.Message("alice", text) for text in SAID
    ]
