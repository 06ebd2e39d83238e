"""
One account, many sessions: a second login of an account adds a session,
every session gets what the account is sent, and to the others the account
is one user.  Driven through the doors in memory (L{ChatHarness}).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.limits.numbers import parse_count
from chatserver.testing import ChatHarness, LineClient
from chatwire import lines


def accounts(**settings: Any) -> ChatHarness:
    checker = InMemoryUsernamePasswordDatabaseDontUse(
        alice=b"s3cret", bob=b"hunter2", carol=b"pw"
    )
    return ChatHarness(checkers=[checker], rate=0, **settings)


PASSWORDS = {"alice": "s3cret", "bob": "hunter2", "carol": "pw"}


def session(server: ChatHarness, name: str, host: str = "127.0.0.1") -> LineClient:
    """
    Log C{name} in on the line door with its password; what it received
    is read.
    """
    client: LineClient = server.connect(host)
    client.send(name)
    client.send(PASSWORDS[name])
    received = client.received()
    assert any(line.startswith("=== Welcome") for line in received), received
    return client


def test_a_second_login_of_an_account_adds_a_session():
    server = accounts()
    first = session(server, "alice")
    second = session(server, "alice")
    user = server.realm.get("alice")
    assert user is not None and len(user.sessions) == 2
    assert len(server.realm) == 1
    assert not first.closing and not second.closing


def test_the_second_session_is_in_the_accounts_rooms_at_once():
    server = accounts()
    first = session(server, "alice")
    first.send("/join #dev")
    client: LineClient = server.connect()
    client.send("alice")
    client.send("s3cret")
    client.received()
    client.send("/where")
    assert [line.split()[0] for line in client.received()] == ["#lobby", "#dev"]


def test_others_see_the_account_join_once_and_listed_once():
    server = accounts()
    bob = session(server, "bob")
    session(server, "alice")
    assert bob.events() == [lines.Joined("alice")]
    session(server, "alice")
    assert bob.events() == []
    bob.send("/who")
    assert bob.events() == [lines.UserList(("alice", "bob"))]


def test_a_line_from_one_session_reaches_the_accounts_other_sessions():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    first.received()
    second.received()
    first.send("hello")
    assert second.events() == [lines.Message("alice", "hello")]
    assert bob.events() == [lines.Message("alice", "hello")]
    # The line door does not echo a user's own lines to the session that
    # sent them.
    assert first.events() == []


def test_every_session_gets_the_rooms_lines():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    first.received()
    second.received()
    bob.send("hi all")
    assert first.events() == second.events() == [lines.Message("bob", "hi all")]


def test_every_session_gets_the_private_lines():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    first.received()
    second.received()
    bob.send("/msg alice psst")
    assert first.events() == second.events() == [lines.PrivateIn("bob", "psst")]


def test_a_private_line_sent_from_one_session_shows_on_the_others_as_sent():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    first.received()
    second.received()
    first.send("/msg bob psst")
    assert first.events() == [lines.PrivateOut("bob", "psst")]
    assert second.events() == [lines.PrivateOut("bob", "psst")]
    assert bob.events() == [lines.PrivateIn("alice", "psst")]


def test_joining_on_one_session_joins_every_session():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    first.received()
    second.received()
    first.send("/join #dev")
    assert lines.InRoom("#dev", lines.Joined("alice")) in second.events()
    second.send("/where")
    assert [line.split()[0] for line in second.received()] == ["#lobby", "#dev"]
    bob = session(server, "bob")
    bob.send("/join #dev")
    bob.send("in dev")
    assert lines.InRoom("#dev", lines.Message("bob", "in dev")) in second.events()


def test_parting_on_one_session_parts_every_session():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    first.send("/join #dev")
    first.received()
    second.received()
    first.send("/part #dev")
    assert any("alice has left" in line for line in second.received())
    second.send("/where")
    assert [line.split()[0] for line in second.received()] == ["#lobby"]


def test_the_others_hear_the_account_leave_only_when_its_last_session_ends():
    server = accounts()
    bob = session(server, "bob")
    first, second = session(server, "alice"), session(server, "alice")
    bob.received()
    second.send("/quit")
    second.lose()
    server.flush()
    assert bob.received() == []
    bob.send("/who")
    assert bob.events() == [lines.UserList(("alice", "bob"))]
    first.send("hello")
    assert bob.events() == [lines.Message("alice", "hello")]
    first.send("/quit")
    first.lose()
    server.flush()
    assert [type(event) for event in bob.events()] == [lines.Left]
    assert "alice" not in server.realm


def test_the_first_session_ending_leaves_the_others_in_the_rooms():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    bob = session(server, "bob")
    first.lose()
    server.flush()
    second.received()
    bob.received()
    bob.send("still there?")
    assert second.events() == [lines.Message("bob", "still there?")]
    assert server.realm.get("alice") is not None
    room = server.realm.getRoom("#lobby")
    assert room is not None and room.members["alice"].sessions == [
        room.members["alice"]
    ]


def test_a_rename_shows_on_every_session():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    first.received()
    second.received()
    first.send("/nick Alice")
    assert first.events() == second.events() == [lines.Renamed("alice", "Alice")]
    second.send("hi")
    assert first.events() == [lines.Message("Alice", "hi")]


def test_a_topic_change_shows_on_every_session():
    server = accounts()
    first, second = session(server, "alice"), session(server, "alice")
    first.received()
    second.received()
    first.send("/topic planning")
    assert first.events() == second.events()
    assert first.events() == []


def test_max_sessions_refuses_one_more_with_one_line():
    server = accounts(maxSessions=2)
    session(server, "alice")
    session(server, "alice")
    third: LineClient = server.connect()
    third.send("alice")
    third.send("s3cret")
    assert third.events()[-1:] == [
        lines.Error(
            "alice has 2 sessions already, the most allowed: "
            "end one first (/sessions end N)"
        )
    ]
    assert not third.closing
    assert len(server.realm.get("alice").sessions) == 2  # type: ignore[union-attr]


def test_sessions_lists_the_accounts_sessions():
    server = accounts()
    first = session(server, "alice", "127.0.0.1")
    session(server, "alice", "192.0.2.7")
    first.send("/sessions")
    listed = first.received()
    assert len(listed) == 2
    assert listed[0].startswith("-!- session 1: line from 127.0.0.1:")
    assert listed[0].endswith("(this one)")
    assert listed[1].startswith("-!- session 2: line from 192.0.2.7:")


def test_sessions_end_ends_another_session():
    server = accounts()
    first = session(server, "alice")
    second = session(server, "alice")
    first.send("/sessions end 2")
    assert first.received()[0].startswith("-!- ended session 2: line from")
    assert second.closing
    second.lose()
    assert len(server.realm.get("alice").sessions) == 1  # type: ignore[union-attr]


def test_sessions_end_with_no_such_session_says_so():
    server = accounts()
    first = session(server, "alice")
    first.send("/sessions end 7")
    assert first.events() == [lines.Error("no such session: 7 (see /sessions)")]
    first.send("/sessions end x")
    assert first.events() == [lines.Error("no such session: x (see /sessions)")]
    first.send("/sessions stop")
    assert first.events() == [lines.Error("usage: /sessions, or /sessions end N")]


def test_guests_stay_one_connection_per_name():
    server = ChatHarness(rate=0)
    server.login("alice")
    second: LineClient = server.connect()
    second.send("alice")
    assert second.events()[-1] == lines.Error("the name alice is taken, choose another")
    assert len(server.realm.get("alice").sessions) == 1  # type: ignore[union-attr]


def test_an_irc_session_and_a_line_session_of_one_account_share_the_room():
    server = accounts()
    line = session(server, "alice")
    irc = server.irc()
    irc.send("PASS s3cret", "NICK alice", "USER a 0 * :A")
    commands = irc.commands()
    assert "001" in commands and "JOIN" in commands  # already in #lobby
    line.received()
    irc.send("PRIVMSG #lobby :from irc")
    assert line.events() == [lines.Message("alice", "from irc")]
    line.send("from line")
    said = [m for m in irc.messages() if m.command == "PRIVMSG"]
    assert [m.params for m in said] == [("#lobby", "from line")]
    assert said[0].prefix.startswith("alice!")


def test_an_irc_session_with_echo_message_gets_its_own_line_once():
    server = accounts()
    session(server, "alice")
    irc = server.irc()
    irc.send("CAP LS 302", "CAP REQ :echo-message")
    irc.send("PASS s3cret", "NICK alice", "USER a 0 * :A", "CAP END")
    irc.raw()
    irc.send("PRIVMSG #lobby :mine")
    said = [m for m in irc.messages() if m.command == "PRIVMSG"]
    assert [m.params for m in said] == [("#lobby", "mine")]


def test_a_web_session_gets_the_line_of_a_line_session():
    server = accounts()
    line = session(server, "alice")
    web = server.web()
    web.messages()
    web.send({"type": "login", "name": "alice", "password": "s3cret"})
    assert web.messages()[0]["type"] == "welcome"
    line.send("to the page")
    said = [m for m in web.messages() if m["type"] == "message"]
    assert [(m["from"], m["text"]) for m in said] == [("alice", "to the page")]


def test_sessions_on_irc_lists_and_ends_sessions_in_notices():
    server = accounts()
    line = session(server, "alice")
    irc = server.irc()
    irc.send("PASS s3cret", "NICK alice", "USER a 0 * :A")
    irc.raw()
    irc.send("SESSIONS")
    notices = [m.params[1] for m in irc.messages() if m.command == "NOTICE"]
    assert [text.split(" from ")[0] for text in notices] == [
        "session 1: line",
        "session 2: irc",
    ]
    assert notices[1].endswith("(this one)")
    irc.send("SESSIONS END 1")
    assert line.closing
    irc.send("SESSIONS STOP")
    fails = [m.params[:2] for m in irc.messages() if m.command == "FAIL"]
    assert fails == [("SESSIONS", "INVALID_PARAMS")]


def test_sessions_on_the_web_door_lists_and_ends_sessions():
    server = accounts()
    line = session(server, "alice")
    web = server.web()
    web.messages()
    web.send({"type": "login", "name": "alice", "password": "s3cret"})
    web.messages()
    web.send({"type": "sessions"})
    (listed,) = web.messages()
    assert [(s["number"], s["door"], s["this"]) for s in listed["sessions"]] == [
        (1, "line", False),
        (2, "web", True),
    ]
    web.send({"type": "sessions", "end": 1})
    assert line.closing
    web.send({"type": "sessions", "end": 5})
    assert web.messages()[-1] == {
        "type": "error",
        "message": "no such session: 5 (see /sessions)",
        "about": "sessions",
    }


def test_a_join_on_a_line_session_is_the_irc_sessions_own_join():
    server = accounts()
    line = session(server, "alice")
    irc = server.irc()
    irc.send("PASS s3cret", "NICK alice", "USER a 0 * :A")
    irc.raw()
    line.send("/join #dev")
    joins = [m for m in irc.messages() if m.command == "JOIN"]
    assert [(m.prefix.split("!")[0], m.params) for m in joins] == [("alice", ("#dev",))]
    line.send("/part #dev")
    parts = [m for m in irc.messages() if m.command == "PART"]
    assert [m.params[0] for m in parts] == ["#dev"]


@given(st.text(max_size=40))
def test_sessions_end_answers_any_text_with_one_line(number: str):
    server = accounts()
    first = session(server, "alice")
    first.send(f"/sessions end {number}".replace("\r", " ").replace("\n", " "))
    answer = first.received()
    assert len(answer) <= 1
    # Session 1 is this one: ending it closes this connection.
    assert first.closing == (parse_count(number.strip()) == 1)


def test_a_web_session_is_told_every_room_of_the_account_current_first():
    server = accounts()
    line = session(server, "alice")
    line.send("/join #dev")
    line.send("/join #ops")
    line.send("/join #dev")
    web = server.web()
    web.messages()
    web.send({"type": "login", "name": "alice", "password": "s3cret"})
    rooms = [m["room"] for m in web.messages() if m["type"] == "room"]
    assert rooms == ["#dev", "#lobby", "#ops"]
