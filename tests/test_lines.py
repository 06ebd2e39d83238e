"""
The wire format: every kind of server line formats as documented and parses
back into the event it came from.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatwire import lines
from tests.strategies import events, names, texts


@given(events)
def test_parse_gives_back_what_was_formatted(event):
    assert lines.parse(event.format()) == event


@given(events)
def test_encoded_line_is_one_utf8_line_ending_in_crlf(event):
    data = lines.encode(event)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data[:-2] and b"\r" not in data[:-2]
    assert lines.parse(data) == event


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (lines.Message("alice", "hi there"), "<alice> hi there"),
        (lines.Action("alice", "waves"), "* alice waves"),
        (lines.PrivateIn("alice", "psst"), "*alice* psst"),
        (lines.PrivateOut("bob", "psst"), "-> *bob* psst"),
        (lines.Joined("bob"), "--> bob has joined"),
        (lines.Left("bob", ""), "<-- bob has left"),
        (lines.Left("bob", "Quit: bye"), "<-- bob has left (Quit: bye)"),
        (lines.Renamed("bob", "robert"), "--- bob is now known as robert"),
        (lines.UserList(("alice", "bob")), "=== Users online (2): alice, bob"),
        (lines.UserList(()), "=== Users online (0):"),
        (lines.Welcome("chat", "alice"), "=== Welcome to chat, alice!"),
        (lines.Prompt("name", "What's your name?"), ">>> name: What's your name?"),
        (
            lines.Info("hello"),
            "-!- hello",
        ),
        (lines.Error("no such user: carol"), "!!! no such user: carol"),
        (lines.TopicSet("bob", "ship it"), "--- bob set the topic: ship it"),
        (lines.TopicSet("bob", ""), "--- bob cleared the topic"),
        (lines.TopicIs("ship it", "bob"), "=== Topic set by bob: ship it"),
        (lines.TopicIs(""), "=== No topic is set"),
        (lines.RoomsHeader(2), "=== Rooms (2):"),
        (lines.RoomEntry("#dev", 3, "ship it"), "=== #dev (3 users): ship it"),
        (lines.RoomEntry("#dev", 1), "=== #dev (1 user)"),
        (lines.HistoryEnd(2), "=== End of history (2 lines)"),
        (lines.HistoryEnd(1), "=== End of history (1 line)"),
        (lines.HistoryEnd(0), "=== No more history"),
        (lines.ReadUpTo("#dev", 41, 2), "=== Read #dev up to id 41 (2 unread)"),
        (lines.ReadUpTo("bob", 7, 0), "=== Read bob up to id 7 (0 unread)"),
        (lines.UnreadFrom(), "=== Not read yet:"),
        (
            lines.History(41, 1764586923.0, lines.Message("bob", "hi")),
            "[2025-12-01 11:02:03Z id 41] <bob> hi",
        ),
        (lines.InRoom("#dev", lines.Message("bob", "hi")), "#dev <bob> hi"),
        (
            lines.InRoom("#dev", lines.History(7, 0.0, lines.Action("bob", "waves"))),
            "#dev [1970-01-01 00:00:00Z id 7] * bob waves",
        ),
    ],
)
def test_each_kind_reads_as_documented(event, line):
    assert event.format() == line


def test_leave_reason_with_parentheses_parses_whole():
    assert lines.parse("<-- bob has left (a) (b)") == lines.Left("bob", "a) (b")


def test_message_from_a_name_of_dashes_is_not_a_leave_notice():
    assert lines.parse("<--> x has left") == lines.Message("--", "x has left")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "hello",
        "<alice>",
        "=== Users online (3): a, b",
        "*** x",
        b"\xff\xfe",
        "#dev",
        "#dev hello",
        "[2025-12-01 11:02:03Z id x] <bob> hi",
        "#dev #ops <bob> hi",
    ],
)
def test_a_line_that_is_no_server_line_is_refused(line):
    with pytest.raises(lines.LineFormatError):
        lines.parse(line)


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (
            lines.RoleChanged("alice", "bob", "o", True),
            "-!- alice gave operator (+o) to bob",
        ),
        (
            lines.RoleChanged("alice", "bob", "v", False),
            "-!- alice took voice (-v) from bob",
        ),
        (
            lines.BanChanged("alice", "ban", "spam*", True, 86400.0, "spam"),
            "-!- alice banned spam* until 1970-01-02 00:00:00Z: spam",
        ),
        (
            lines.BanChanged("alice", "mute", "bob", True),
            "-!- alice muted bob until lifted",
        ),
        (
            lines.BanChanged("alice", "ban", "spam*", False),
            "-!- alice lifted the ban on spam*",
        ),
        (
            lines.BanChanged("", "mute", "bob", False),
            "-!- the mute on bob ended",
        ),
        (
            lines.ModeChanged("alice", "+mk", ("sesame",)),
            "-!- alice set mode +mk sesame",
        ),
    ],
)
def test_each_moderation_line_reads_as_the_line_door_sends_it(event, line):
    assert event.format() == line
    assert lines.parse(line) == event


def test_a_role_line_whose_words_disagree_is_only_information():
    line = "-!- alice gave voice (+o) to bob"
    assert lines.parse(line) == lines.Info("alice gave voice (+o) to bob")


@given(names, names, texts | st.just(""))
def test_a_kick_reads_back_as_who_kicked_and_why(name, actor, reason):
    left = lines.parse(lines.Left.kick(name, actor, reason).format())
    assert isinstance(left, lines.Left)
    assert (left.name, left.kicker) == (name, (actor, reason))


def test_a_leave_that_is_no_kick_has_no_kicker():
    assert lines.Left("bob", "Quit: kicked by nobody at all").kicker is None


@given(names, st.sampled_from(["", "o", "v", "ov"]))
def test_a_member_list_name_reads_back_as_its_name_and_highest_role(name, roles):
    assert lines.split_member(lines.member(name, roles)) == (name, roles[:1])
