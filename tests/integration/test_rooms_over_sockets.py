"""
Rooms as clients see them over real sockets (and from real nc), against a
real twistd: joining, talking, parting, topics, listings, history, limits.
"""

from __future__ import annotations

import math
import os
import select
import subprocess
import time
from collections.abc import Iterator

import pytest

from chatwire import lines
from tests.integration.support import TIMEOUT, ChatServer, Client, history_page

InRoom = lines.InRoom


def join(client: Client, room: str, name: str, *members: str) -> None:
    """
    C{name} (C{client}) joins C{room}, new to it, with no topic and no
    history: it reads its own join notice and the members, and no more.
    """
    client.send(f"/join {room}")
    assert client.event() == InRoom(room, lines.Joined(name))
    assert client.event() == InRoom(room, lines.UserList(tuple(members)))


def nothing_before(
    reader: Client, readerName: str, sender: Client, senderName: str
) -> None:
    """
    C{sender} sends C{reader} a private message, which must be the very next
    line C{reader} reads: nothing else was on its way to it before.
    """
    sender.send(f"/msg {readerName} (sync)")
    assert sender.expect(lines.PrivateOut) == lines.PrivateOut(readerName, "(sync)")
    assert reader.event() == lines.PrivateIn(senderName, "(sync)")


@pytest.fixture
def users(server: ChatServer) -> tuple[Client, Client, Client]:
    """
    alice, bob and carol, logged in on a fresh server, every join notice
    read.
    """
    alice = server.login("alice")
    bob = server.login("bob")
    carol = server.login("carol")
    assert alice.event() == lines.Joined("bob")
    assert alice.event() == lines.Joined("carol")
    assert bob.event() == lines.Joined("carol")
    return alice, bob, carol


def test_room_lines_reach_its_members_only(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    assert alice.event() == InRoom("#dev", lines.Joined("bob"))
    alice.send("shipping today")
    assert bob.event() == InRoom("#dev", lines.Message("alice", "shipping today"))
    alice.send("/me ships")
    assert bob.event() == InRoom("#dev", lines.Action("alice", "ships"))
    # carol, in #lobby alone, heard none of it, not even the joins.
    nothing_before(carol, "carol", alice, "alice")


def test_a_user_in_two_rooms_reads_each_line_marked_with_its_room(users):
    alice, bob, carol = users
    join(bob, "#dev", "bob", "bob")
    join(carol, "#dev", "carol", "bob", "carol")
    assert bob.event() == InRoom("#dev", lines.Joined("carol"))
    alice.send("lobby line")
    assert bob.event() == InRoom("#lobby", lines.Message("alice", "lobby line"))
    assert carol.event() == InRoom("#lobby", lines.Message("alice", "lobby line"))
    carol.send("dev line")
    assert bob.event() == InRoom("#dev", lines.Message("carol", "dev line"))
    carol.send("/join #lobby")  # back to the lobby as the current room
    assert carol.event() == InRoom(
        "#lobby", lines.Info("#lobby is your current room now")
    )
    carol.send("lobby again")
    assert bob.event() == InRoom("#lobby", lines.Message("carol", "lobby again"))
    # alice, in #lobby alone, reads it unmarked.
    assert alice.event() == lines.Message("carol", "lobby again")


def test_part_leaves_the_room_and_tells_its_members(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    assert alice.event() == InRoom("#dev", lines.Joined("bob"))
    bob.send("/part #dev lunch")
    parted = InRoom("#dev", lines.Left("bob", "Part: lunch"))
    assert bob.event() == parted
    assert bob.event() == lines.Info("#lobby is your current room now")
    assert alice.event() == parted
    alice.send("/who #dev")
    assert alice.event() == InRoom("#dev", lines.UserList(("@alice",)))
    alice.send("bob is gone")
    # bob is in #lobby alone again: he gets nothing of #dev, and reads the
    # lobby unmarked.
    carol.send("plain again")
    assert bob.event() == lines.Message("carol", "plain again")
    nothing_before(bob, "bob", alice, "alice")
    # A part with no room and no reason leaves the current room.
    alice.send("/part")
    assert alice.event() == InRoom("#dev", lines.Left("alice", "Part"))
    assert alice.event() == lines.Info("#lobby is your current room now")
    alice.send("/rooms")
    assert alice.event() == lines.RoomsHeader(1)
    assert alice.event() == lines.RoomEntry("#lobby", 3)


def test_rooms_lists_every_room_with_member_counts_and_topics(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    alice.expect(InRoom("#dev", lines.Joined("bob")))
    alice.send("/topic #dev release on friday")
    bob.expect(InRoom("#dev", lines.TopicSet("alice", "release on friday")))
    join(carol, "#Solo", "carol", "carol")
    carol.send("/rooms")
    assert carol.event() == lines.RoomsHeader(3)
    assert carol.event() == lines.RoomEntry("#dev", 2, "release on friday")
    assert carol.event() == lines.RoomEntry("#lobby", 3)
    assert carol.event() == lines.RoomEntry("#Solo", 1)
    # A room is gone when its last member leaves.
    carol.send("/part #solo")
    assert carol.event() == InRoom("#Solo", lines.Left("carol", "Part"))
    carol.expect(lines.Info)
    carol.send("/rooms")
    assert carol.event() == lines.RoomsHeader(2)
    assert carol.event() == lines.RoomEntry("#dev", 2, "release on friday")
    assert carol.event() == lines.RoomEntry("#lobby", 3)


def test_topic_is_set_announced_and_shown(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    alice.expect(InRoom("#dev", lines.Joined("bob")))
    bob.send("/topic")
    assert bob.event() == InRoom("#dev", lines.TopicIs(""))
    alice.send("/topic #dev release on friday")
    announced = InRoom("#dev", lines.TopicSet("alice", "release on friday"))
    assert alice.event() == announced
    assert bob.event() == announced
    bob.send("/topic #dev")
    assert bob.event() == InRoom("#dev", lines.TopicIs("release on friday", "alice"))
    # A newcomer reads the topic before the members; it is not history.
    carol.send("/join #dev")
    assert carol.event() == InRoom("#dev", lines.Joined("carol"))
    assert carol.event() == InRoom("#dev", lines.TopicIs("release on friday", "alice"))
    assert carol.event() == InRoom("#dev", lines.UserList(("alice", "bob", "carol")))
    # History came with it: the topic change was kept.
    (kept,) = history_page(carol, "#dev")
    assert kept.line == lines.TopicSet("alice", "release on friday")
    # Only members may set it.
    carol.send("/part #dev")
    carol.expect(lines.Info)
    carol.send("/topic #dev mine now")
    assert carol.event() == lines.Error("you are not in #dev")


def test_who_room_lists_its_members(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(carol, "#dev", "carol", "alice", "carol")
    bob.send("/who #dev")  # bob is not in #dev: the answer says which room
    assert bob.event() == InRoom("#dev", lines.UserList(("@alice", "carol")))
    bob.send("/who")
    assert bob.event() == lines.UserList(("alice", "bob", "carol"))
    alice.send("/who")  # the current room, #dev
    alice.expect(InRoom("#dev", lines.Joined("carol")))
    assert alice.event() == InRoom("#dev", lines.UserList(("@alice", "carol")))
    alice.send("/who #LOBBY")
    assert alice.event() == InRoom("#lobby", lines.UserList(("alice", "bob", "carol")))
    bob.send("/who #nowhere")
    assert bob.event() == lines.Error("no such room: #nowhere")


def test_a_rename_reaches_a_user_once_though_they_share_two_rooms(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    assert alice.event() == InRoom("#dev", lines.Joined("bob"))
    bob.send("/nick robert")
    assert bob.event() == lines.Renamed("bob", "robert")
    assert alice.event() == lines.Renamed("bob", "robert")
    assert carol.event() == lines.Renamed("bob", "robert")
    nothing_before(alice, "alice", bob, "robert")
    nothing_before(carol, "carol", bob, "robert")
    nothing_before(bob, "robert", alice, "alice")
    alice.send("/who #dev")
    assert alice.event() == InRoom("#dev", lines.UserList(("@alice", "robert")))


def test_a_quit_reaches_each_co_member_once(server, users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    join(bob, "#dev", "bob", "alice", "bob")
    assert alice.event() == InRoom("#dev", lines.Joined("bob"))
    bob.send("/quit off")
    assert bob.events_until_closed() == [lines.Info("Goodbye!")]
    server.wait_for_log(r"bob left \(Quit: off\)")
    assert alice.event() == lines.Left("bob", "Quit: off")
    assert carol.event() == lines.Left("bob", "Quit: off")
    nothing_before(alice, "alice", carol, "carol")
    nothing_before(carol, "carol", alice, "alice")
    alice.send("/rooms")
    assert alice.event() == lines.RoomsHeader(2)
    assert alice.event() == lines.RoomEntry("#dev", 1)
    assert alice.event() == lines.RoomEntry("#lobby", 2)


def test_a_quit_reaches_nobody_who_shares_no_room(server, users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    alice.send("/part #lobby")  # #dev stays the current room
    assert alice.event() == InRoom("#lobby", lines.Left("alice", "Part"))
    assert bob.event() == lines.Left("alice", "Part")
    assert carol.event() == lines.Left("alice", "Part")
    alice.send("/quit")
    alice.events_until_closed()
    server.wait_for_log(r"alice left \(Quit\)")
    nothing_before(bob, "bob", carol, "carol")


def test_private_messages_cross_rooms(users):
    alice, bob, _ = users
    join(alice, "#dev", "alice", "alice")
    alice.send("/part #lobby")  # alice is in #dev alone, bob in #lobby alone
    assert alice.event() == InRoom("#lobby", lines.Left("alice", "Part"))
    assert bob.event() == lines.Left("alice", "Part")
    alice.send("/msg bob across rooms")
    assert alice.event() == lines.PrivateOut("bob", "across rooms")
    assert bob.event() == lines.PrivateIn("alice", "across rooms")
    bob.send("/msg ALICE and back")
    assert bob.event() == lines.PrivateOut("alice", "and back")
    assert alice.event() == lines.PrivateIn("bob", "and back")
    alice.send("/msg nobody hello?")
    assert alice.event() == lines.Error("no such user: nobody")


def test_a_default_room_user_reads_exactly_the_old_line_forms(server):
    carol = server.connect()
    seen = [carol.readline(), carol.readline()]
    carol.send("carol")
    seen += [carol.readline(), carol.readline()]
    alice = server.login("alice")
    seen.append(carol.readline())
    alice.send("hi")
    seen.append(carol.readline())
    alice.send("/me waves")
    seen.append(carol.readline())
    alice.send("/join #dev")  # what alice does in #dev does not reach carol
    alice.send("only for #dev")
    alice.send("/topic #dev secret plans")
    alice.send("/part #dev")
    alice.send("/nick alicia")
    seen.append(carol.readline())
    alice.send("/msg carol psst")
    seen.append(carol.readline())
    carol.send("/msg alicia what?")
    seen.append(carol.readline())
    carol.send("/who")
    seen.append(carol.readline())
    alice.send("/quit bye")
    seen.append(carol.readline())
    carol.send("/quit")
    seen += [carol.readline(), carol.readline()]
    assert seen == [
        b"-!- Welcome to chat. Type /help for help.\r\n",
        b">>> name: What's your name?\r\n",
        b"=== Welcome to chat, carol!\r\n",
        b"=== Users online (1): carol\r\n",
        b"--> alice has joined\r\n",
        b"<alice> hi\r\n",
        b"* alice waves\r\n",
        b"--- alice is now known as alicia\r\n",
        b"*alicia* psst\r\n",
        b"-> *alicia* what?\r\n",
        b"=== Users online (2): alicia, carol\r\n",
        b"<-- alicia has left (Quit: bye)\r\n",
        b"-!- Goodbye!\r\n",
        b"",
    ]


def test_login_replays_the_default_rooms_recent_history(server, users):
    alice, bob, _ = users
    before = time.time()
    alice.send("first")
    bob.expect(lines.Message("alice", "first"))
    bob.send("/me second")
    alice.expect(lines.Action("bob", "second"))
    after = time.time()
    dave = server.connect()
    dave.expect(lines.Prompt)
    dave.send("dave")
    assert dave.event() == lines.Welcome("chat", "dave")
    assert dave.event() == lines.UserList(("alice", "bob", "carol", "dave"))
    first, second = history_page(dave)  # unmarked: dave is in #lobby alone
    assert first.line == lines.Message("alice", "first")
    assert second.line == lines.Action("bob", "second")
    assert first.id < second.id
    for kept in first, second:
        assert math.floor(before) <= kept.time <= after
    nothing_before(dave, "dave", alice, "alice")


def test_history_replay_zero_replays_nothing(start_server):
    server = start_server("--rate", "0", "--history-replay", "0")
    alice = server.login("alice")
    alice.send("kept but not replayed")
    bob = server.login("bob")
    nothing_before(bob, "bob", alice, "alice")
    bob.send("/history 5")
    (kept,) = history_page(bob)
    assert kept.line == lines.Message("alice", "kept but not replayed")


def test_joining_a_room_replays_its_recent_history(users):
    alice, bob, carol = users
    join(alice, "#dev", "alice", "alice")
    before = time.time()
    alice.send("one")
    alice.send("/me two")
    alice.send("/topic #dev three")
    alice.expect(InRoom("#dev", lines.TopicSet("alice", "three")))
    after = time.time()
    bob.send("/join #dev")
    assert bob.event() == InRoom("#dev", lines.Joined("bob"))
    assert bob.event() == InRoom("#dev", lines.TopicIs("three", "alice"))
    assert bob.event() == InRoom("#dev", lines.UserList(("alice", "bob")))
    kept = history_page(bob, "#dev")
    assert [k.line for k in kept] == [
        lines.Message("alice", "one"),
        lines.Action("alice", "two"),
        lines.TopicSet("alice", "three"),
    ]
    assert [k.id for k in kept] == sorted({k.id for k in kept})
    assert all(math.floor(before) <= k.time <= after for k in kept)
    # What is said afterwards comes live, after the replay.
    alice.send("four")
    assert bob.event() == InRoom("#dev", lines.Message("alice", "four"))
    nothing_before(carol, "carol", alice, "alice")


def test_history_pages_back_to_no_more_history(start_server):
    server = start_server("--rate", "0", "--history-replay", "2")
    alice = server.login("alice")
    join(alice, "#dev", "alice", "alice")
    for n in range(1, 6):
        alice.send(f"line {n}")
    alice.send("/who")
    alice.expect(InRoom("#dev", lines.UserList(("@alice",))))
    bob = server.login("bob")
    bob.send("/join #dev")
    bob.expect(InRoom("#dev", lines.UserList(("alice", "bob"))))
    pages = [history_page(bob, "#dev")]
    while pages[-1]:
        bob.send("/history #dev 2")
        pages.append(history_page(bob, "#dev"))
    texts = [[k.line.text for k in page] for page in pages]  # type: ignore[union-attr]
    assert texts == [
        ["line 4", "line 5"],
        ["line 2", "line 3"],
        ["line 1"],
        [],
    ]
    ids = [k.id for page in reversed(pages) for k in page]
    assert ids == sorted(set(ids))
    # Asked again, it is still the end.
    bob.send("/history #dev")
    assert bob.event() == InRoom("#dev", lines.HistoryEnd(0))
    bob.send("/history #dev 0")
    assert bob.event() == lines.Error("usage: /history [#ROOM] [N], N from 1 to 200")


def test_history_of_a_room_nobody_is_in_is_marked_with_its_room(users):
    alice, bob, _ = users
    join(bob, "#ops", "bob", "bob")  # bob reads every room line marked
    join(alice, "#dev", "alice", "alice")
    alice.send("said in #dev")
    alice.send("/part #dev")
    alice.expect(lines.Info("#lobby is your current room now"))
    alice.send("/rooms")
    assert alice.event() == lines.RoomsHeader(2)  # #dev is gone
    assert alice.event() == lines.RoomEntry("#lobby", 3)
    assert alice.event() == lines.RoomEntry("#ops", 1)
    # The page is about #dev: bob must be able to tell it from any other.
    bob.send("/history #dev")
    (kept,) = history_page(bob, "#dev")
    assert kept.line == lines.Message("alice", "said in #dev")


def test_max_rooms_per_user_refuses_one_more(start_server):
    server = start_server("--rate", "0", "--max-rooms-per-user", "2")
    alice = server.login("alice")
    join(alice, "#one", "alice", "alice")  # #lobby counts: that makes two
    alice.send("/join #two")
    assert alice.event() == lines.Error("you are in 2 rooms already, /part one first")
    alice.send("/rooms")
    assert alice.event() == lines.RoomsHeader(2)
    assert alice.event() == lines.RoomEntry("#lobby", 1)
    assert alice.event() == lines.RoomEntry("#one", 1)
    alice.send("/part #one")
    alice.expect(lines.Info("#lobby is your current room now"))
    join(alice, "#two", "alice", "alice")


def test_max_rooms_refuses_one_more_room_on_the_server(start_server):
    server = start_server("--rate", "0", "--max-rooms", "2")
    alice = server.login("alice")
    join(alice, "#one", "alice", "alice")
    bob = server.login("bob")
    bob.send("/join #two")
    assert bob.expect(lines.Error) == lines.Error(
        "the server has 2 rooms already, join one of them"
    )
    join(bob, "#one", "bob", "alice", "bob")


@pytest.mark.parametrize(
    ("command", "error"),
    [
        ("/join lobby", "invalid room name: a room name starts with '#', as in #lobby"),
        ("/join #", "invalid room name: a room name needs something after the '#'"),
        (
            "/join #no!",
            "invalid room name: '!' is not allowed in a room name "
            "(use letters, digits, '_', '-' and '.')",
        ),
        (
            "/join #" + "x" * 51,
            "invalid room name: a room name is at most 50 characters after "
            "the '#' (that one has 51)",
        ),
        ("/join #two key words", "usage: /join #ROOM [KEY]"),
        ("/join", "usage: /join #ROOM [KEY]"),
        ("/part #nowhere", "you are not in #nowhere"),
        (
            "/who #a*b",
            "invalid room name: '*' is not allowed in a room name "
            "(use letters, digits, '_', '-' and '.')",
        ),
        (
            "/history #a,b",
            "invalid room name: ',' is not allowed in a room name "
            "(use letters, digits, '_', '-' and '.')",
        ),
        (
            "/topic #é< hi",
            "invalid room name: '<' is not allowed in a room name "
            "(use letters, digits, '_', '-' and '.')",
        ),
    ],
)
def test_a_bad_room_name_gets_one_error_line_and_the_connection_goes_on(
    server, command, error
):
    alice = server.login("alice")
    alice.send(command)
    assert alice.event() == lines.Error(error)
    alice.send("/who")
    assert alice.event() == lines.UserList(("alice",))
    join(alice, "#fine", "alice", "alice")


class Nc:
    """
    The real nc (Debian's netcat-openbsd) connected to the server, typed
    into line by line, its output read line by line.
    """

    def __init__(self, port: int) -> None:
        self.process = subprocess.Popen(
            ["nc", "127.0.0.1", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._buffer = b""

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def end_input(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def readline(self) -> bytes:
        """
        @return: The next line nc printed, with its line end; C{b""} at its
            end.
        """
        assert self.process.stdout is not None
        output = self.process.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while b"\r\n" not in self._buffer:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out reading nc ({self._buffer!r})"
            if not select.select([output], [], [], left)[0]:
                continue
            chunk = os.read(output, 65536)
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        for pipe in self.process.stdin, self.process.stdout:
            if pipe is not None:
                pipe.close()


@pytest.fixture
def nc(server: ChatServer) -> Iterator[Nc]:
    session = Nc(server.port)
    yield session
    session.close()


def test_a_room_session_works_from_nc(server, nc):
    alice = server.login("alice")
    join(alice, "#dev", "alice", "alice")
    alice.send("before you came")
    assert nc.readline() == b"-!- Welcome to chat. Type /help for help.\r\n"
    assert nc.readline() == b">>> name: What's your name?\r\n"
    nc.type("ncuser")
    assert nc.readline() == b"=== Welcome to chat, ncuser!\r\n"
    assert nc.readline() == b"=== Users online (2): alice, ncuser\r\n"
    assert alice.event() == InRoom("#lobby", lines.Joined("ncuser"))
    nc.type("/join #dev")
    assert nc.readline() == b"#dev --> ncuser has joined\r\n"
    assert nc.readline() == b"#dev === Users online (2): alice, ncuser\r\n"
    replayed = nc.readline()
    kept = lines.parse(replayed)
    assert isinstance(kept, InRoom) and isinstance(kept.line, lines.History)
    assert kept.line.line == lines.Message("alice", "before you came")
    assert replayed.endswith(b"] <alice> before you came\r\n")
    assert nc.readline() == b"#dev === End of history (1 line)\r\n"
    assert alice.event() == InRoom("#dev", lines.Joined("ncuser"))
    alice.send("hello nc")
    assert nc.readline() == b"#dev <alice> hello nc\r\n"
    nc.type("hello alice")
    assert alice.event() == InRoom("#dev", lines.Message("ncuser", "hello alice"))
    nc.type("/topic nc was here")
    assert nc.readline() == b"#dev --- ncuser set the topic: nc was here\r\n"
    nc.type("/rooms")
    assert nc.readline() == b"=== Rooms (2):\r\n"
    assert nc.readline() == b"=== #dev (2 users): nc was here\r\n"
    assert nc.readline() == b"=== #lobby (2 users)\r\n"
    nc.type("/join dev")
    assert nc.readline() == (
        b"!!! invalid room name: a room name starts with '#', as in #lobby\r\n"
    )
    nc.type("/part #dev")
    assert nc.readline() == b"#dev <-- ncuser has left (Part)\r\n"
    assert nc.readline() == b"-!- #lobby is your current room now\r\n"
    nc.type("/quit")
    assert nc.readline() == b"-!- Goodbye!\r\n"
    nc.end_input()  # Ctrl-D: nc ends when both sides are done
    assert nc.readline() == b""
    assert nc.process.wait(TIMEOUT) == 0
    alice.expect(InRoom("#dev", lines.Left("ncuser", "Part")))
    assert alice.event() == lines.Left("ncuser", "Quit")
