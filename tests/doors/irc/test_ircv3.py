"""
The IRC door's IRCv3 details of issue 21: 417 for too many tag bytes, a
C{msgid} on private messages, and C{labeled-response}.
"""

from chatserver.testing import ChatHarness


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
