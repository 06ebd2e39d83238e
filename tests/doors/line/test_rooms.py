"""
Rooms and history through the line door: what a user types and reads.
"""

import pytest

from chatserver.testing import ChatHarness
from chatwire import lines


def chat(**settings):
    settings.setdefault("rate", 0)
    server = ChatHarness(**settings)
    clients = [server.login(name) for name in ("alice", "bob", "carol")]
    for client in clients:
        client.received()
    return server, *clients


def InRoom(room, line):
    return lines.InRoom(room, line)


# A user who never types a room command


def test_a_user_who_stays_in_the_default_room_reads_unmarked_lines():
    _, alice, bob, _ = chat()
    bob.send("hello")
    bob.send("/me waves")
    bob.send("/quit")
    bob.lose()
    assert alice.events() == [
        lines.Message("bob", "hello"),
        lines.Action("bob", "waves"),
        lines.Left("bob", "Quit"),
    ]


def test_login_shows_the_default_rooms_recent_history_marked_as_history():
    server, alice, _, _ = chat()
    server.clock.advance(1700000000)
    alice.send("first")
    alice.send("/me second")
    dave = server.connect()
    dave.received()
    dave.send("dave")
    assert dave.events() == [
        lines.Welcome("chat", "dave"),
        lines.UserList(("alice", "bob", "carol", "dave")),
        lines.History(1, 1700000000.0, lines.Message("alice", "first")),
        lines.History(2, 1700000000.0, lines.Action("alice", "second")),
        lines.HistoryEnd(2),
    ]


def test_history_replay_0_shows_no_history_on_login():
    server, alice, _, _ = chat(historyReplay=0)
    alice.send("first")
    dave = server.connect()
    dave.received()
    dave.send("dave")
    assert dave.events() == [
        lines.Welcome("chat", "dave"),
        lines.UserList(("alice", "bob", "carol", "dave")),
    ]


def test_the_replay_is_the_last_history_replay_lines():
    server, alice, _, _ = chat(historyReplay=2)
    for n in range(5):
        alice.send(f"line {n}")
    dave = server.login("dave")
    assert dave.received() == []  # login() read the welcome and the replay
    dave.send("/history 2")
    assert [e.line.text for e in dave.events()[:-1]] == ["line 1", "line 2"]


# Joining and talking in rooms


def test_join_creates_a_room_and_makes_it_the_current_room():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    assert alice.events() == [
        InRoom("#dev", lines.Joined("alice")),
        InRoom("#dev", lines.UserList(("alice",))),
    ]
    alice.send("hello dev")
    assert bob.received() == []


def test_lines_of_a_room_reach_only_its_members():
    _, alice, bob, carol = chat()
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    bob.received()
    alice.send("dev only")
    assert bob.events() == [InRoom("#dev", lines.Message("alice", "dev only"))]
    assert carol.received() == []


def test_a_user_in_several_rooms_reads_every_room_line_marked():
    _, alice, bob, carol = chat()
    alice.send("/join #dev")
    alice.received()
    carol.send("in the lobby")
    assert alice.events() == [InRoom("#lobby", lines.Message("carol", "in the lobby"))]
    assert bob.events() == [lines.Message("carol", "in the lobby")]


def test_joining_again_only_makes_the_room_current():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.received()
    alice.send("/join #lobby")
    assert alice.events() == [
        InRoom("#lobby", lines.Info("#lobby is your current room now"))
    ]
    assert bob.received() == []
    alice.send("back in the lobby")
    assert bob.events() == [lines.Message("alice", "back in the lobby")]
    assert alice.received() == []


def test_room_names_are_unique_regardless_of_case():
    _, alice, bob, _ = chat()
    alice.send("/join #Dev")
    bob.send("/join #dev")
    assert bob.events()[0] == InRoom("#Dev", lines.Joined("bob"))


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("/join dev", "invalid room name: a room name starts with '#', as in #lobby"),
        ("/join #", "invalid room name: a room name needs something after the '#'"),
        ("/join #a/b", "invalid room name: '/' is not allowed in a room name"),
        ("/join " + "#" + "x" * 51, "invalid room name: a room name is at most 50"),
        ("/join", "usage: /join #ROOM"),
        ("/join #a KEY extra", "usage: /join #ROOM [KEY]"),
    ],
)
def test_a_bad_room_name_is_refused_with_its_reason(line, error):
    _, alice, _, _ = chat()
    alice.send(line)
    (event,) = alice.events()
    assert isinstance(event, lines.Error)
    assert event.text.startswith(error)


def test_unicode_letters_are_allowed_in_room_names():
    _, alice, _, _ = chat()
    alice.send("/join #café.ünïcode-日本_1")
    assert alice.events()[0] == InRoom("#café.ünïcode-日本_1", lines.Joined("alice"))


# Leaving rooms


def test_part_leaves_the_room_and_tells_it():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    bob.received()
    bob.send("/part #dev see you")
    assert alice.events() == [InRoom("#dev", lines.Left("bob", "Part: see you"))]
    assert bob.events() == [
        InRoom("#dev", lines.Left("bob", "Part: see you")),
        lines.Info("#lobby is your current room now"),
    ]


def test_part_without_a_room_leaves_the_current_room():
    _, alice, _, _ = chat()
    alice.send("/join #dev")
    alice.received()
    alice.send("/part")
    assert alice.events()[0] == InRoom("#dev", lines.Left("alice", "Part"))


def test_a_user_in_no_room_is_told_to_join_one():
    _, alice, bob, _ = chat()
    alice.send("/part")
    assert bob.events() == [lines.Left("alice", "Part")]
    assert alice.events() == [
        lines.Left("alice", "Part"),
        lines.Info("you are in no room now: /join one to talk"),
    ]
    alice.send("anyone?")
    assert alice.events() == [lines.Error("you are in no room: /join one first")]
    assert bob.received() == []


def test_parting_a_room_one_is_not_in_is_refused():
    _, alice, _, _ = chat()
    alice.send("/part #dev")
    assert alice.events() == [lines.Error("you are not in #dev")]


def test_an_empty_room_disappears_but_its_history_stays():
    _, alice, _, _ = chat()
    alice.send("/join #dev")
    alice.send("remember this")
    alice.send("/part #dev")
    alice.received()
    alice.send("/rooms")
    assert alice.events() == [
        lines.RoomsHeader(1),
        lines.RoomEntry("#lobby", 3),
    ]
    alice.send("/join #dev")
    events = alice.events()
    assert (
        InRoom("#dev", lines.History(1, 0.0, lines.Message("alice", "remember this")))
        in events
    )


# Notices that concern several rooms


def test_a_rename_reaches_each_user_once_however_many_rooms_they_share():
    _, alice, bob, carol = chat()
    for client in (alice, bob):
        client.send("/join #dev")
        client.send("/join #ops")
    for client in (alice, bob):
        client.received()
    bob.send("/nick robert")
    assert alice.events() == [lines.Renamed("bob", "robert")]
    assert bob.events() == [lines.Renamed("bob", "robert")]
    assert carol.events() == [lines.Renamed("bob", "robert")]


def test_a_quit_reaches_each_user_once():
    _, alice, bob, _ = chat()
    for client in (alice, bob):
        client.send("/join #dev")
    alice.received()
    bob.send("/quit bye")
    bob.lose()
    assert alice.events() == [lines.Left("bob", "Quit: bye")]


def test_a_quit_is_not_told_to_users_who_share_no_room():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("/part #lobby")
    alice.received()
    bob.send("/quit")
    bob.lose()
    assert alice.received() == []


def test_private_messages_work_whatever_rooms_the_two_are_in():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("/part #lobby")
    alice.received()
    bob.received()
    bob.send("/msg alice psst")
    assert alice.events() == [lines.PrivateIn("bob", "psst")]
    assert bob.events() == [lines.PrivateOut("alice", "psst")]


# Listing rooms, users, topics


def test_rooms_lists_every_room_with_members_and_topic():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("/topic release on friday")
    bob.send("/join #ops")
    alice.received()
    alice.send("/rooms")
    assert alice.events() == [
        lines.RoomsHeader(3),
        lines.RoomEntry("#dev", 1, "release on friday"),
        lines.RoomEntry("#lobby", 3),
        lines.RoomEntry("#ops", 1),
    ]


def test_who_lists_a_rooms_members():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    alice.send("/who #dev")
    # alice made the room: she is its operator.
    assert alice.events() == [InRoom("#dev", lines.UserList(("@alice", "bob")))]
    alice.send("/who #nope")
    assert alice.events() == [lines.Error("no such room: #nope")]


def test_where_lists_ones_rooms_in_order_always_marked():
    _, alice, bob, _ = chat()
    alice.send("/where")
    assert alice.events() == [
        InRoom("#lobby", lines.UserList(("alice", "bob", "carol")))
    ]
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    alice.send("/where")
    assert alice.events() == [
        InRoom("#lobby", lines.UserList(("alice", "bob", "carol"))),
        InRoom("#dev", lines.UserList(("alice", "bob"))),
    ]
    alice.send("/part #lobby")
    alice.send("/part #dev")
    alice.received()
    alice.send("/where")
    assert alice.events() == []


def test_topic_is_set_announced_and_shown():
    _, alice, bob, carol = chat()
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    bob.received()
    alice.send("/topic #dev ship it")
    assert bob.events() == [InRoom("#dev", lines.TopicSet("alice", "ship it"))]
    assert carol.received() == []
    bob.send("/topic")
    assert bob.events() == [InRoom("#dev", lines.TopicIs("ship it", "alice"))]
    carol.send("/topic #dev")
    assert carol.events() == [InRoom("#dev", lines.TopicIs("ship it", "alice"))]


def test_the_topic_is_shown_on_joining_a_room():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("/topic ship it")
    bob.send("/join #dev")
    events = bob.events()
    assert events[1] == InRoom("#dev", lines.TopicIs("ship it", "alice"))


def test_topic_of_a_room_one_is_not_in_cannot_be_set():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    bob.send("/topic #dev mine")
    assert bob.events() == [lines.Error("you are not in #dev")]


def test_no_topic_is_set_at_first():
    _, alice, _, _ = chat()
    alice.send("/topic")
    assert alice.events() == [lines.TopicIs("")]


# History


def test_history_pages_back_through_older_lines():
    server, alice, _bob, _ = chat(historyReplay=2)
    for n in range(5):
        alice.send(f"line {n}")
    dave = server.login("dave")  # shown lines 3 and 4
    dave.send("/history #lobby 2")
    page = dave.events()
    assert [e.line.text for e in page[:-1]] == ["line 1", "line 2"]
    assert page[-1] == lines.HistoryEnd(2)
    dave.send("/history")
    page = dave.events()
    assert [e.line.text for e in page[:-1]] == ["line 0"]
    dave.send("/history")
    assert dave.events() == [lines.HistoryEnd(0)]


@pytest.mark.parametrize("count", ["²", "٣", "0", "201", "9" * 4000, "-1"])
def test_history_with_a_count_that_is_not_one_to_the_page_size_is_refused(
    count, errors
):
    _server, alice, _bob, _ = chat()
    alice.send(f"/history {count}")
    assert alice.events() == [
        lines.Error("usage: /history [#ROOM] [N], N from 1 to 200")
    ]
    alice.send("still here")
    assert alice.transport.connected and errors == []


def test_history_of_another_room_is_marked_with_it():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("dev line")
    bob.send("/history #dev")
    assert bob.events() == [
        InRoom("#dev", lines.History(1, 0.0, lines.Message("alice", "dev line"))),
        InRoom("#dev", lines.HistoryEnd(1)),
    ]


def test_history_of_a_room_that_is_gone_is_marked_with_it():
    _, alice, bob, _ = chat()
    bob.send("/join #ops")
    alice.send("/join #dev")
    alice.send("said in #dev")
    alice.send("/part #dev")
    bob.received()
    bob.send("/history #dev")
    assert bob.events() == [
        InRoom("#dev", lines.History(1, 0.0, lines.Message("alice", "said in #dev"))),
        InRoom("#dev", lines.HistoryEnd(1)),
    ]


@pytest.mark.parametrize("line", ["/history 0", "/history 201", "/history lots"])
def test_history_takes_1_to_200_lines(line):
    _, alice, _, _ = chat()
    alice.send(line)
    assert alice.events() == [
        lines.Error("usage: /history [#ROOM] [N], N from 1 to 200")
    ]


def test_topic_changes_are_kept_in_history():
    _, alice, bob, _ = chat()
    alice.send("/join #dev")
    alice.send("/topic ship it")
    bob.send("/join #dev")
    assert (
        InRoom("#dev", lines.History(1, 0.0, lines.TopicSet("alice", "ship it")))
        in bob.events()
    )


def test_private_messages_are_not_kept():
    server, alice, _bob, _ = chat()
    alice.send("/msg bob secret")
    dave = server.connect()
    dave.received()
    dave.send("dave")
    assert not any("secret" in line for line in dave.received())


# Limits


def test_max_rooms_per_user():
    _, alice, _, _ = chat(maxRoomsPerUser=2)
    alice.send("/join #a")
    alice.received()
    alice.send("/join #b")
    assert alice.events() == [
        lines.Error("you are in 2 rooms already, /part one first")
    ]


def test_max_rooms():
    _, alice, bob, _ = chat(maxRooms=2)
    alice.send("/join #a")
    bob.send("/join #b")
    assert bob.events() == [
        lines.Error("the server has 2 rooms already, join one of them")
    ]


def test_an_action_whispered_reads_as_one():
    from chatserver.core.events import Whispered
    from chatserver.doors.line.codec import _line

    event = Whispered("alice", "bob", "waves", 0.0, action=True)
    assert _line(event) == lines.PrivateIn("alice", "* alice waves")


def test_history_that_cannot_be_read_is_one_error_line_and_one_log_event():
    from twisted.logger import globalLogPublisher
    from twisted.python.failure import Failure

    from tests.core.fakes import UnreadableHistory

    server = ChatHarness(rate=0, historyReplay=0, history=UnreadableHistory())
    alice = server.login("alice")
    events: list[dict[str, object]] = []
    globalLogPublisher.addObserver(events.append)  # type: ignore[arg-type]
    try:
        alice.send("/history")
    finally:
        globalLogPublisher.removeObserver(events.append)  # type: ignore[arg-type]
    assert alice.events() == [
        lines.Error("history cannot be read right now, try again later")
    ]
    errors = [e for e in events if e.get("chat_event") == "error"]
    assert len(errors) == 1
    failure = errors[0]["log_failure"]
    assert isinstance(failure, Failure) and failure.check(OSError)
