"""
C{draft/read-marker} for a guest (irctest's read-marker tests): the
capability is sent a C{MARKREAD} after every C{JOIN} and an answer to a
question, C{*} (a guest keeps no marker); setting one is refused.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chatserver.testing import ChatHarness


def guest(*caps: str) -> Any:
    server = ChatHarness(rate=0, accounts="memory")
    client = server.irc()
    client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
    client.send("NICK alice", "USER a 0 * :A", "CAP END")
    assert "001" in client.commands()
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
    marks = [m.params for m in client.messages() if m.command == "MARKREAD"]
    assert marks == [("#nosuchtarget", "*"), ("bob", "*")]


def test_a_guest_setting_a_marker_is_refused_in_one_line():
    client = guest("draft/read-marker")
    client.send("MARKREAD #dev timestamp=2022-11-11T11:11:11.111Z")
    [fail] = client.messages()
    assert fail.command == "FAIL"
    assert fail.params[:3] == ("MARKREAD", "ACCOUNT_REQUIRED", "#dev")


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
