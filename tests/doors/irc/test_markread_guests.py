"""
C{draft/read-marker} for a guest (irctest's read-marker tests): a guest
with the capability keeps markers of its own, for its connection only
(never stored, gone when it leaves); it is told its marker after every
C{JOIN} (C{*} for none) and when it asks, and a marker it sets is answered
with its timestamp exactly, even where no line was said.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chatserver.doors.irc.stamps import format_stamp
from chatserver.testing import ChatHarness
from tests.doors.irc.test_stamps import stamps

TS = "2019-01-04T14:33:26.123Z"


def guest(*caps: str, server: ChatHarness | None = None, nick: str = "alice") -> Any:
    server = server or ChatHarness(rate=0, accounts="memory")
    client = server.irc()
    client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
    client.send(f"NICK {nick}", "USER a 0 * :A", "CAP END")
    assert "001" in client.commands()
    client.raw()
    return client


def marks(client: Any) -> list[tuple[str, ...]]:
    return [m.params for m in client.messages() if m.command == "MARKREAD"]


def joined(*caps: str, **kwargs: Any) -> Any:
    client = guest(*caps, **kwargs)
    client.send("JOIN #dev")
    client.raw()
    return client


def test_a_guest_is_told_no_marker_after_a_join_before_the_end_of_names():
    client = guest("draft/read-marker")
    client.send("JOIN #dev")
    messages = client.messages()
    commands = [m.command for m in messages]
    assert commands.index("JOIN") < commands.index("MARKREAD") < commands.index("366")
    assert messages[commands.index("MARKREAD")].params == ("#dev", "*")


def test_without_the_capability_a_join_has_no_markread():
    client = guest("server-time")
    client.send("JOIN #dev")
    assert "MARKREAD" not in client.commands()


def test_a_guest_asking_where_its_marker_is_is_told_nowhere():
    client = guest("draft/read-marker")
    client.send("MARKREAD #nosuchtarget")
    client.send("MARKREAD bob")
    assert marks(client) == [("#nosuchtarget", "*"), ("bob", "*")]


def test_a_guest_setting_a_marker_in_an_empty_room_is_answered_its_timestamp():
    client = joined("draft/read-marker")
    client.send(f"MARKREAD #dev timestamp={TS}")
    assert marks(client) == [("#dev", f"timestamp={TS}")]


def test_a_guest_asking_after_setting_is_told_the_timestamp_it_set():
    client = joined("draft/read-marker")
    client.send(f"MARKREAD #dev timestamp={TS}")
    client.raw()
    client.send("MARKREAD #dev")
    assert marks(client) == [("#dev", f"timestamp={TS}")]


def test_a_guest_marker_never_moves_back():
    client = joined("draft/read-marker")
    client.send("MARKREAD #dev timestamp=2019-06-01T12:00:00.000Z")
    client.raw()
    client.send("MARKREAD #dev timestamp=2019-01-01T00:00:00.000Z")
    assert marks(client) == [("#dev", "timestamp=2019-06-01T12:00:00.000Z")]


def test_a_guest_rejoining_is_told_its_marker():
    client = joined("draft/read-marker")
    client.send(f"MARKREAD #dev timestamp={TS}")
    client.send("PART #dev")
    client.raw()
    client.send("JOIN #dev")
    assert marks(client) == [("#dev", f"timestamp={TS}")]


def test_a_guest_marks_a_private_conversation():
    client = guest("draft/read-marker")
    client.send(f"MARKREAD bob timestamp={TS}")
    client.send("MARKREAD bob")
    assert marks(client) == [("bob", f"timestamp={TS}")] * 2


def test_a_guest_marker_is_its_connection_s_only():
    server = ChatHarness(rate=0, accounts="memory")
    first = joined("draft/read-marker", server=server)
    first.send(f"MARKREAD #dev timestamp={TS}")
    first.raw()
    other = joined("draft/read-marker", server=server, nick="bob")
    other.send("MARKREAD #dev")
    assert marks(other) == [("#dev", "*")]
    first.lose()
    again = joined("draft/read-marker", server=server)
    again.send("MARKREAD #dev")
    assert marks(again) == [("#dev", "*")]


def test_a_guest_still_may_not_set_a_marker_on_the_line_door():
    server = ChatHarness(rate=0, accounts="memory")
    line = server.login("guest")
    line.send("hello")
    line.received()
    line.send("/read")
    assert any("kept for accounts only" in text for text in line.received())


@given(stamps)
def test_any_timestamp_a_guest_sets_is_answered_exactly(stamp: int) -> None:
    client = joined("draft/read-marker")
    text = format_stamp(stamp)
    client.send(f"MARKREAD #dev timestamp={text}")
    assert marks(client) == [("#dev", f"timestamp={text}")]


@given(
    st.text(
        st.characters(blacklist_characters="\r\n\x00 ", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=60,
    )
)
def test_a_guest_asking_about_any_target_gets_one_line(target: str) -> None:
    client = guest("draft/read-marker")
    client.send(f"MARKREAD {target}")
    assert len(client.messages()) == 1
