"""
Chat lines and the commands of a logged-in user.
"""

import pytest

from chatserver.testing import ChatHarness
from chatwire import lines


@pytest.fixture
def room():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    carol = server.login("carol")
    for client in (alice, bob, carol):
        client.received()
    return server, alice, bob, carol


def test_a_line_goes_to_every_other_user_with_the_senders_name(room):
    _, alice, bob, carol = room
    alice.send("hello, world")
    assert bob.events() == [lines.Message("alice", "hello, world")]
    assert carol.events() == [lines.Message("alice", "hello, world")]
    assert alice.received() == []


def test_lf_and_crlf_line_ends_are_both_accepted(room):
    _, alice, bob, _ = room
    alice.send(b"one\ntwo\r\n")
    assert bob.events() == [
        lines.Message("alice", "one"),
        lines.Message("alice", "two"),
    ]


def test_a_line_cut_across_reads_is_delivered_once_complete(room):
    _, alice, bob, _ = room
    alice.send(b"hel")
    assert bob.received() == []
    alice.send(b"lo\r\n")
    assert bob.events() == [lines.Message("alice", "hello")]


def test_empty_and_blank_lines_are_ignored(room):
    _, alice, bob, _ = room
    alice.send(b"\r\n   \r\n\n")
    assert bob.received() == []
    assert alice.received() == []


def test_double_slash_sends_a_line_starting_with_a_slash(room):
    _, alice, bob, _ = room
    alice.send("//shrug")
    assert bob.events() == [lines.Message("alice", "/shrug")]


def test_who_lists_everyone(room):
    _, alice, _, _ = room
    alice.send("/who")
    assert alice.events() == [lines.UserList(("alice", "bob", "carol"))]


def test_msg_reaches_only_its_recipient_and_is_confirmed(room):
    _, alice, bob, carol = room
    alice.send("/msg BOB  psst, over here")
    assert bob.events() == [lines.PrivateIn("alice", "psst, over here")]
    assert alice.events() == [lines.PrivateOut("bob", "psst, over here")]
    assert carol.received() == []


def test_msg_to_nobody_is_an_error(room):
    _, alice, _, _ = room
    alice.send("/msg dave hi")
    assert alice.events() == [lines.Error("no such user: dave")]


@pytest.mark.parametrize("line", ["/msg", "/msg bob", "/msg bob   "])
def test_msg_without_text_shows_its_usage(room, line):
    _, alice, _, _ = room
    alice.send(line)
    assert alice.events() == [lines.Error("usage: /msg NAME TEXT")]


def test_me_sends_an_action_to_the_others(room):
    _, alice, bob, _ = room
    alice.send("/me waves")
    assert bob.events() == [lines.Action("alice", "waves")]
    assert alice.received() == []


def test_me_without_action_shows_its_usage(room):
    _, alice, _, _ = room
    alice.send("/me")
    assert alice.events() == [lines.Error("usage: /me ACTION")]


def test_nick_renames_with_a_notice_to_all(room):
    server, alice, bob, _ = room
    alice.send("/nick alicia")
    assert alice.events() == [lines.Renamed("alice", "alicia")]
    assert bob.events() == [lines.Renamed("alice", "alicia")]
    bob.send("/msg alicia hi")
    assert alice.events() == [lines.PrivateIn("bob", "hi")]
    server.login("alice")


def test_nick_may_change_only_the_case(room):
    _, alice, bob, _ = room
    alice.send("/nick Alice")
    assert bob.events() == [lines.Renamed("alice", "Alice")]


def test_nick_to_a_taken_name_is_refused(room):
    _, alice, bob, _ = room
    alice.send("/nick Bob")
    assert alice.events() == [lines.Error("the name Bob is taken, choose another")]
    assert bob.received() == []


def test_nick_to_an_invalid_name_is_refused(room):
    _, alice, _, _ = room
    alice.send("/nick a/b c")
    assert alice.events()[0].text.startswith("invalid name: ")


def test_nick_to_the_same_name_is_an_error(room):
    _, alice, _, _ = room
    alice.send("/nick alice")
    assert alice.events() == [lines.Error("you are already called alice")]


def test_help_lists_every_command(room):
    _, alice, _, _ = room
    alice.send("/help")
    help_text = "\n".join(event.text for event in alice.events())
    for command in ("/who", "/msg", "/me", "/nick", "/quit", "/help"):
        assert command in help_text


def test_unknown_command_is_an_error_and_changes_nothing(room):
    _, alice, bob, _ = room
    alice.send("/dance wildly")
    assert alice.events() == [lines.Error("unknown command /dance, try /help")]
    assert bob.received() == []


def test_control_characters_are_refused_with_an_error(room):
    _, alice, bob, _ = room
    alice.send("\x1b[2Jgotcha")
    assert alice.events() == [
        lines.Error("control and format characters are not allowed (found U+001B)")
    ]
    assert bob.received() == []
