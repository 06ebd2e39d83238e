"""
The IRC door's C{TIME} (RFC 2812 3.4.6) and IRCv3 C{userhost-in-names}.
"""

from __future__ import annotations

from chatserver.testing import ChatHarness


def test_time_answers_391_with_the_servers_utc_time():
    server = ChatHarness(rate=0)
    server.clock.advance(1_796_700_000 - server.clock.seconds())
    client = server.ircLogin("alice")
    client.send("TIME")
    (reply,) = client.messages()
    assert reply.command == "391"
    assert reply.params == (
        "alice",
        reply.prefix,
        "Tuesday December 08 2026 -- 03:20:00 +00:00",
    )


def test_userhost_in_names_is_offered():
    server = ChatHarness(rate=0)
    client = server.irc()
    client.send("CAP LS 302")
    (ls,) = client.messages()
    assert "userhost-in-names" in ls.params[-1].split()


def test_names_with_userhost_in_names_gives_each_member_s_mask():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", join="#dev")
    server.ircLogin("bob", join="#dev")
    alice.raw()
    carol = server.ircLogin("carol", "userhost-in-names", join="#dev")
    carol.send("NAMES #dev")
    (names, end) = carol.messages()
    assert names.command == "353" and end.command == "366"
    members = names.params[-1].split()
    assert members[0].startswith("@alice!") and "@" in members[0][1:]
    assert [member.split("!")[0] for member in members] == ["@alice", "bob", "carol"]
    assert all("!" in member and "@" in member.lstrip("@") for member in members)


def test_names_without_userhost_in_names_gives_nicks():
    server = ChatHarness(rate=0)
    server.ircLogin("alice", join="#dev")
    bob = server.ircLogin("bob", join="#dev")
    bob.raw()
    bob.send("NAMES #dev")
    names, _ = bob.messages()
    assert names.params[-1].split() == ["@alice", "bob"]
