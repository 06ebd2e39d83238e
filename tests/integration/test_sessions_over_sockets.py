"""
One account on several connections of a real C{twistd chat --auth}: raw
line sessions, read markers and private lines across a restart (SQLite),
and a cluster of two real nodes over a real C{redis-server}.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.redis_support import RedisServer
from tests.integration.support import ChatServer, Client

AUTH = ("--auth", "memory:alice:s3cret:bob:hunter2")
PASSWORDS = {"alice": "s3cret", "bob": "hunter2"}
Start = Callable[..., ChatServer]


def log_in(server: ChatServer, name: str) -> Client:
    """
    Log C{name} in with its password; the welcome is read.
    """
    client = server.connect()
    client.expect(lines.Prompt)
    client.send(name)
    client.expect(lines.Prompt)
    client.send(PASSWORDS[name])
    client.expect(lines.Welcome)
    return client


def until_unread(client: Client) -> list[lines.Event]:
    """
    @return: The lines read up to the separator of the unread part and the
        history's end after it.
    """
    events: list[lines.Event] = []
    while not isinstance(events[-1:] and events[-1], lines.HistoryEnd):
        events.append(client.event())
    return events


def texts(events: list[lines.Event]) -> list[str]:
    shown = []
    for event in events:
        if isinstance(event, lines.History):
            shown.append(event.line.format())
        elif isinstance(event, lines.UnreadFrom):
            shown.append(event.format())
    return shown


def test_one_account_on_two_raw_connections(start_server: Start):
    server = start_server("--rate", "0", *AUTH)
    bob = log_in(server, "bob")
    laptop = log_in(server, "alice")
    bob.expect(lines.Joined("alice"))
    phone = log_in(server, "alice")
    laptop.send("from the laptop")
    assert phone.expect(lines.Message) == lines.Message("alice", "from the laptop")
    assert bob.expect(lines.Message) == lines.Message("alice", "from the laptop")
    bob.send("/msg alice psst")
    assert laptop.expect(lines.PrivateIn) == lines.PrivateIn("bob", "psst")
    assert phone.expect(lines.PrivateIn) == lines.PrivateIn("bob", "psst")
    phone.send("/sessions")
    listed = phone.expect(lines.Info)
    assert isinstance(listed, lines.Info)
    assert listed.text.startswith("session 1: line from 127.0.0.1")
    phone.send("/quit")
    phone.events_until_closed()
    bob.send("/who")
    assert bob.expect(lines.UserList) == lines.UserList(("alice", "bob"))
    laptop.send("/quit")
    assert bob.expect(lines.Left) == lines.Left("alice", "Quit")


def test_read_markers_and_private_lines_outlive_a_restart(
    start_server: Start, tmp_path: Path
):
    history = f"sqlite:{tmp_path / 'chat.db'}"
    first = start_server("--rate", "0", "--history", history, *AUTH)
    bob = log_in(first, "bob")
    alice = log_in(first, "alice")
    bob.send("seen before")
    alice.expect(lines.Message)
    alice.send("/msg bob kept")
    bob.expect(lines.PrivateIn)
    alice.send("/read")
    assert isinstance(alice.expect(lines.ReadUpTo), lines.ReadUpTo)
    alice.send("/quit")
    alice.events_until_closed()
    bob.send("missed")
    bob.send("/quit")
    bob.events_until_closed()
    assert first.stop() in (0, -signal.SIGTERM)
    assert "Server Shut Down" in first.log()

    second = start_server("--rate", "0", "--history", history, *AUTH)
    alice = log_in(second, "alice")
    shown = texts(until_unread(alice))
    assert shown[-3:] == ["<bob> seen before", "=== Not read yet:", "<bob> missed"]
    alice.send("/read bob")
    read = alice.expect(lines.ReadUpTo)
    assert isinstance(read, lines.ReadUpTo) and read.target == "bob"


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    yield server
    server.stop()


def node(start_server: Start, redis: RedisServer, name: str) -> ChatServer:
    started = start_server(
        "--rate", "0", "--cluster", redis.url, "--node-name", name, *AUTH
    )
    started.wait_for_log(rf"Node {name} is in the cluster")
    return started


def test_a_second_session_on_another_node_is_refused_in_one_line(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    alice = log_in(a, "alice")
    bob = log_in(b, "bob")
    alice.expect(lines.Joined("bob"))
    other = b.connect()
    other.expect(lines.Prompt)
    other.send("alice")
    other.expect(lines.Prompt)
    other.send("s3cret")
    assert other.event() == lines.Error(
        "alice is logged in on another server of this cluster: "
        "a second session must connect to that same server"
    )
    same = log_in(a, "alice")
    bob.send("to both")
    assert same.expect(lines.Message) == lines.Message("bob", "to both")
    assert alice.expect(lines.Message) == lines.Message("bob", "to both")


def test_markers_and_private_lines_are_the_clusters(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    alice = log_in(a, "alice")
    bob = log_in(b, "bob")
    alice.expect(lines.Joined("bob"))
    bob.send("seen")
    alice.expect(lines.Message)
    alice.send("/msg bob across")
    bob.expect(lines.PrivateIn)
    alice.send("/read")
    alice.expect(lines.ReadUpTo)
    alice.send("/quit")
    bob.expect(lines.Left)
    bob.send("missed")
    elsewhere = log_in(b, "alice")
    shown = texts(until_unread(elsewhere))
    assert shown[-3:] == ["<bob> seen", "=== Not read yet:", "<bob> missed"]
    elsewhere.send("/read bob")
    read = elsewhere.expect(lines.ReadUpTo)
    assert isinstance(read, lines.ReadUpTo) and read.target == "bob" and read.id > 0
