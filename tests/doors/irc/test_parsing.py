"""
What IRC clients type that is not what it looks like: numbers in other
scripts or past what the stores take, empty list items, masks that a regular
expression would take exponential time over, and logins that must not tell
a right password from a wrong one.  Each gets one well-formed answer, the
connection is kept, and nothing is logged as an error.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred
from twisted.logger import globalLogPublisher

from chatserver.core import wildcard
from chatserver.doors.irc.chathistory import BadReference, parse_reference
from chatserver.testing import ChatHarness, IrcClient


def kept(client: IrcClient) -> None:
    """
    Check that C{client}'s connection is open and answers.
    """
    assert not client.transport.disconnecting
    client.send("PING still-there")
    assert client.messages()[-1].params[-1] == "still-there"


@pytest.mark.parametrize("item", [">²", "<²", ">٣", "<-1", ">" + "9" * 30])
def test_list_with_a_count_that_is_not_ascii_digits_is_refused(item, errors):
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice", join="#lobby")
    irc.send(f"LIST {item}")
    [refusal] = irc.messages()
    assert refusal.command == "FAIL"
    assert refusal.params[:3] == ("LIST", "INVALID_PARAMS", item)
    kept(irc)
    assert errors == []


def test_list_counts_still_filter():
    server = ChatHarness(rate=0)
    server.login("bob")
    irc = server.ircLogin("alice", join="#lobby")
    irc.send("JOIN #dev")
    irc.raw()
    irc.send("LIST >1", "LIST <2")
    listed = [m.params[1] for m in irc.messages() if m.command == "322"]
    assert listed == ["#lobby", "#dev"]


def chathistory_client() -> IrcClient:
    server = ChatHarness(rate=0)
    irc = server.ircLogin(
        "alice", "batch", "server-time", "message-tags", "draft/chathistory"
    )
    irc.send("JOIN #lobby")
    irc.raw()
    return irc


@pytest.mark.parametrize("limit", ["²", "0", "-1", "\u0661\u0660"])
def test_chathistory_with_a_limit_that_is_not_ascii_digits_is_refused(limit, errors):
    irc = chathistory_client()
    irc.send(f"CHATHISTORY LATEST #lobby * {limit}")
    [refusal] = irc.messages()
    assert refusal.params == (
        "CHATHISTORY",
        "INVALID_PARAMS",
        "LATEST",
        limit,
        "Invalid limit",
    )
    kept(irc)
    assert errors == []


@pytest.mark.parametrize("msgid", ["9" * 23, str(1 << 63), "²"])
def test_chathistory_with_a_msgid_no_store_can_hold_is_refused(msgid, errors):
    irc = chathistory_client()
    irc.send(f"CHATHISTORY BEFORE #lobby msgid={msgid} 10")
    [refusal] = irc.messages()
    assert refusal.params[:3] == ("CHATHISTORY", "INVALID_PARAMS", "BEFORE")
    kept(irc)
    assert errors == []


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00", "0001-01-01", "2026-13-01T00:00:00Z", "²"]
)
def test_chathistory_with_a_timestamp_out_of_the_calendar_is_refused(moment, errors):
    irc = chathistory_client()
    irc.send(f"CHATHISTORY BEFORE #lobby timestamp={moment} 10")
    [refusal] = irc.messages()
    assert refusal.params[:3] == ("CHATHISTORY", "INVALID_PARAMS", "BEFORE")
    kept(irc)
    assert errors == []


@given(
    st.one_of(
        st.text(),
        st.builds("msgid={}".format, st.text()),
        st.builds("timestamp={}".format, st.text()),
        st.builds("timestamp={}".format, st.datetimes().map(datetime.isoformat)),
    )
)
def test_a_reference_is_read_or_refused_as_a_bad_reference(text):
    try:
        reference = parse_reference(text, star=True)
    except BadReference:
        return
    assert reference.id is None or 0 <= reference.id < 1 << 63


def test_chathistory_takes_the_largest_msgid_a_store_holds(errors):
    irc = chathistory_client()
    irc.send(f"CHATHISTORY BEFORE #lobby msgid={(1 << 63) - 1} 10")
    got = irc.messages()
    assert [m.command for m in got] == ["BATCH", "BATCH"]
    assert errors == []


def test_empty_items_of_a_part_list_are_left_out():
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice", join="#lobby")
    irc.send("PART ,#x,,#lobby,")
    got = irc.messages()
    assert [(m.command, m.params[1:2]) for m in got] == [
        ("403", ("#x",)),
        ("PART", ()),
    ]
    assert got[1].params[0] == "#lobby"


def test_empty_items_of_other_lists_are_left_out():
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice")
    irc.send("JOIN ,", "NAMES ,", "WHOIS ,", "PRIVMSG , :hi", "LIST ,")
    for m in irc.messages():
        assert all(m.params[:-1]), m


def test_cap_ls_with_a_version_that_is_not_ascii_digits(errors):
    server = ChatHarness(rate=0)
    irc = server.irc()
    irc.send("CAP LS ²")
    [ls] = irc.messages()
    assert ls.command == "CAP" and ls.params[1] == "LS"
    assert errors == []


# Masks


LONG = "a" * 50


def test_list_with_a_mask_a_regular_expression_would_take_ages_over():
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice", join=f"#{LONG}")
    irc.send("LIST " + "*a" * 12 + "*b", "LIST " + "*a" * 12 + "*")
    listed = [m.params[1] for m in irc.messages() if m.command == "322"]
    assert listed == [f"#{LONG}"]


def test_who_with_a_mask_a_regular_expression_would_take_ages_over():
    server = ChatHarness(rate=0)
    irc = server.irc()
    irc.send(f"NICK {LONG[:32]}", f"USER a 0 * :{'a' * 400}")
    irc.raw()
    irc.send("WHO " + "*a" * 12 + "*b", "WHO " + "*A" * 12 + "*")
    found = [m.params[5] for m in irc.messages() if m.command == "352"]
    assert found == [LONG[:32]]


def test_a_mask_longer_than_the_bound_is_refused_in_one_line(errors, monkeypatch):
    # An IRC line cannot carry a mask as long as the bound: lower it.
    monkeypatch.setattr(wildcard, "MAX_MASK_LENGTH", 8)
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice")
    irc.send("WHO " + "*" * 9, "LIST " + "?" * 9, "LIST !" + "?" * 9)
    got = irc.messages()
    assert [(m.command, m.params[:2]) for m in got] == [
        ("FAIL", ("WHO", "REFUSED")),
        ("FAIL", ("LIST", "REFUSED")),
        ("FAIL", ("LIST", "REFUSED")),
    ]
    kept(irc)
    assert errors == []


# Passwords


def accounts() -> ChatHarness:
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")
    return ChatHarness([checker], rate=0)


def login_with(server: ChatHarness, password: str) -> list[tuple[str, tuple[str, ...]]]:
    client = server.irc()
    client.send(f"PASS {password}", "NICK alice", "USER a 0 * :A")
    server.clock.advance(5)
    got = [(m.command, m.params[1:]) for m in client.messages()]
    return [*got, ("open", ())] if not client.transport.disconnecting else got


def test_an_online_accounts_right_password_adds_a_session_a_wrong_one_is_464():
    server = accounts()
    online = server.irc()
    online.send("PASS secret", "NICK alice", "USER a 0 * :A")
    assert "001" in online.commands()
    right, wrong = login_with(server, "secret"), login_with(server, "wrong")
    assert right[0][0] == "001"
    assert [c for c, _ in wrong] == ["464", "ERROR"]


def test_a_wrong_password_for_an_account_not_online_is_still_464():
    server = accounts()
    assert [c for c, _ in login_with(server, "wrong")] == ["464", "ERROR"]


class HeldChecker:
    """
    Checks C{alice}'s password C{secret}, answering when told to.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self) -> None:
        self.waiting: list[tuple[Deferred[bytes], bool]] = []

    def requestAvatarId(self, credentials: IUsernamePassword) -> Deferred[bytes]:
        checked: Deferred[bytes] = Deferred()
        right = credentials.username == b"alice" and credentials.password == b"secret"
        self.waiting.append((checked, right))
        return checked

    def answer(self) -> None:
        for checked, right in self.waiting:
            if right:
                checked.callback(b"alice")
            else:
                checked.errback(UnauthorizedLogin())
        self.waiting = []


def test_an_account_that_comes_online_while_its_password_is_checked_adds_one(errors):
    checker = HeldChecker()
    server = ChatHarness([checker], rate=0)  # type: ignore[list-item]
    right, wrong, first = server.irc(), server.irc(), server.irc()
    for client, password in ((right, "secret"), (wrong, "guess"), (first, "secret")):
        client.send(f"PASS {password}", "NICK alice", "USER a 0 * :A")
    checker.waiting.append(checker.waiting.pop(0))  # the first one is let in first
    checker.waiting.append(checker.waiting.pop(0))
    checker.answer()
    server.clock.advance(5)
    assert "001" in first.commands()
    assert "001" in right.commands()
    assert [m.command for m in wrong.messages()] == ["464", "ERROR"]
    assert len(server.realm.get("alice").sessions) == 2  # type: ignore[union-attr]
    assert [e for e in errors if "log_failure" in e] == []


# The fan-out with the doors' own codecs


def test_a_quit_reason_no_door_can_encode_stops_no_later_delivery(errors):
    """
    A lone surrogate in a quit reason (finding 2) cost every delivery after
    it, for good; now it costs at most that one notice.
    """
    server = ChatHarness(rate=0)
    line, speaker, mallory = (server.connect() for _ in range(3))
    irc = server.irc()
    for client, name in ((line, "bob"), (speaker, "dave"), (mallory, "mallory")):
        client.send(name)
    irc.send("NICK carol", "USER carol 0 * :Carol", "JOIN #lobby")
    server.clock.advance(0)
    line.received()
    irc.raw()
    server.realm.get("mallory").quit("\ud800")  # type: ignore[union-attr]
    server.clock.advance(0)
    line.received()
    irc.raw()
    speaker.send("still heard")
    server.clock.advance(0)
    assert "<dave> still heard" in line.received()
    assert irc.messages()[-1].params == ("#lobby", "still heard")
    assert sorted(e["codec"] for e in errors) in ([], ["IrcCodec", "LineCodec"])


_COMMANDS = [
    "LIST",
    "WHO",
    "CHATHISTORY",
    "PART",
    "JOIN",
    "NAMES",
    "WHOIS",
    "CAP",
    "MODE",
    "TOPIC",
    "USERHOST",
    "ISON",
    "PRIVMSG",
    "NOTICE",
    "AWAY",
]
_WORDS = st.one_of(
    st.sampled_from(
        [
            "*",
            "#lobby",
            ",#lobby",
            "LATEST",
            "BEFORE",
            "LS",
            ">1",
            "<\u00b2",
            "\u00b2",
            "msgid=1",
            "msgid=" + "9" * 23,
            "timestamp=0001-01-01",
            "0",
        ]
    ),
    st.text(
        alphabet=st.characters(blacklist_characters="\r\n\0 ", codec="utf-8"),
        min_size=1,
        max_size=12,
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(_COMMANDS), st.lists(_WORDS, max_size=5))
def test_any_parameters_get_answers_and_no_traceback(command, words):
    logged: list[object] = []

    def observe(event: dict[str, object]) -> None:
        if "log_failure" in event:
            logged.append(event)

    server = ChatHarness(rate=0)
    irc = server.ircLogin(
        "alice", "batch", "server-time", "message-tags", "draft/chathistory"
    )
    irc.send("JOIN #lobby")
    irc.raw()
    globalLogPublisher.addObserver(observe)  # type: ignore[arg-type]
    try:
        irc.send(" ".join([command, *words]))
    finally:
        globalLogPublisher.removeObserver(observe)  # type: ignore[arg-type]
    assert logged == []
    kept(irc)
