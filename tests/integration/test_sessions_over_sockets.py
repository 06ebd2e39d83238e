"""
One account on several connections of a real C{twistd chat --auth}: raw
line sessions, read markers and private lines across a restart (SQLite),
and sessions of one account on two real nodes of a cluster over a real
C{redis-server}.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.redis_support import RedisServer
from tests.integration.support import ChatServer, Client
from tests.integration.wsclient import WebSocketClient

AUTH = ("--auth", "memory:alice:s3cret:bob:hunter2:carol:tulip5")
PASSWORDS = {"alice": "s3cret", "bob": "hunter2", "carol": "tulip5"}
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


def node(start_server: Start, redis: RedisServer, name: str, *more: str) -> ChatServer:
    started = start_server(
        "--rate", "0", "--cluster", redis.url, "--node-name", name, *AUTH, *more
    )
    started.wait_for_log(rf"Node {name} is in the cluster")
    return started


def events_until(client: Client, wanted: lines.Event) -> list[lines.Event]:
    """
    @return: The events read before C{wanted}, which is read too.
    """
    events = []
    while (event := client.event()) != wanted:
        events.append(event)
    return events


def settled(name: str, session: Client, *others: Client) -> None:
    """
    Wait until each of C{others} has read a line that C{session}, of
    C{name}, says: what the cluster was told before (a session begun) is
    known on their nodes too, as a node reads the presence stream before
    the rooms' streams.
    """
    session.send("settled")
    for other in others:
        other.expect(lines.Message(name, "settled"))


def notices(events: list[lines.Event]) -> list[lines.Event]:
    """
    @return: The join and leave notices among C{events}.
    """
    return [event for event in events if isinstance(event, lines.Joined | lines.Left)]


def test_sessions_on_two_nodes_get_the_room_s_lines_and_each_other_s(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop = log_in(a, "alice")
    bob = log_in(b, "bob")
    laptop.expect(lines.Joined("bob"))
    phone = log_in(b, "alice")
    bob.send("to both")
    assert laptop.expect(lines.Message) == lines.Message("bob", "to both")
    assert phone.expect(lines.Message) == lines.Message("bob", "to both")
    laptop.send("from a")
    assert phone.expect(lines.Message) == lines.Message("alice", "from a")
    assert bob.expect(lines.Message) == lines.Message("alice", "from a")
    phone.send("from b")
    assert laptop.expect(lines.Message) == lines.Message("alice", "from b")
    assert bob.expect(lines.Message) == lines.Message("alice", "from b")


def test_others_on_either_node_see_one_join_and_one_quit_with_the_last_session(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    carol, bob = log_in(a, "carol"), log_in(b, "bob")
    carol.expect(lines.Joined("bob"))
    laptop = log_in(a, "alice")
    carol.expect(lines.Joined("alice"))
    bob.expect(lines.Joined("alice"))
    phone = log_in(b, "alice")
    settled("alice", phone, laptop, carol)
    laptop.send("/quit")
    laptop.events_until_closed()
    phone.send("still here")
    for other in (carol, bob):
        assert notices(events_until(other, lines.Message("alice", "still here"))) == []
        other.send("/who")
        assert other.expect(lines.UserList) == lines.UserList(("alice", "bob", "carol"))
    phone.send("/quit")
    assert (
        carol.expect(lines.Left)
        == bob.expect(lines.Left)
        == lines.Left("alice", "Quit")
    )


def test_a_join_and_a_part_on_one_node_are_the_account_s_on_the_other(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop, bob = log_in(a, "alice"), log_in(b, "bob")
    phone = log_in(b, "alice")
    laptop.expect(lines.Joined("bob"))
    bob.send("/join #dev")
    bob.expect(lines.InRoom("#dev", lines.Joined("bob")))
    laptop.send("/join #dev")
    bob.expect(lines.InRoom("#dev", lines.Joined("alice")))
    phone.expect(lines.InRoom("#dev", lines.Joined("alice")))
    bob.send("/msg alice (sync)")
    phone.expect(lines.PrivateIn)
    bob.send("in dev")
    assert phone.expect(lines.InRoom) == lines.InRoom(
        "#dev", lines.Message("bob", "in dev")
    )
    phone.send("/part #dev")
    left = lines.InRoom("#dev", lines.Left("alice", "Part"))
    laptop.expect(left)
    bob.expect(left)
    bob.send("alone")
    bob.send("/msg alice (sync)")
    assert lines.InRoom("#dev", lines.Message("bob", "alone")) not in events_until(
        laptop, lines.PrivateIn("bob", "(sync)")
    )


def test_a_private_line_reaches_the_sessions_on_both_nodes(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop, bob = log_in(a, "alice"), log_in(b, "bob")
    phone = log_in(b, "alice")
    bob.send("/msg alice psst")
    assert laptop.expect(lines.PrivateIn) == lines.PrivateIn("bob", "psst")
    assert phone.expect(lines.PrivateIn) == lines.PrivateIn("bob", "psst")
    laptop.send("/msg bob back")
    assert bob.expect(lines.PrivateIn) == lines.PrivateIn("alice", "back")
    assert phone.expect(lines.PrivateOut) == lines.PrivateOut("bob", "back")


def test_sessions_lists_both_nodes_and_ends_a_session_of_the_other(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop, bob = log_in(a, "alice"), log_in(b, "bob")
    # The greeting's list of #lobby, read here: it has alice or not as b
    # has read a's news yet or not, and is not the /who's answer below.
    bob.expect(lines.UserList)
    phone = log_in(b, "alice")
    settled("alice", phone, laptop)
    laptop.send("/sessions")
    first, second = laptop.expect(lines.Info), laptop.event()
    assert isinstance(first, lines.Info) and isinstance(second, lines.Info)
    assert first.text.endswith("(this one)")
    assert second.text.startswith("session 2: line from 127.0.0.1")
    assert "on node b" in second.text
    laptop.send("/sessions end 2")
    closed = phone.events_until_closed()
    assert (
        lines.Info(
            "You were disconnected by the server: "
            "Session ended by alice from another session"
        )
        in closed
    )
    ended = laptop.expect(lines.Info)
    assert ended == lines.Info(f"ended {second.text}")
    # Node b knew of the laptop's session when the phone's ended, however
    # far behind its reading of the presence stream: from the phone's claim,
    # or else from the stream, which a wrote to before b's inbox.  The phone
    # was b's last session of alice: b leaves alice to node a, telling
    # nobody, and bob's /who (after b closed the phone) lists her.
    bob.send("/who")
    told: list[lines.Event] = []
    while not isinstance(event := bob.event(), lines.UserList):
        told.append(event)
    assert event == lines.UserList(("alice", "bob"))
    assert [event for event in told if isinstance(event, lines.Left)] == []
    settled("bob", bob, laptop)
    laptop.send("/sessions end 2")
    assert laptop.expect(lines.Error) == lines.Error(
        "no such session: 2 (see /sessions)"
    )


def test_a_read_marker_moved_on_one_node_reaches_the_sessions_of_the_other(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop, bob = log_in(a, "alice"), log_in(b, "bob")
    phone = log_in(b, "alice")
    bob.send("read me")
    laptop.expect(lines.Message("bob", "read me"))
    laptop.send("/read")
    moved = laptop.expect(lines.ReadUpTo)
    assert phone.expect(lines.ReadUpTo) == moved


def test_max_sessions_counts_the_sessions_of_every_node(
    start_server: Start, redis: RedisServer
):
    def limited(name: str) -> ChatServer:
        started = start_server(
            "--rate",
            "0",
            "--cluster",
            redis.url,
            "--node-name",
            name,
            "--max-sessions",
            "2",
            *AUTH,
        )
        started.wait_for_log(rf"Node {name} is in the cluster")
        return started

    a, b = limited("a"), limited("b")
    sessions = [log_in(a, "alice"), log_in(b, "alice")]
    settled("alice", sessions[1], sessions[0])
    for full in (a, b):
        third = full.connect()
        third.expect(lines.Prompt)
        third.send("alice")
        third.expect(lines.Prompt)
        third.send("s3cret")
        assert third.expect(lines.Error) == lines.Error(
            "alice has 2 sessions already, the most allowed: "
            "end one first (/sessions end N)"
        )
    assert all(session.sock.fileno() >= 0 for session in sessions)


def test_a_node_killed_leaves_the_account_online_on_the_other(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    bob = log_in(b, "bob")
    laptop = log_in(a, "alice")
    bob.expect(lines.Joined("alice"))
    phone = log_in(b, "alice")
    settled("alice", phone, bob)
    a.process.send_signal(signal.SIGKILL)
    a.process.wait()
    laptop.close()
    b.wait_for_log(r"Node a stopped beating")
    settled("bob", bob, phone)
    bob.send("/who")
    assert notices(events_until(bob, lines.UserList(("alice", "bob")))) == []
    phone.send("/sessions")
    listed = phone.expect(lines.Info)
    assert isinstance(listed, lines.Info) and listed.text.endswith("(this one)")
    phone.send("/sessions end 2")
    assert phone.expect(lines.Error) == lines.Error(
        "no such session: 2 (see /sessions)"
    )
    bob.send("after")
    assert phone.expect(lines.Message) == lines.Message("bob", "after")
    phone.send("/quit")
    assert bob.expect(lines.Left) == lines.Left("alice", "Quit")


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


def test_an_irc_session_on_another_node_is_in_the_account_s_rooms_at_once(
    start_server: Start, redis: RedisServer
):
    a = node(start_server, redis, "a")
    b = node(start_server, redis, "b", "--irc", "tcp:0:interface=127.0.0.1")
    bob = log_in(b, "bob")
    laptop = log_in(a, "alice")
    laptop.send("/join #dev")
    laptop.expect(lines.InRoom("#dev", lines.Joined("alice")))
    laptop.send("/msg bob (sync)")
    bob.expect(lines.PrivateIn("alice", "(sync)"))
    phone = IrcSocket(b.ircPorts[0])
    phone.send("PASS s3cret")
    got = phone.register("alice")
    joined = {m.params[0] for m in got if m.command == "JOIN"}
    while joined != {"#lobby", "#dev"}:
        message = phone.message()
        if message.command == "JOIN":
            joined.add(message.params[0])
    laptop.send("from the laptop")
    said = phone.expect("PRIVMSG")
    assert said.prefix.startswith("alice!")
    assert said.params == ("#dev", "from the laptop")
    phone.send("SESSIONS")
    listed = [phone.expect("NOTICE").params[1] for _ in range(2)]
    assert "on node a" in listed[1] and listed[0].endswith("(this one)")


def test_a_web_session_and_a_line_session_on_two_nodes_are_one_account(
    start_server: Start, redis: RedisServer
):
    a = node(start_server, redis, "a", "--web", "tcp:0:interface=127.0.0.1")
    b = node(start_server, redis, "b")
    page = WebSocketClient(a.webPorts[0])
    page.login("alice", PASSWORDS["alice"])
    laptop = log_in(b, "alice")
    laptop.send("from the line door")
    said = page.expect("message", text="from the line door")
    assert (said["room"], said["from"]) == ("#lobby", "alice")
    page.send(type="say", room="#lobby", text="from the page")
    assert laptop.expect(lines.Message) == lines.Message("alice", "from the page")
    page.send(type="sessions")
    listed = page.expect("sessions")["sessions"]
    assert [(s["door"], s["this"], s["node"]) for s in listed] == [
        ("web", True, ""),
        ("line", False, "b"),
    ]
    page.close()


def test_a_web_session_on_another_node_is_in_the_account_s_rooms_at_once(
    start_server: Start, redis: RedisServer
):
    a = node(start_server, redis, "a")
    b = node(start_server, redis, "b", "--web", "tcp:0:interface=127.0.0.1")
    bob = log_in(b, "bob")
    laptop = log_in(a, "alice")
    laptop.send("/join #dev")
    laptop.expect(lines.InRoom("#dev", lines.Joined("alice")))
    laptop.send("/msg bob (sync)")
    bob.expect(lines.PrivateIn("alice", "(sync)"))
    page = WebSocketClient(b.webPorts[0])
    page.login("alice", PASSWORDS["alice"])
    rooms = [page.expect("room") for _ in range(2)]
    assert {room["room"]: room["members"] for room in rooms} == {
        "#lobby": ["alice", "bob"],
        "#dev": ["alice"],
    }
    bob.send("to the lobby")
    said = page.expect("message", text="to the lobby")
    assert (said["room"], said["from"]) == ("#lobby", "bob")
    page.send(type="say", room="#dev", text="from the page")
    assert events_until(
        laptop, lines.InRoom("#dev", lines.Message("alice", "from the page"))
    )
    page.send(type="join", room="#web")
    laptop.expect(lines.InRoom("#web", lines.Joined("alice")))
    laptop.send("/sessions")
    first, second = laptop.expect(lines.Info), laptop.event()
    assert isinstance(first, lines.Info) and isinstance(second, lines.Info)
    assert first.text.endswith("(this one)")
    assert second.text.startswith("session 2: web from 127.0.0.1")
    assert "on node b" in second.text
    page.close()


def test_a_change_of_case_on_one_node_is_shown_on_the_other(
    start_server: Start, redis: RedisServer
):
    a, b = node(start_server, redis, "a"), node(start_server, redis, "b")
    laptop, bob = log_in(a, "alice"), log_in(a, "bob")
    phone = log_in(b, "alice")
    settled("alice", phone, laptop, bob)
    phone.send("/nick Alice")
    assert phone.expect(lines.Renamed) == lines.Renamed("alice", "Alice")
    assert laptop.expect(lines.Renamed) == lines.Renamed("alice", "Alice")
    assert bob.expect(lines.Renamed) == lines.Renamed("alice", "Alice")
    laptop.send("from the laptop")
    assert bob.expect(lines.Message) == lines.Message("Alice", "from the laptop")
