"""
Read and missed: an account's read markers, shared by its sessions and
moved from any door, the replay since the marker on login, and the private
lines kept between two accounts; in memory and across a restart (SQLite).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.core.conversations import private_key
from chatserver.history.sqlite import FLUSH_DELAY
from chatserver.history.store import HistoryStore
from chatserver.state.markers import MemoryMarkers, ReadMarker, farther
from chatserver.testing import ChatHarness, LineClient
from chatwire import lines
from tests.core.test_sessions import PASSWORDS, session
from tests.history.support import result
from tests.history.test_sqlite import Opened


def accounts(history: HistoryStore | None = None, **settings: Any) -> ChatHarness:
    checker = InMemoryUsernamePasswordDatabaseDontUse(
        **{name: password.encode() for name, password in PASSWORDS.items()}
    )
    return ChatHarness(checkers=[checker], history=history, rate=0, **settings)


def say(client: LineClient, *texts: str) -> None:
    for text in texts:
        client.send(text)


def ids(server: ChatHarness, key: str = "#lobby") -> list[int]:
    return [entry.id for entry in result(server.realm.history.query(key, 200))]


# Markers in the core


def test_a_marker_only_moves_forward():
    markers = MemoryMarkers()
    assert result(markers.setReadMarker("alice", "#a", ReadMarker(5, 1000))) == (
        ReadMarker(5, 1000)
    )
    assert result(markers.setReadMarker("alice", "#a", ReadMarker(3, 500))) == (
        ReadMarker(5, 1000)
    )
    assert result(markers.readMarkers("alice")) == {"#a": ReadMarker(5, 1000)}
    assert result(markers.readMarkers("bob")) == {}


def test_a_marker_keeps_the_later_time_and_the_larger_id():
    markers = MemoryMarkers()
    result(markers.setReadMarker("alice", "#a", ReadMarker(None, 9_000)))
    kept = result(markers.setReadMarker("alice", "#a", ReadMarker(5, 3_000)))
    assert kept == ReadMarker(5, 9_000)


def test_a_marker_at_no_line_is_kept():
    markers = MemoryMarkers()
    kept = result(markers.setReadMarker("alice", "#a", ReadMarker(None, 1_000)))
    assert kept == ReadMarker(None, 1_000)
    assert result(markers.readMarkers("alice")) == {"#a": kept}


marker_parts = st.builds(
    ReadMarker, st.none() | st.integers(1, 10**9), st.integers(-(10**14), 10**14)
)


@given(st.none() | marker_parts, marker_parts)
def test_a_marker_s_time_and_id_never_move_back(
    kept: ReadMarker | None, marker: ReadMarker
) -> None:
    now = farther(kept, marker)
    for before in (kept, marker):
        if before is not None:
            assert now.stamp >= before.stamp
            assert (now.id or 0) >= (before.id or 0)
    if kept is not None:
        assert now == farther(marker, kept)


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_a_private_conversation_has_one_key_whoever_names_it(one, other):
    assert private_key(one, other) == private_key(other, one)
    assert private_key(one.upper(), other) == private_key(one.lower(), other)
    assert not private_key(one, other).startswith("#")


# The line door


def test_read_marks_the_room_read_and_every_session_is_told():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    say(bob, "one", "two")
    first.received()
    second.received()
    first.send("/read")
    newest = ids(server)[-1]
    told = lines.ReadUpTo("#lobby", newest, 0)
    assert first.events() == second.events() == [told]


def test_read_up_to_an_id_counts_the_lines_after_it():
    server = accounts()
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "one", "two", "three")
    alice.received()
    first = ids(server)[0]
    alice.send(f"/read #lobby {first}")
    assert alice.events() == [lines.ReadUpTo("#lobby", first, 2)]


def test_a_read_marker_does_not_move_back():
    server = accounts()
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "one", "two")
    alice.received()
    alice.send("/read")
    alice.received()
    alice.send(f"/read {ids(server)[0]}")
    assert alice.events() == [lines.ReadUpTo("#lobby", ids(server)[-1], 0)]


def test_read_in_a_room_with_no_line_says_so():
    server = accounts()
    alice = session(server, "alice")
    alice.send("/read")
    assert alice.events() == [lines.Error("there is no line to mark read in #lobby")]


def test_read_with_a_bad_id_shows_its_usage():
    server = accounts()
    alice = session(server, "alice")
    alice.send("/read #lobby x1")
    assert alice.events() == [lines.Error("usage: /read [#ROOM|NAME] [ID]")]


def test_a_guest_has_no_read_marker():
    server = ChatHarness(rate=0)
    guest = server.login("guest")
    guest.send("hello")
    guest.send("/read")
    assert guest.events() == [
        lines.Error(
            "read markers and private history are kept for accounts only: "
            "log in with a password"
        )
    ]


def test_login_replays_what_was_said_since_the_marker_after_a_separator():
    server = accounts()
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "old one", "old two")
    alice.send("/read")
    alice.send("/quit")
    alice.lose()
    say(bob, "new one", "new two")
    again: LineClient = server.connect()
    again.send("alice")
    again.send("s3cret")
    shown = [line for line in again.received() if "id" in line or "===" in line]
    texts = [line.split("] ", 1)[-1] for line in shown]
    start = texts.index("=== Not read yet:")
    assert texts[start - 2 : start] == ["<bob> old one", "<bob> old two"]
    assert texts[start + 1 : start + 3] == ["<bob> new one", "<bob> new two"]


def test_login_after_a_marker_before_every_line_replays_them_all_as_unread():
    server = accounts()
    alice = session(server, "alice")
    irc = irc_session(server, "draft/read-marker")
    irc.send("MARKREAD #lobby timestamp=1970-01-01T00:00:00.000Z")
    irc.lose()
    alice.send("/quit")
    alice.lose()
    bob = session(server, "bob")
    server.clock.advance(5)
    say(bob, "new one", "new two")
    again: LineClient = server.connect()
    again.send("alice")
    again.send("s3cret")
    shown = [line for line in again.received() if "id" in line or "===" in line]
    texts = [line.split("] ", 1)[-1] for line in shown]
    start = texts.index("=== Not read yet:")
    assert texts[start + 1 : start + 3] == ["<bob> new one", "<bob> new two"]


def test_the_catchup_shows_the_newest_unread_lines_up_to_its_limit():
    server = accounts(historyCatchup=2, historyReplay=1)
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "read")
    alice.send("/read")
    alice.send("/quit")
    alice.lose()
    say(bob, "a", "b", "c")
    again: LineClient = server.connect()
    again.send("alice")
    again.send("s3cret")
    kept = [e for e in again.events() if isinstance(e, lines.History)]
    assert [e.line for e in kept] == [lines.Message("bob", t) for t in ("b", "c")]


def test_with_nothing_unread_the_replay_is_the_usual_one():
    server = accounts(historyReplay=2)
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "a", "b", "c")
    alice.send("/read")
    alice.lose()
    again: LineClient = server.connect()
    again.send("alice")
    again.send("s3cret")
    received = again.received()
    assert "=== Not read yet:" not in received
    assert len([line for line in received if " id " in line]) == 2


# Private lines


def test_private_lines_between_accounts_are_kept_for_both():
    server = accounts()
    alice = session(server, "alice")
    session(server, "bob")
    alice.send("/msg bob psst")
    alice.send("/msg BOB /me waves")
    kept = result(server.realm.history.query(private_key("alice", "bob"), 10))
    assert [(e.sender, e.room, e.kind, e.text) for e in kept] == [
        ("alice", "bob", "message", "psst"),
        ("alice", "bob", "message", "/me waves"),
    ]


def test_private_lines_with_a_guest_are_never_kept():
    server = ChatHarness(rate=0)
    alice = server.login("alice")
    server.login("bob")
    alice.send("/msg bob psst")
    assert result(server.realm.history.query(private_key("alice", "bob"), 10)) == []


def test_read_marks_a_private_conversation_read():
    server = accounts()
    alice = session(server, "alice")
    bob = session(server, "bob")
    bob.send("/msg alice one")
    bob.send("/msg alice two")
    alice.received()
    alice.send("/read bob")
    newest = ids(server, private_key("alice", "bob"))[-1]
    assert alice.events() == [lines.ReadUpTo("bob", newest, 0)]


# IRC


def irc_session(server: ChatHarness, *caps: str) -> Any:
    client = server.irc()
    if caps:
        client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
    client.send("PASS s3cret", "NICK alice", "USER a 0 * :A")
    if caps:
        client.send("CAP END")
    assert "001" in client.commands()
    return client


def test_markread_moves_the_marker_for_every_session():
    server = accounts()
    bob = session(server, "bob")
    line = session(server, "alice")
    irc = irc_session(server, "draft/read-marker", "server-time")
    other = irc_session(server, "draft/read-marker")
    server.clock.advance(10)
    say(bob, "one")
    server.clock.advance(10)
    say(bob, "two")
    line.received()
    irc.raw()
    other.raw()
    irc.send("MARKREAD #lobby timestamp=1970-01-01T00:00:10.000Z")
    first = ids(server)[-2]
    wanted = ("#lobby", "timestamp=1970-01-01T00:00:10.000Z")
    for client in (irc, other):
        marks = [m.params for m in client.messages() if m.command == "MARKREAD"]
        assert marks == [wanted]
    assert line.events() == [lines.ReadUpTo("#lobby", first, 1)]


def test_markread_in_a_room_with_no_line_keeps_the_timestamp_for_every_session():
    server = accounts()
    irc = irc_session(server, "draft/read-marker")
    other = irc_session(server, "draft/read-marker")
    irc.send("JOIN #dev")
    irc.raw()
    other.raw()
    irc.send("MARKREAD #dev timestamp=2022-11-11T11:11:11.111Z")
    wanted = [("#dev", "timestamp=2022-11-11T11:11:11.111Z")]
    assert [m.params for m in other.messages() if m.command == "MARKREAD"] == wanted
    irc.raw()
    irc.send("MARKREAD #dev")
    assert [m.params for m in irc.messages()] == wanted


def test_markread_answers_the_timestamp_given_not_the_line_s():
    server = accounts()
    bob = session(server, "bob")
    session(server, "alice")
    irc = irc_session(server, "draft/read-marker")
    server.clock.advance(10.5)
    say(bob, "one")
    irc.raw()
    irc.send("MARKREAD #lobby timestamp=1970-01-01T00:00:59.999Z")
    wanted = ("#lobby", "timestamp=1970-01-01T00:00:59.999Z")
    assert [m.params for m in irc.messages()] == [wanted]


def test_a_line_marked_read_elsewhere_is_shown_on_irc_at_its_time():
    server = accounts()
    bob = session(server, "bob")
    line = session(server, "alice")
    irc = irc_session(server, "draft/read-marker")
    server.clock.advance(12.3456)
    say(bob, "one")
    line.send("/read")
    wanted = ("#lobby", "timestamp=1970-01-01T00:00:12.345Z")
    assert [m.params for m in irc.messages() if m.command == "MARKREAD"] == [wanted]


def test_a_marker_before_the_first_line_leaves_every_line_unread():
    server = accounts()
    bob = session(server, "bob")
    line = session(server, "alice")
    irc = irc_session(server, "draft/read-marker")
    server.clock.advance(10)
    say(bob, "one", "two")
    line.received()
    irc.send("MARKREAD #lobby timestamp=1970-01-01T00:00:05.000Z")
    assert line.events() == [lines.ReadUpTo("#lobby", 0, 2)]


def test_lines_read_after_a_timestamp_ahead_of_them_still_count_as_read():
    server = accounts()
    bob = session(server, "bob")
    line = session(server, "alice")
    irc = irc_session(server, "draft/read-marker")
    irc.send("MARKREAD #lobby timestamp=2100-01-01T00:00:00.000Z")
    say(bob, "one", "two")
    line.received()
    irc.raw()
    line.send("/read")
    assert line.events() == [lines.ReadUpTo("#lobby", ids(server)[-1], 0)]
    wanted = ("#lobby", "timestamp=2100-01-01T00:00:00.000Z")
    assert [m.params for m in irc.messages() if m.command == "MARKREAD"] == [wanted]


def test_markread_without_a_timestamp_tells_where_the_marker_is():
    server = accounts()
    irc = irc_session(server, "draft/read-marker")
    irc.send("JOIN #dev")
    irc.raw()
    irc.send("MARKREAD #dev")
    assert [m.params for m in irc.messages()] == [("#dev", "*")]


def test_markread_is_sent_after_a_join_before_the_end_of_names():
    server = accounts()
    irc = irc_session(server, "draft/read-marker")
    irc.send("JOIN #dev")
    commands = irc.commands()
    assert commands.index("MARKREAD") < commands.index("366")
    assert commands.index("JOIN") < commands.index("MARKREAD")


def test_markread_errors():
    server = accounts()
    irc = irc_session(server, "draft/read-marker")
    irc.send("MARKREAD")
    irc.send("MARKREAD #lobby yesterday")
    fails = [m.params[:2] for m in irc.messages() if m.command == "FAIL"]
    assert fails == [("MARKREAD", "NEED_MORE_PARAMS"), ("MARKREAD", "INVALID_PARAMS")]


def test_the_read_marker_capability_is_offered_with_accounts_only():
    for server, offered in ((accounts(), True), (ChatHarness(), False)):
        client = server.irc()
        client.send("CAP LS 302")
        ls = " ".join(m.params[-1] for m in client.messages() if m.command == "CAP")
        assert ("draft/read-marker" in ls.split()) is offered


def test_chathistory_on_a_nick_gives_the_private_conversation():
    server = accounts()
    bob = session(server, "bob")
    phone = session(server, "alice")
    bob.send("/msg alice hello alice")
    phone.lose()
    irc = irc_session(server, "draft/chathistory", "batch", "server-time")
    irc.send("PRIVMSG bob :hello bob")
    irc.raw()
    irc.send("CHATHISTORY LATEST bob * 10")
    said = [m for m in irc.messages() if m.command == "PRIVMSG"]
    assert [(m.prefix.split("!")[0], m.params) for m in said] == [
        ("bob", ("alice", "hello alice")),
        ("alice", ("bob", "hello bob")),
    ]


def test_chathistory_on_a_nick_is_empty_for_a_guest():
    server = ChatHarness(rate=0)
    server.login("bob").send("/msg alice hi")
    irc = server.ircLogin("alice", "draft/chathistory", "batch")
    irc.send("CHATHISTORY LATEST bob * 10")
    assert [m.command for m in irc.messages()] == ["BATCH", "BATCH"]


# The web door


def test_a_read_message_on_the_web_door_moves_the_marker():
    server = accounts()
    line = session(server, "alice")
    session(server, "bob").send("hi")
    web = server.web()
    web.messages()
    web.send({"type": "login", "name": "alice", "password": "s3cret"})
    web.messages()
    line.received()
    web.send({"type": "read", "target": "#lobby"})
    newest = ids(server)[-1]
    reads = [m for m in web.messages() if m["type"] == "read"]
    assert reads == [
        {"type": "read", "target": "#lobby", "id": newest, "time": 0.0, "unread": 0}
    ]
    assert line.events() == [lines.ReadUpTo("#lobby", newest, 0)]


def test_the_web_replay_says_where_the_unread_part_begins():
    server = accounts()
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "seen")
    alice.send("/read")
    alice.lose()
    say(bob, "missed")
    web = server.web()
    web.messages()
    web.send({"type": "login", "name": "alice", "password": "s3cret"})
    (history,) = [m for m in web.messages() if m["type"] == "history"]
    assert history["unreadFrom"] == ids(server)[-1]
    assert [e["text"] for e in history["entries"]] == ["seen", "missed"]


# Across a restart


def test_markers_and_private_lines_outlive_a_restart(tmp_path: Path):
    path = tmp_path / "chat.db"
    opened = Opened(path).start()
    server = accounts(opened.store)
    alice = session(server, "alice")
    bob = session(server, "bob")
    say(bob, "before")
    alice.send("/msg bob kept")
    alice.send("/read")
    opened.flush()
    server.flush()
    opened.stop()

    reopened = Opened(path).start()
    again = accounts(reopened.store)
    bob = session(again, "bob")
    say(bob, "after")
    reopened.flush()
    alice = again.connect()
    alice.send("alice")
    alice.send("s3cret")
    received = [line.split("] ", 1)[-1] for line in alice.received()]
    assert received[received.index("=== Not read yet:") + 1] == "<bob> after"
    private = result(reopened.store.query(private_key("bob", "alice"), 10))
    assert [entry.text for entry in private] == ["kept"]
    assert FLUSH_DELAY > 0
    reopened.stop()


@given(st.text(max_size=40))
def test_read_answers_any_arguments_with_one_line(args: str):
    server = accounts()
    alice = session(server, "alice")
    alice.send("said")
    alice.send(f"/read {args}".replace("\r", " ").replace("\n", " "))
    answer = alice.received()
    assert len(answer) == 1
    assert answer[0].startswith(("!!! ", "=== Read ")), answer
    assert not alice.closing
