"""
Moderation through the web door's JSON messages: each message, the events
it makes and its refusals, each an C{error} with the refusal's C{code}.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.doors.web.messages import BadMessage, parse_message
from chatserver.testing import ChatHarness, WebClient


def web_login(server: ChatHarness, name: str) -> WebClient:
    client = server.web()
    client.send({"type": "login", "name": name})
    server.flush()
    client.messages()
    return client


def room():
    """
    alice made #dev and operates it; bob is in it.
    """
    server = ChatHarness(
        rate=0,
        operCheckers=[InMemoryUsernamePasswordDatabaseDontUse(root=b"secret")],
    )
    alice, bob = web_login(server, "alice"), web_login(server, "bob")
    alice.send({"type": "join", "room": "#dev"})
    bob.send({"type": "join", "room": "#dev"})
    server.flush()
    alice.messages()
    bob.messages()
    return server, alice, bob


def sent(server: ChatHarness, client: WebClient, message: dict[str, Any]):
    client.send(message)
    server.flush()
    return client.messages()


def test_who_gives_each_members_role():
    server, alice, _ = room()
    (members,) = sent(server, alice, {"type": "who", "room": "#dev"})
    assert members["roles"] == {"alice": "@"}


def test_kick_is_told_to_every_member():
    server, alice, bob = room()
    alice.send({"type": "kick", "room": "#dev", "name": "bob", "reason": "bye"})
    server.flush()
    told = {
        "type": "kick",
        "room": "#dev",
        "by": "alice",
        "name": "bob",
        "reason": "bye",
    }
    assert alice.messages() == [told]
    assert bob.messages() == [told]


def test_ban_is_told_and_bans_lists_it():
    server, alice, bob = room()
    alice.send({"type": "ban", "room": "#dev", "mask": "spam*", "duration": "10m"})
    server.flush()
    assert bob.messages() == [
        {
            "type": "ban",
            "room": "#dev",
            "by": "alice",
            "mask": "spam*",
            "added": True,
            "ends": 600.0,
            "reason": "",
        }
    ]
    alice.messages()
    (bans,) = sent(server, alice, {"type": "bans", "room": "#dev"})
    assert [b["mask"] for b in bans["bans"]] == ["spam*"]


def test_unban_is_told():
    server, alice, _ = room()
    alice.send({"type": "ban", "room": "#dev", "mask": "spam*"})
    server.flush()
    alice.messages()
    (told,) = sent(server, alice, {"type": "unban", "room": "#dev", "mask": "spam*"})
    assert (told["type"], told["added"]) == ("ban", False)


def test_mute_and_unmute_are_told():
    server, alice, bob = room()
    alice.send({"type": "mute", "room": "#dev", "name": "bob"})
    server.flush()
    assert bob.messages()[0]["type"] == "mute"
    (refused,) = sent(server, bob, {"type": "say", "room": "#dev", "text": "hi"})
    assert refused["code"] == "cannot-speak"
    alice.send({"type": "unmute", "room": "#dev", "name": "bob"})
    server.flush()
    assert bob.messages()[0]["added"] is False


def test_mode_changes_and_shows_modes():
    server, alice, bob = room()
    alice.send({"type": "mode", "room": "#dev", "changes": "+ml 5"})
    server.flush()
    assert bob.messages() == [
        {
            "type": "mode",
            "room": "#dev",
            "by": "alice",
            "changes": "+ml",
            "arguments": ["5"],
        }
    ]
    alice.messages()
    (modes,) = sent(server, alice, {"type": "mode", "room": "#dev"})
    assert (modes["modes"], modes["moderated"], modes["limit"]) == ("+mnl", True, 5)


@pytest.mark.parametrize(
    ("kind", "role", "given"),
    [
        ("op", "op", True),
        ("deop", "op", False),
        ("voice", "voice", True),
        ("devoice", "voice", False),
    ],
)
def test_roles_are_given_and_taken(kind, role, given):
    server, alice, bob = room()
    if not given:
        alice.send({"type": kind[2:], "room": "#dev", "name": "bob"})
        server.flush()
        bob.messages()
    alice.send({"type": kind, "room": "#dev", "name": "bob"})
    server.flush()
    assert bob.messages() == [
        {
            "type": "role",
            "room": "#dev",
            "by": "alice",
            "name": "bob",
            "role": role,
            "given": given,
        }
    ]


def test_invite_is_told_to_the_invited():
    server, alice, _ = room()
    carol = web_login(server, "carol")
    alice.send({"type": "invite", "room": "#dev", "name": "carol"})
    server.flush()
    assert carol.messages() == [{"type": "invite", "room": "#dev", "by": "alice"}]


def test_join_with_a_key():
    server, alice, _ = room()
    alice.send({"type": "mode", "room": "#dev", "changes": "+k sesame"})
    carol = web_login(server, "carol")
    (refused,) = sent(server, carol, {"type": "join", "room": "#dev"})
    assert refused["code"] == "bad-key"
    joined = sent(server, carol, {"type": "join", "room": "#dev", "key": "sesame"})
    assert "room" in [m["type"] for m in joined]


def test_modlog_lists_actions():
    server, alice, _ = room()
    alice.send({"type": "kick", "room": "#dev", "name": "bob"})
    server.flush()
    alice.messages()
    (log,) = sent(server, alice, {"type": "modlog", "room": "#dev"})
    assert [(e["by"], e["action"], e["target"]) for e in log["entries"]] == [
        ("alice", "kick", "bob")
    ]


def test_oper_kill_kline_unkline_klines():
    server, alice, _bob = room()
    assert sent(
        server, alice, {"type": "oper", "name": "root", "password": "secret"}
    ) == [{"type": "oper", "name": "alice"}]
    alice.send({"type": "kill", "name": "bob", "reason": "bye"})
    server.flush()
    alice.messages()
    (kline,) = sent(server, alice, {"type": "kline", "mask": "spam*", "duration": "1h"})
    assert (kline["mask"], kline["ends"], kline["disconnected"]) == (
        "spam*",
        3600.0,
        [],
    )
    (klines,) = sent(server, alice, {"type": "klines"})
    assert [k["mask"] for k in klines["klines"]] == ["spam*"]
    assert sent(server, alice, {"type": "unkline", "mask": "spam*"}) == []


def test_a_wrong_oper_password_is_refused_after_the_throttles_delay():
    server, alice, _ = room()
    assert sent(server, alice, {"type": "oper", "name": "root", "password": "x"}) == []
    server.clock.advance(1)
    (refused,) = alice.messages()
    assert (refused["type"], refused["about"]) == ("error", "oper")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "kick", "room": "#dev", "name": "alice"}, "chanop-needed"),
        ({"type": "kill", "name": "alice"}, "no-privileges"),
        (
            {"type": "ban", "room": "#dev", "mask": "x", "duration": "soon"},
            "bad-duration",
        ),
        ({"type": "mode", "room": "#dev", "changes": "+z"}, "chanop-needed"),
    ],
)
def test_a_refusal_carries_its_code(message, code):
    server, alice, bob = room()
    # alice operates #dev, bob does not.
    (refused,) = sent(server, alice if code == "bad-duration" else bob, message)
    assert (refused["type"], refused["about"], refused["code"]) == (
        "error",
        message["type"],
        code,
    )


def test_moderation_messages_are_checked_like_the_others():
    with pytest.raises(BadMessage):
        parse_message('{"type": "kick", "room": "#dev"}')
    assert parse_message('{"type": "klines"}') == ("klines", {"type": "klines"})


def test_the_room_message_gives_each_members_role():
    server = ChatHarness(rate=0)
    alice = web_login(server, "alice")
    joined = sent(server, alice, {"type": "join", "room": "#dev"})
    (state,) = [m for m in joined if m["type"] == "room"]
    assert state["roles"] == {"alice": "@"}


def test_say_to_a_minus_n_room_one_is_not_in_reaches_its_members():
    server, alice, bob = room()
    sent(server, alice, {"type": "mode", "room": "#dev", "changes": "-n"})
    bob.messages()
    carol = web_login(server, "carol")
    sent(server, carol, {"type": "say", "room": "#dev", "text": "from outside"})
    (said,) = [m for m in bob.messages() if m["type"] == "message"]
    assert (said["room"], said["from"], said["text"]) == (
        "#dev",
        "carol",
        "from outside",
    )


def test_rooms_leaves_out_a_secret_room_one_is_not_in():
    server, alice, _ = room()
    alice.send({"type": "mode", "room": "#dev", "changes": "+s"})
    carol = web_login(server, "carol")
    (rooms,) = sent(server, carol, {"type": "rooms"})
    assert "#dev" not in [entry["name"] for entry in rooms["rooms"]]


def test_who_of_a_secret_room_one_is_not_in_is_no_such_room():
    server, alice, _ = room()
    alice.send({"type": "mode", "room": "#dev", "changes": "+s"})
    carol = web_login(server, "carol")
    assert sent(server, carol, {"type": "who", "room": "#dev"}) == [
        {"type": "error", "message": "no such room: #dev", "about": "who"}
    ]
