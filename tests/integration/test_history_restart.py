"""
History kept in SQLite (C{--history sqlite:PATH}) as an operator sees it:
it outlives a restart of a real twistd, and a file the server cannot use
stops twistd at start with one line.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.support import (
    TIMEOUT,
    TWISTD,
    ChatServer,
    Client,
    history_page,
    listening_ports,
    pid_alive,
    run,
    wait_for,
)

Start = Callable[..., ChatServer]


def sqlite(path: Path) -> str:
    return f"sqlite:{path}"


def stop(server: ChatServer) -> None:
    """
    Stop C{server} as an operator does, SIGTERM to its PID, and wait for it
    to exit.
    """
    os.kill(server.process.pid, signal.SIGTERM)
    assert server.process.wait(TIMEOUT) in (0, -signal.SIGTERM)
    assert "Server Shut Down" in server.log()


def join(client: Client, room: str, *members: str) -> None:
    client.send(f"/join {room}")
    client.expect(lines.InRoom(room, lines.UserList(tuple(members))))


@dataclass
class Before:
    """
    What was said before the restart, as a user who logged in (and joined
    #dev) then read it.
    """

    lobby: list[lines.History]
    dev: list[lines.History]
    started: float
    ended: float


def chat_then_stop(start_server: Start, db: Path, *options: str) -> Before:
    """
    Start a server on C{db}; alice and bob chat in #lobby and #dev, lines of
    both rooms in turn; a watcher reads both rooms' history; stop it.
    """
    server = start_server("--rate", "0", "--history", sqlite(db), *options)
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined("bob"))
    started = time.time()
    alice.send("good morning")
    join(alice, "#dev", "alice")
    alice.send("the build is red")
    bob.send("morning alice")
    join(bob, "#dev", "alice", "bob")
    bob.send("/me looks at the build")
    alice.send("/topic #dev fix the build")
    bob.expect(lines.InRoom("#dev", lines.TopicSet("alice", "fix the build")))
    bob.send("/join #lobby")
    bob.expect(lines.InRoom("#lobby", lines.Info("#lobby is your current room now")))
    bob.send("coffee first")
    alice.expect(lines.InRoom("#lobby", lines.Message("bob", "coffee first")))
    ended = time.time()
    watcher = server.login("watcher")
    lobby = history_page(watcher)
    watcher.send("/join #dev")
    watcher.expect(lines.InRoom("#dev", lines.UserList(("alice", "bob", "watcher"))))
    dev = history_page(watcher, "#dev")
    stop(server)
    return Before(lobby, dev, started, ended)


def test_history_before_the_restart_is_what_was_said(start_server, tmp_path):
    before = chat_then_stop(start_server, tmp_path / "chat.db")
    assert [kept.line for kept in before.lobby] == [
        lines.Message("alice", "good morning"),
        lines.Message("bob", "morning alice"),
        lines.Message("bob", "coffee first"),
    ]
    assert [kept.line for kept in before.dev] == [
        lines.Message("alice", "the build is red"),
        lines.Action("bob", "looks at the build"),
        lines.TopicSet("alice", "fix the build"),
    ]
    ids = sorted(kept.id for kept in before.lobby + before.dev)
    assert ids == list(range(ids[0], ids[0] + 6))
    for kept in before.lobby + before.dev:
        assert math.floor(before.started) <= kept.time <= before.ended


def test_lobby_history_is_replayed_after_a_restart_with_its_times_and_ids(
    start_server, tmp_path
):
    db = tmp_path / "chat.db"
    before = chat_then_stop(start_server, db)
    server = start_server("--rate", "0", "--history", sqlite(db))
    carol = server.login("carol")
    assert history_page(carol) == before.lobby


def test_room_history_is_replayed_on_join_after_a_restart(start_server, tmp_path):
    db = tmp_path / "chat.db"
    before = chat_then_stop(start_server, db)
    server = start_server("--rate", "0", "--history", sqlite(db))
    carol = server.login("carol")
    history_page(carol)
    carol.send("/join #dev")
    assert carol.event() == lines.InRoom("#dev", lines.Joined("carol"))
    # The topic is history, not state: the room is new in this process.
    assert carol.event() == lines.InRoom("#dev", lines.UserList(("carol",)))
    assert history_page(carol, "#dev") == before.dev


def test_ids_keep_growing_after_a_restart(start_server, tmp_path):
    db = tmp_path / "chat.db"
    before = chat_then_stop(start_server, db)
    server = start_server("--rate", "0", "--history", sqlite(db))
    carol = server.login("carol")
    history_page(carol)
    carol.send("after the restart")
    join(carol, "#dev", "carol")
    history_page(carol, "#dev")
    carol.send("dev after the restart")
    carol.send("/who")
    carol.expect(lines.InRoom("#dev", lines.UserList(("@carol",))))
    dave = server.login("dave")
    lobby = history_page(dave)
    assert lobby[:-1] == before.lobby
    assert lobby[-1].line == lines.Message("carol", "after the restart")
    dave.send("/join #dev")
    dave.expect(lines.InRoom("#dev", lines.UserList(("carol", "dave"))))
    dev = history_page(dave, "#dev")
    assert dev[:-1] == before.dev
    assert dev[-1].line == lines.Message("carol", "dev after the restart")
    largest = max(kept.id for kept in before.lobby + before.dev)
    assert largest < lobby[-1].id < dev[-1].id


def test_history_pages_back_across_a_restart(start_server, tmp_path):
    db = tmp_path / "chat.db"
    first = start_server("--rate", "0", "--history", sqlite(db))
    alice = first.login("alice")
    for n in range(1, 6):
        alice.send(f"before {n}")
    alice.send("/who")
    alice.expect(lines.UserList)
    stop(first)
    second = start_server(
        "--rate", "0", "--history", sqlite(db), "--history-replay", "2"
    )
    alice = second.login("alice")
    history_page(alice)
    for n in range(1, 3):
        alice.send(f"after {n}")
    alice.send("/who")
    alice.expect(lines.UserList)
    bob = second.login("bob")
    pages = [history_page(bob)]
    while pages[-1]:
        bob.send("/history 3")
        pages.append(history_page(bob))
    texts = [[kept.line.text for kept in page] for page in pages]  # type: ignore[union-attr]
    assert texts == [
        ["after 1", "after 2"],
        ["before 3", "before 4", "before 5"],
        ["before 1", "before 2"],
        [],
    ]
    ids = [kept.id for page in reversed(pages) for kept in page]
    assert ids == sorted(set(ids))


def written(db: Path) -> list[str]:
    """
    @return: The texts of the lines in the file, read by a connection of
        the test's own.
    """
    connection = sqlite3.connect(db)
    try:
        return [text for (text,) in connection.execute("SELECT text FROM history")]
    finally:
        connection.close()


def test_an_id_given_before_a_kill_is_never_given_again(start_server, tmp_path):
    """
    Finding 6 of issue 19: a line given an id and shown, but not written
    yet when the server was killed (C{kill -9}), was lost, and after the
    restart another line was given its id.  The test holds the file's
    write lock (as another program could) so that the line cannot be
    written before the kill, whatever the timing.
    """
    db = tmp_path / "chat.db"
    first = start_server("--rate", "0", "--history", sqlite(db))
    alice = first.login("alice")
    alice.send("written")
    wait_for(lambda: written(db) == ["written"], "the first line to be written")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        alice.send("shown, never written")
        bob = first.login("bob")
        shown = history_page(bob)
        assert [kept.line for kept in shown] == [
            lines.Message("alice", "written"),
            lines.Message("alice", "shown, never written"),
        ]
        os.kill(first.process.pid, signal.SIGKILL)
        assert first.process.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert written(db) == ["written"]

    second = start_server("--rate", "0", "--history", sqlite(db))
    carol = second.login("carol")
    (kept,) = history_page(carol)
    assert kept == shown[0]
    carol.send("after the restart")
    dave = second.login("dave")
    *_, after = history_page(dave)
    assert after.line == lines.Message("carol", "after the restart")
    assert after.id > max(kept.id for kept in shown)


def start_twistd_to_fail(tmp_path: Path, *options: str) -> tuple[int, str, str]:
    """
    Run C{twistd -n chat} with C{options}, which must stop it at start.

    @return: Its exit status, standard output and standard error.
    """
    result = run(
        [
            TWISTD,
            "-n",
            "--logfile",
            str(tmp_path / "twistd.log"),
            "--pidfile",
            "",
            "chat",
            "--port",
            "tcp:0:interface=127.0.0.1",
            *options,
        ],
        cwd=tmp_path,
    )
    return result.returncode, result.stdout, result.stderr


def test_a_file_that_is_not_a_database_stops_twistd_with_one_line(tmp_path):
    db = tmp_path / "chat.db"
    db.write_bytes(b"this is not an SQLite database, only some text\n" * 100)
    status, out, err = start_twistd_to_fail(tmp_path, "--history", sqlite(db))
    assert status != 0
    assert "Traceback" not in out + err
    assert err.splitlines() == [
        f"twistd chat: cannot use history file {db}: file is not a database"
    ]
    assert db.read_bytes().startswith(b"this is not an SQLite database")


def test_a_missing_directory_stops_twistd_with_one_line(tmp_path):
    db = tmp_path / "missing" / "chat.db"
    status, out, err = start_twistd_to_fail(tmp_path, "--history", sqlite(db))
    assert status != 0
    assert "Traceback" not in out + err
    assert err.splitlines() == [
        f"twistd chat: cannot use history file {db}: directory does not exist"
    ]
    assert not db.parent.exists()


def test_a_directory_as_the_file_stops_twistd_with_one_line(tmp_path):
    status, out, err = start_twistd_to_fail(tmp_path, "--history", sqlite(tmp_path))
    assert status != 0
    assert "Traceback" not in out + err
    (line,) = err.splitlines()
    assert line.startswith(f"twistd chat: cannot use history file {tmp_path}: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_file_stops_twistd_with_one_line(start_server, tmp_path):
    db = tmp_path / "chat.db"
    server = start_server("--history", sqlite(db))
    stop(server)
    db.chmod(0o444)
    status, out, err = start_twistd_to_fail(tmp_path, "--history", sqlite(db))
    assert status != 0
    assert "Traceback" not in out + err
    (line,) = err.splitlines()
    assert line.startswith(f"twistd chat: cannot use history file {db}: ")


def test_an_unknown_history_store_is_a_usage_error(tmp_path):
    status, out, err = start_twistd_to_fail(tmp_path, "--history", "bogus")
    assert status != 0
    assert "Traceback" not in out + err
    # twistd writes a usage error as "twistd -n: --history: ...".
    (line,) = [line for line in (out + err).splitlines() if "--history:" in line]
    assert line.endswith(
        ": --history: 'bogus' is not a history store: write memory, none or sqlite:PATH"
    )


def test_history_the_daemon_wrote_is_replayed_by_a_foreground_server(
    start_server, tmp_path
):
    db = tmp_path / "chat.db"
    pidfile, logfile = tmp_path / "chat.pid", tmp_path / "chat.log"
    result = run(
        [
            TWISTD,
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(logfile),
            "chat",
            "--port",
            "tcp:0:interface=127.0.0.1",
            "--rate",
            "0",
            "--history",
            sqlite(db),
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    pid = int(str(wait_for(lambda: pidfile.exists() and pidfile.read_text(), "pid")))
    try:
        found = wait_for(
            lambda: logfile.exists() and listening_ports(logfile.read_text()),
            "the daemon to listen",
        )
        assert isinstance(found, list)
        alice = Client(found[0])
        alice.expect(lines.Prompt)
        alice.send("alice")
        alice.expect(lines.UserList)
        alice.send("said to the daemon")
        join(alice, "#dev", "alice")
        alice.send("said in #dev")
        alice.send("/who")
        alice.expect(lines.InRoom("#dev", lines.UserList(("@alice",))))
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid), "the daemon to exit")
    assert not pidfile.exists()
    server = start_server("--rate", "0", "--history", sqlite(db))
    bob = server.login("bob")
    (kept,) = history_page(bob)
    assert kept.line == lines.Message("alice", "said to the daemon")
    join(bob, "#dev", "bob")
    (kept,) = history_page(bob, "#dev")
    assert kept.line == lines.Message("alice", "said in #dev")
