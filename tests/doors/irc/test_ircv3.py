"""
The IRC door's IRCv3 details of issue 21: 417 for too many tag bytes, a
C{msgid} on private messages, and C{labeled-response}.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.doors.irc.message import escape_tag_value
from chatserver.testing import ChatHarness, IrcClient

LABELED = ("message-tags", "echo-message", "batch", "labeled-response")


def test_private_messages_carry_a_msgid_shared_by_echo_and_relay():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", "message-tags", "echo-message")
    bob = server.ircLogin("bob", "message-tags")
    alice.send("PRIVMSG bob :psst", "NOTICE bob :hey")
    echoes = alice.messages()
    relays = bob.messages()
    assert [m.command for m in echoes] == ["PRIVMSG", "NOTICE"]
    assert [m.tags["msgid"] for m in echoes] == [m.tags["msgid"] for m in relays]


def test_private_msgids_are_unique_and_never_a_history_id():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", "message-tags", "echo-message", join="#t")
    server.ircLogin("bob")
    alice.send("PRIVMSG #t :in the room")
    (kept,) = alice.messages()
    alice.send(*["PRIVMSG bob :psst"] * 5)
    ids = [m.tags["msgid"] for m in alice.messages()]
    assert len(set(ids)) == 5
    assert kept.tags["msgid"].isdigit()
    assert not any(msgid.isdigit() for msgid in ids)


def test_private_messages_carry_no_msgid_without_message_tags():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", "server-time", "echo-message")
    server.ircLogin("bob")
    alice.send("PRIVMSG bob :psst")
    (echo,) = alice.messages()
    assert "msgid" not in echo.tags and "time" in echo.tags


def test_a_message_too_long_to_relay_in_one_line_is_cut_to_one():
    server = ChatHarness(rate=0)
    line = server.login("line")
    line.send("/join #t")
    alice = server.ircLogin("alice", "echo-message", join="#t")
    bob = server.ircLogin("bob", join="#t")
    line.received()
    alice.raw()
    alice.send("PRIVMSG #t " + "é" * 249)
    (echo,) = alice.messages()
    (relay,) = bob.messages()
    assert echo.params == relay.params
    text = echo.params[1]
    assert set(text) == {"é"} and 200 < len(text) < 249
    assert len(f":alice!~alice@irc PRIVMSG #t :{text}\r\n".encode()) <= 512
    assert line.received() == [f"#t <alice> {text}"]


def test_more_than_4094_bytes_of_tags_is_417_and_relays_nothing():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", "message-tags", "echo-message", join="#t")
    bob = server.ircLogin("bob", "message-tags", join="#t")
    alice.raw()
    tags = "@foo=bar;+baz=" + "a" * 4081
    alice.send(f"{tags} PRIVMSG #t " + "b" * 496)
    (echo,) = alice.messages()
    assert echo.command == "PRIVMSG" and echo.tags["+baz"] == "a" * 4081
    assert bob.messages()[0].tags["msgid"] == echo.tags["msgid"]
    alice.send(f"{tags}a PRIVMSG #t " + "b" * 495)
    assert alice.commands() == ["417"] and bob.raw() == []


def labeled_client(server: ChatHarness, nick: str = "alice") -> IrcClient:
    client = server.ircLogin(nick, *LABELED, join="#t")
    client.raw()
    return client


def test_labeled_response_needs_batch():
    server = ChatHarness(rate=0)
    client = server.irc()
    client.send("CAP LS 302", "CAP REQ :labeled-response")
    ls, nak = client.messages()
    assert "labeled-response" in ls.params[-1]
    assert nak.params[1:] == ("NAK", "labeled-response")
    client.send("CAP REQ :batch labeled-response", "CAP REQ :-batch")
    ack, nak = client.messages()
    assert ack.params[1] == "ACK" and nak.params[1:] == ("NAK", "-batch")


def test_a_single_reply_carries_the_label():
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send("@label=l1 PING x", "@label=l2 PRIVMSG #t :hi")
    pong, echo = alice.messages()
    assert (pong.command, pong.tags) == ("PONG", {"label": "l1"})
    assert echo.command == "PRIVMSG" and echo.tags["label"] == "l2"


def test_a_command_without_reply_is_acked_with_the_label():
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send("@label=quiet PONG x")
    (ack,) = alice.messages()
    assert (ack.prefix, ack.command, ack.tags) == ("chat", "ACK", {"label": "quiet"})


def test_several_replies_come_in_a_labeled_response_batch():
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send("@label=j JOIN #u")
    start, *inside, end = alice.messages()
    assert start.command == "BATCH" and start.tags == {"label": "j"}
    reference, kind = start.params
    assert reference.startswith("+") and kind == "labeled-response"
    assert [m.command for m in inside] == ["JOIN", "353", "366"]
    assert all(m.tags == {"batch": reference[1:]} for m in inside)
    assert (end.command, end.params, end.tags) == ("BATCH", ("-" + reference[1:],), {})


def test_a_chathistory_batch_nests_in_the_labeled_one():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", *LABELED, "draft/chathistory", join="#t")
    alice.send("PRIVMSG #t :one")
    alice.raw()
    alice.send("@label=h CHATHISTORY LATEST #t * 10")
    outer, inner, said, inner_end, outer_end = alice.messages()
    reference = outer.params[0][1:]
    assert outer.tags == {"label": "h"} and inner.tags == {"batch": reference}
    assert said.tags["batch"] == inner.params[0][1:] and said.params[1] == "one"
    assert inner_end.tags == {"batch": reference} and outer_end.tags == {}


def test_a_message_to_oneself_is_labeled_once_outside_a_batch():
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send("@label=me PRIVMSG alice :note to self")
    echo, received = alice.messages()
    assert echo.command == received.command == "PRIVMSG"
    assert echo.tags["label"] == "me" and "label" not in received.tags
    assert echo.tags["msgid"] == received.tags["msgid"]


def test_a_labeled_tagmsg_to_oneself_is_echoed_labeled_and_received():
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send("@label=t;+typing=active TAGMSG alice")
    echo, received = alice.messages()
    assert echo.command == received.command == "TAGMSG"
    assert echo.tags["label"] == "t" and "label" not in received.tags
    assert received.tags["+typing"] == "active"


def test_without_the_capability_a_label_is_ignored():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", "message-tags", join="#t")
    alice.send("@label=l1 PING x", "@label=l2 PONG x")
    (pong,) = alice.messages()
    assert pong.command == "PONG" and "label" not in pong.tags


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=64).filter(lambda t: "\0" not in t))
def test_any_label_comes_back_as_it_was_sent(label: str):
    server = ChatHarness(rate=0)
    alice = labeled_client(server)
    alice.send(f"@label={escape_tag_value(label)} PING x")
    (pong,) = alice.messages()
    assert pong.tags == {"label": label}
