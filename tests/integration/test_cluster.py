"""
Several real C{twistd chat} nodes sharing one chat through a real
C{redis-server}, over real sockets: names, rooms, private lines and history
across nodes, a node killed with SIGKILL, Redis restarted, and a randomized
run checking that every line reaches every member of its room exactly once,
in one order.
"""

from __future__ import annotations

import random
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.redis_support import RedisServer, free_port
from tests.integration.support import (
    TIMEOUT,
    ChatServer,
    Client,
    history_page,
    wait_for,
)

InRoom = lines.InRoom
Info = lines.Info
Start = Callable[..., ChatServer]


@pytest.fixture
def redis_kind() -> str:
    """
    How the tests' Redis is reached: C{plain}, C{password} (C{s3cret}) or
    C{tls} (C{rediss://} with a certificate of its own); a test may ask
    for another by parametrizing this.
    """
    return "plain"


@pytest.fixture
def redis(tmp_path: Path, redis_kind: str) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    if redis_kind == "password":
        server = RedisServer(directory, password="s3cret")
    elif redis_kind == "tls":
        from tests.client.certs import self_signed

        key, certificate = self_signed().write(tmp_path / "certs", "redis")
        server = RedisServer(directory, tls=(key, key, certificate))
    else:
        server = RedisServer(directory)
    yield server
    server.stop()


@pytest.fixture
def start_node(start_server: Start, redis: RedisServer) -> Start:
    """
    A function starting a node of the cluster, called C{name}, and waiting
    until it is in the cluster.
    """

    def start(name: str, *options: str) -> ChatServer:
        node = start_server(
            "--rate", "0", "--cluster", redis.url, "--node-name", name, *options
        )
        node.wait_for_log(rf"Node {name} is in the cluster")
        return node

    return start


def sees_join(client: Client, name: str, room: str | None = None) -> None:
    """
    C{client} reads until C{name} joins (C{room}, or the default room).
    """
    wanted: lines.Event = lines.Joined(name)
    if room is not None:
        wanted = InRoom(room, lines.Joined(name))
    client.expect(wanted)


def nothing_pending(reader: Client, readerName: str, sender: Client) -> None:
    """
    A private line from C{sender} is the next thing C{reader} reads.
    """
    sender.send(f"/msg {readerName} (sync)")
    assert reader.event() == lines.PrivateIn(_name_of(sender), "(sync)")


_names: dict[int, str] = {}


def login(node: ChatServer, name: str) -> Client:
    client = node.login(name)
    _names[id(client)] = name
    return client


def _name_of(client: Client) -> str:
    return _names[id(client)]


def alice_and_bob(start_node: Start) -> tuple[ChatServer, ChatServer, Client, Client]:
    """
    Nodes a and b, alice logged in on a and bob on b, and alice has seen bob
    come: both nodes know both users.
    """
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    bob = login(b, "bob")
    sees_join(alice, "bob")
    return a, b, alice, bob


def test_users_of_two_nodes_talk_in_the_default_room(start_node):
    _a, _b, alice, bob = alice_and_bob(start_node)
    alice.send("hello from a")
    assert bob.expect(lines.Message) == lines.Message("alice", "hello from a")
    bob.send("hi from b")
    assert alice.expect(lines.Message) == lines.Message("bob", "hi from b")


def test_a_name_is_taken_across_nodes_and_free_again_after_leaving(start_node):
    _a, b, alice, bob = alice_and_bob(start_node)
    client = b.connect()
    client.expect(lines.Prompt)
    client.send("ALICE")
    assert client.event() == lines.Error("the name ALICE is taken, choose another")
    alice.send("/quit")
    assert bob.expect(lines.Left) == lines.Left("alice", "Quit")
    client.send("ALICE")
    assert client.expect(lines.Welcome) == lines.Welcome("chat", "ALICE")


def test_two_names_in_one_write_log_in_one_user_who_leaves_with_the_connection(
    start_node,
):
    a, b = start_node("a"), start_node("b")
    dave = login(a, "dave")
    carol = login(b, "carol")
    # Node a knows carol is in the room before alice speaks in it.
    sees_join(dave, "carol")
    client = a.connect()
    client.expect(lines.Prompt)
    # As `printf 'alice\nbob\n' | nc`: the second line is alice's first.
    client.send(b"alice\nbob\n")
    assert client.expect(lines.Welcome) == lines.Welcome("chat", "alice")
    assert carol.expect(lines.Message) == lines.Message("alice", "bob")
    client.close()
    assert carol.expect(lines.Left) == lines.Left("alice", "Connection closed")
    # Nobody is left behind: both names are free on every node.
    login(b, "alice")
    login(a, "bob")


def test_a_node_taken_for_dead_cannot_rename_away_a_name_another_node_has_now(
    start_node, redis
):
    a, b = start_node("a"), start_node("b")
    stale = login(a, "alice")
    carol = login(b, "carol")
    sees_join(stale, "carol")
    a.process.send_signal(signal.SIGSTOP)
    try:
        assert carol.expect(lines.Left) == lines.Left("alice", "node lost")
        alice = login(b, "alice")
        stale.send("/nick x")  # read when node a runs again
    finally:
        a.process.send_signal(signal.SIGCONT)
    told = [event for event in stale.events_until_closed() if isinstance(event, Info)]
    assert told[-1].text.startswith("You were disconnected by the server: ")
    alice.send("still here")
    assert carol.expect(lines.Message) == lines.Message("alice", "still here")
    # The name's rooms are still the new holder's.
    assert redis.call("HGET", "chat:room:#lobby:members", "alice") == "alice"
    assert redis.call("SMEMBERS", "chat:user:alice:rooms") == ["#lobby"]


def test_a_rename_claims_the_new_name_across_nodes(start_node):
    _a, _b, alice, bob = alice_and_bob(start_node)
    bob.send("/nick alice")
    assert bob.expect(lines.Error) == lines.Error(
        "the name alice is taken, choose another"
    )
    bob.send("/nick robert")
    assert alice.expect(lines.Renamed) == lines.Renamed("bob", "robert")
    alice.send("/msg robert hi")
    assert bob.expect(lines.PrivateIn) == lines.PrivateIn("alice", "hi")


def test_private_lines_cross_nodes_both_ways(start_node):
    _a, _b, alice, bob = alice_and_bob(start_node)
    alice.send("/msg bob psst")
    assert alice.expect(lines.PrivateOut) == lines.PrivateOut("bob", "psst")
    assert bob.expect(lines.PrivateIn) == lines.PrivateIn("alice", "psst")
    bob.send("/msg alice back")
    assert alice.expect(lines.PrivateIn) == lines.PrivateIn("bob", "back")


def test_room_lines_reach_its_members_on_every_node_and_nobody_else(start_node):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    carol = login(a, "carol")
    bob = login(b, "bob")
    sees_join(alice, "carol")
    sees_join(alice, "bob")
    sees_join(carol, "bob")
    bob.send("/join #dev")
    sees_join(bob, "bob", "#dev")
    # Who makes a room is its operator, on every node.
    bob.expect(InRoom("#dev", lines.RoleChanged("bob", "bob", "o", True)))
    alice.send("/join #dev")
    sees_join(bob, "alice", "#dev")
    alice.send("ship it")
    assert bob.expect(InRoom) == InRoom("#dev", lines.Message("alice", "ship it"))
    # carol, in the default room only, got nothing of #dev.
    nothing_pending(carol, "carol", bob)
    carol.send("/who #dev")
    assert carol.expect(InRoom) == InRoom("#dev", lines.UserList(("alice", "@bob")))
    carol.send("/rooms")
    carol.expect(lines.RoomsHeader)
    rooms = {carol.event(), carol.event()}
    assert lines.RoomEntry("#dev", 2, "") in rooms


def test_who_lists_everyone_of_every_node(start_node):
    _a, _b, alice, bob = alice_and_bob(start_node)
    alice.send("/who")
    assert alice.expect(lines.UserList) == lines.UserList(("alice", "bob"))
    bob.close()


def test_history_written_on_one_node_is_read_on_another(start_node):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    alice.send("/join #dev")
    sees_join(alice, "alice", "#dev")
    for n in range(3):
        alice.send(f"line {n}")
    alice.send("/msg alice (sync)")
    alice.expect(lines.PrivateIn)
    carol = login(b, "carol")
    carol.send("/join #dev")
    sees_join(carol, "carol", "#dev")
    carol.expect(InRoom)  # the members
    kept = history_page(carol, "#dev")
    assert [entry.line for entry in kept] == [
        lines.Message("alice", f"line {n}") for n in range(3)
    ]
    ids = [entry.id for entry in kept]
    assert ids == sorted(ids) and len(set(ids)) == 3
    carol.send("/history #dev 2")
    assert history_page(carol, "#dev") == []  # shown already: nothing older


def test_a_killed_node_s_users_leave_within_15_seconds_and_free_their_names(
    start_node,
):
    a, b, alice, bob = alice_and_bob(start_node)
    b.process.send_signal(signal.SIGKILL)
    b.process.wait()
    killed = time.monotonic()
    alice.sock.settimeout(20)
    assert alice.expect(lines.Left) == lines.Left("bob", "node lost")
    assert time.monotonic() - killed < 15
    bob.close()
    again = login(a, "bob")
    again.send("/who")
    assert again.expect(lines.UserList) == lines.UserList(("alice", "bob"))


def test_a_node_chats_within_itself_while_redis_is_away_and_catches_up_once(
    start_node, redis
):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    carol = login(a, "carol")
    bob = login(b, "bob")
    sees_join(alice, "carol")
    sees_join(alice, "bob")
    redis.stop()
    a.wait_for_log("Lost Redis")
    alice.send("while redis is away")
    assert carol.expect(lines.Message) == lines.Message("alice", "while redis is away")
    redis.start()
    a.wait_for_log(r"(?s)Lost Redis.*Node a is in the cluster")
    b.wait_for_log(r"(?s)Lost Redis.*Node b is in the cluster")
    bob.sock.settimeout(20)
    assert bob.expect(lines.Message) == lines.Message("alice", "while redis is away")
    alice.send("after")
    assert bob.expect(lines.Message) == lines.Message("alice", "after")
    # carol got the line of the outage once: the next line she reads is this.
    assert carol.expect(lines.Message) == lines.Message("alice", "after")


Line = tuple[str, str]


def read_room_lines(client: Client, counts: dict[str, int]) -> dict[str, list[Line]]:
    """
    Read C{client}'s lines until it has C{counts[room]} messages of each
    room (and none of another).

    @return: The (sender, text) of each message, by room, in the order read.
    """
    client.sock.settimeout(30)
    got: dict[str, list[Line]] = {room: [] for room in counts}
    while any(len(got[room]) < counts[room] for room in counts):
        event = client.event()
        if isinstance(event, InRoom) and isinstance(event.line, lines.Message):
            assert event.room in got, event
            got[event.room].append((event.line.sender, event.line.text))
    return got


def read_joined_room(client: Client, room: str, count: int) -> list[Line]:
    """
    Read C{count} messages of C{room}, which C{client} joined: its history
    replay first, then live lines.

    @return: The (sender, text) of each, in the order read.
    """
    client.sock.settimeout(30)
    got: list[Line] = []
    while len(got) < count:
        event = client.event()
        if isinstance(event, InRoom) and event.room == room:
            line = (
                event.line.line if isinstance(event.line, lines.History) else event.line
            )
            if isinstance(line, lines.Message):
                got.append((line.sender, line.text))
    return got


def listed_elsewhere(client: Client, room: str, name: str) -> None:
    """
    Ask C{/who ROOM} from C{client}, a user of another node, until C{name}
    is listed: that node knows the join.  (Polling another process, within
    the tests' time limit.)
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        client.send(f"/who {room}")
        while True:
            event = client.event()
            if isinstance(event, lines.Error) or (
                isinstance(event, InRoom) and isinstance(event.line, lines.UserList)
            ):
                break
        if isinstance(event, InRoom) and name in {
            # The room's maker is listed as its operator (@).
            listed.lstrip("@+")
            for listed in event.line.names  # type: ignore[union-attr]
        }:
            return
        assert time.monotonic() < deadline, f"{name} never listed in {room}"
        time.sleep(0.05)


def join_at_random(
    chance: random.Random, nodes: list[ChatServer], rooms: tuple[str, ...]
) -> tuple[dict[str, Client], dict[str, set[str]]]:
    """
    Log two watchers in (on nodes a and b, in every room) and six users
    (two per node, each in some of the rooms), and wait until Redis has
    every join: a watcher on another node has seen it.

    @return: The clients and the rooms of each, by name.
    """
    clients = {"wa": login(nodes[0], "wa"), "wb": login(nodes[1], "wb")}
    # wa first, and known on node b, so that wa sees wb come.
    for room in rooms:
        clients["wa"].send(f"/join {room}")
    for room in rooms:
        listed_elsewhere(clients["wb"], room, "wa")
        clients["wb"].send(f"/join {room}")
        sees_join(clients["wa"], "wb", room)
    membership = {name: set(rooms) for name in clients}
    for n in range(6):
        node, name = n % 3, f"u{n}"
        client = clients[name] = login(nodes[node], name)
        chosen = {room for room in rooms if chance.random() < 0.6} or {rooms[0]}
        membership[name] = chosen
        for room in sorted(chosen):
            client.send(f"/join {room}")
            sees_join(clients["wb" if node == 0 else "wa"], name, room)
    return clients, membership


def test_every_line_reaches_every_member_once_in_one_order_on_three_nodes(
    start_node,
):
    chance = random.Random()
    seed = chance.randrange(1 << 30)
    chance.seed(seed)
    nodes = [start_node(name, "--history-replay", "200") for name in "abc"]
    rooms = ("#r1", "#r2")
    clients, membership = join_at_random(chance, nodes, rooms)
    # Two latecomers join #r1 while its lines fly, on nodes b and c.
    late = {"late1": login(nodes[1], "late1"), "late2": login(nodes[2], "late2")}
    joinAt = dict(zip(chance.sample(range(20, 130), len(late)), late, strict=True))
    sent: dict[str, list[Line]] = {room: [] for room in rooms}
    current = {name: sorted(chosen)[-1] for name, chosen in membership.items()}
    for count in range(150):
        if count in joinAt:
            late[joinAt[count]].send("/join #r1")
        name = chance.choice(sorted(clients))
        room = chance.choice(sorted(membership[name]))
        if current[name] != room:
            clients[name].send(f"/join {room}")
            current[name] = room
        text = f"line {count} (seed {seed})"
        clients[name].send(text)
        sent[room].append((name, text))
    got = {
        name: read_room_lines(
            client,
            {
                room: sum(1 for line in sent[room] if line[0] != name)
                for room in membership[name]
            },
        )
        for name, client in clients.items()
    }
    # Every line is in Redis now.  The cluster's one order of each room is
    # its history, read on a node.
    checker = login(nodes[2], "checker")
    for room in rooms:
        checker.send(f"/join {room}")
        sees_join(checker, "checker", room)
        checker.expect(InRoom)  # the members
        order = [(h.line.sender, h.line.text) for h in history_page(checker, room)]  # type: ignore[union-attr]
        assert sorted(order) == sorted(sent[room]), seed
        for name in clients:
            # Each sender's lines in the order it sent them...
            theirs = [line for line in sent[room] if line[0] == name]
            assert [line for line in order if line[0] == name] == theirs, seed
            # ... and each member's, exactly once, in the cluster's order.
            if room in membership[name]:
                others = [line for line in order if line[0] != name]
                assert got[name][room] == others, (name, room, seed)
        if room == "#r1":
            # A latecomer got the lines before it joined in its replay, and
            # the others live: each once, in the cluster's order.
            for client in late.values():
                assert read_joined_room(client, room, len(order)) == order, seed
    # And no copy came late.
    for name, client in {**clients, **late}.items():
        checker.send(f"/msg {name} (sync)")
        while (event := client.event()) != lines.PrivateIn("checker", "(sync)"):
            assert not isinstance(event, InRoom) or not isinstance(
                event.line, lines.Message
            ), (name, event, seed)


def test_what_changed_while_redis_was_unreachable_reaches_the_cluster_after(
    start_node, redis
):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    carol = login(a, "carol")
    bob = login(b, "bob")
    sees_join(alice, "carol")
    sees_join(alice, "bob")
    assert redis.process is not None
    redis.process.send_signal(signal.SIGSTOP)
    try:
        a.wait_for_log("Lost Redis")
        newcomer = a.connect()
        newcomer.expect(lines.Prompt)
        newcomer.send("dave")
        assert newcomer.event() == lines.Error(
            "names cannot be checked while this server is cut off from its "
            "cluster, try again in a moment"
        )
        alice.send("/msg bob are you there?")
        assert alice.expect(lines.Error) == lines.Error(
            "bob cannot be reached while this server is cut off from its "
            "cluster, try again in a moment"
        )
        carol.send("/quit")
        assert alice.expect(lines.Left) == lines.Left("carol", "Quit")
    finally:
        redis.process.send_signal(signal.SIGCONT)
    bob.sock.settimeout(30)
    assert bob.expect(lines.Left) == lines.Left("carol", "Quit")
    a.wait_for_log(r"(?s)Lost Redis.*Node a is in the cluster")
    newcomer.send("carol")
    assert newcomer.expect(lines.Welcome) == lines.Welcome("chat", "carol")
    # Nobody was taken for dead.
    alice.send("still here")
    assert bob.expect(lines.Message) == lines.Message("alice", "still here")


@pytest.mark.parametrize("redis_kind", ["password"])
def test_a_cluster_behind_a_redis_password(start_node):
    a, _b, alice, bob = alice_and_bob(start_node)
    bob.send("behind a password")
    assert alice.expect(lines.Message) == lines.Message("bob", "behind a password")
    # The password is never written to the log.
    assert "s3cret" not in a.log()


@pytest.mark.parametrize("redis_kind", ["password"])
def test_a_wrong_redis_password_is_logged_once_and_nobody_can_log_in(
    start_server, redis
):
    url = redis.url.replace("s3cret", "wrong")
    node = start_server("--cluster", url, "--node-name", "a")
    refused = r"Redis redis://\*\*\*@127\.0\.0\.1:\d+/0 \(commands\): "
    node.wait_for_log(refused)
    client = node.connect()
    client.expect(lines.Prompt)
    client.send("alice")
    assert client.event() == lines.Error(
        "names cannot be checked while this server is cut off from its "
        "cluster, try again in a moment"
    )
    # Both links try again a few times, each refused.
    wait_for(lambda: wrong_passwords(redis) >= 8, "Redis to refuse 8 times")
    assert len(re.findall(refused, node.log())) == 1
    assert "wrong" not in node.log()


def wrong_passwords(redis: RedisServer) -> int:
    """
    @return: How many times C{redis} refused a password.
    """
    found = re.search(r"errorstat_WRONGPASS:count=(\d+)", str(redis.call("INFO")))
    return int(found[1]) if found else 0


@pytest.mark.parametrize("redis_kind", ["password"])
def test_the_redis_password_may_be_read_from_a_file_ps_does_not_show(
    start_server, redis, tmp_path
):
    secret = tmp_path / "redis-password"
    secret.write_text("s3cret\n")
    # The file wins over the URL's password.
    url = redis.url.replace("s3cret", "old")
    node = start_server(
        "--cluster", url, "--cluster-password-file", str(secret), "--node-name", "a"
    )
    node.wait_for_log(r"Node a is in the cluster")
    login(node, "alice")
    assert "s3cret" not in node.log()


@pytest.mark.parametrize("redis_kind", ["tls"])
def test_a_cluster_over_tls(start_node, redis):
    assert redis.url.startswith("rediss://")
    _a, _b, alice, bob = alice_and_bob(start_node)
    bob.send("over tls")
    assert alice.expect(lines.Message) == lines.Message("bob", "over tls")


def test_history_is_trimmed_to_history_max_across_the_cluster(start_node):
    a = start_node("a", "--history-max", "5", "--history-replay", "50")
    b = start_node("b", "--history-max", "5", "--history-replay", "50")
    alice = login(a, "alice")
    for n in range(8):
        alice.send(f"line {n}")
    alice.send("/msg alice (sync)")
    alice.expect(lines.PrivateIn)
    bob = login(b, "bob")
    kept = history_page(bob)
    assert [entry.line for entry in kept] == [
        lines.Message("alice", f"line {n}") for n in range(3, 8)
    ]


def test_irc_and_line_users_of_two_nodes_share_a_room(start_node):
    from tests.integration.irc_support import IrcSocket

    a = start_node("a", "--irc", "tcp:0:interface=127.0.0.1")
    b = start_node("b")
    bob = login(b, "bob")
    bob.send("/join #dev")
    sees_join(bob, "bob", "#dev")
    irc = IrcSocket(a.ircPorts[0])
    irc.register("ircy", "echo-message", "message-tags", join="#dev")
    sees_join(bob, "ircy", "#dev")
    irc.send("NAMES #dev")
    names = irc.expect("353")
    # bob made the room, on the other node: its operator.
    assert set(names.params[-1].split()) == {"ircy", "@bob"}
    irc.send("PRIVMSG #dev :hello from irc")
    echo = irc.expect("PRIVMSG")
    assert echo.params == ("#dev", "hello from irc")
    assert "msgid" in echo.tags
    assert bob.expect(InRoom) == InRoom("#dev", lines.Message("ircy", "hello from irc"))
    bob.send("hi irc")
    got = irc.expect("PRIVMSG")
    assert got.prefix.startswith("bob!") and got.params == ("#dev", "hi irc")
    assert int(got.tags["msgid"]) > int(echo.tags["msgid"])
    irc.send("WHOIS bob")
    whois = irc.until("318")
    byCommand = {reply.command: reply for reply in whois}
    assert byCommand["311"].params[1:4] == ("bob", "bob", "line")
    # bob made #dev, on the other node: its operator.
    assert byCommand["319"].params[-1].split() == ["#lobby", "@#dev"]
    irc.send("WHO #dev")
    who = irc.until("315")
    assert {reply.params[5] for reply in who if reply.command == "352"} == {
        "ircy",
        "bob",
    }


def test_a_node_started_before_redis_says_so_once_and_joins_when_it_is_up(
    tmp_path, start_server
):
    port = free_port()
    node = start_server(
        "--cluster", f"redis://127.0.0.1:{port}", "--node-name", "early"
    )
    node.wait_for_log(r"Cannot reach Redis redis://127\.0\.0\.1:\d+/0 \(commands\)")
    directory = tmp_path / "redis"
    directory.mkdir()
    redis = RedisServer(directory, port=port)
    try:
        node.wait_for_log("Node early is in the cluster")
        assert node.log().count("Cannot reach Redis") == 2  # commands, reader
        login(node, "alice")
    finally:
        redis.stop()


def test_web_and_line_users_of_two_nodes_talk_with_the_cluster_s_ids(start_node):
    from tests.integration.wsclient import WebSocketClient

    a = start_node("a")
    b = start_node("b", "--web", "tcp:0:interface=127.0.0.1")
    alice = login(a, "alice")
    bob = WebSocketClient(b.webPorts[0])
    assert bob.login("bob")["name"] == "bob"
    sees_join(alice, "bob")
    bob.send(type="say", text="from the web")
    mine = bob.expect("message")
    assert (mine["from"], mine["text"]) == ("bob", "from the web")
    assert alice.expect(lines.Message) == lines.Message("bob", "from the web")
    alice.send("from a line")
    theirs = bob.expect("message")
    assert theirs["from"] == "alice" and theirs["id"] > mine["id"]
    bob.send(type="msg", to="alice", text="psst")
    assert bob.expect("private")["to"] == "alice"
    assert alice.expect(lines.PrivateIn) == lines.PrivateIn("bob", "psst")


def test_a_node_that_stops_tells_the_others_its_users_left(start_node):
    _a, b, alice, _bob = alice_and_bob(start_node)
    b.stop()
    assert alice.expect(lines.Left) == lines.Left("bob", "Server shutting down")
    alice.send("/who")
    assert alice.expect(lines.UserList) == lines.UserList(("alice",))
