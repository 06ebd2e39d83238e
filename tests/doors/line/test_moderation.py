"""
Moderation through the line door, as raw line sessions read it: each
command, its answer, the room's lines and every refusal in one C{!!!}
line.
"""

from __future__ import annotations

import pytest
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.testing import ChatHarness, LineClient


def room(**settings):
    """
    alice made #dev and operates it; bob is in it.
    """
    server = ChatHarness(
        rate=0,
        operCheckers=[InMemoryUsernamePasswordDatabaseDontUse(root=b"secret")],
        **settings,
    )
    alice, bob = server.login("alice"), server.login("bob")
    alice.send("/join #dev")
    bob.send("/join #dev")
    alice.received()
    bob.received()
    return server, alice, bob


def said(client: LineClient, line: str) -> list[str]:
    client.send(line)
    return client.received()


def test_who_shows_operators_and_voice():
    _, alice, _bob = room()
    alice.send("/voice #dev bob")
    alice.received()
    assert said(alice, "/who #dev") == ["#dev === Users online (2): @alice, +bob"]


def test_op_and_deop_are_told_to_the_room():
    _, alice, bob = room()
    alice.send("/op #dev bob")
    assert bob.received() == ["#dev -!- alice gave operator (+o) to bob"]
    alice.send("/deop #dev bob")
    assert bob.received() == ["#dev -!- alice took operator (-o) from bob"]


def test_devoice_is_told_to_the_room():
    _, alice, bob = room()
    alice.send("/voice #dev bob")
    alice.send("/devoice #dev bob")
    assert bob.received()[-1] == "#dev -!- alice took voice (-v) from bob"


def test_kick_reads_as_leaving_for_every_member_the_kicked_included():
    _, alice, bob = room()
    alice.send("/kick #dev bob enough")
    line = "#dev <-- bob has left (kicked by alice: enough)"
    assert alice.received() == [line]
    assert bob.received() == [line]


def test_ban_answers_tells_the_room_and_refuses_the_join():
    _, alice, bob = room()
    assert said(alice, "/ban #dev bob 10m spam") == [
        "#dev -!- alice banned bob until 1970-01-01 00:10:00Z: spam",
        "-!- ban on bob for 10m",
    ]
    alice.send("/kick #dev bob")
    bob.received()
    assert said(bob, "/join #dev") == ["!!! cannot join #dev: you are banned from it"]


def test_a_banned_member_is_told_it_cannot_speak():
    _, alice, bob = room()
    alice.send("/ban #dev bob")
    bob.received()
    assert said(bob, "/me waves") == [
        "!!! cannot speak in #dev: you are banned from it"
    ]


def test_bans_lists_bans_and_mutes():
    _, alice, bob = room()
    alice.send("/ban #dev spam* flood")
    alice.send("/mute #dev bob 30s")
    alice.received()
    bob.received()
    assert said(bob, "/bans #dev") == [
        "-!- Bans of #dev (1):",
        "-!- spam* set by alice at 1970-01-01 00:00:00Z, until lifted: flood",
        "-!- Mutes of #dev (1):",
        "-!- bob set by alice at 1970-01-01 00:00:00Z, until 1970-01-01 00:00:30Z",
    ]


def test_unban_lifts_and_tells_the_room():
    _, alice, bob = room()
    alice.send("/ban #dev spam*")
    alice.received()
    bob.received()
    assert said(alice, "/unban #dev spam*") == [
        "#dev -!- alice lifted the ban on spam*",
        "-!- ban on spam* lifted",
    ]


def test_mute_and_unmute():
    _, alice, bob = room()
    alice.send("/mute #dev bob")
    bob.received()
    assert said(bob, "#dev hi") == ["!!! cannot speak in #dev: you are muted"]
    alice.send("/unmute #dev bob")
    bob.received()
    assert said(bob, "#dev hi") == []


def test_a_voiced_member_speaks_through_a_mute():
    _, alice, bob = room()
    alice.send("/mute #dev bob")
    alice.send("/voice #dev bob")
    alice.received()
    bob.received()
    assert said(bob, "hi") == []
    assert alice.received() == ["#dev <bob> hi"]


def test_a_mute_ends_by_itself():
    server, alice, bob = room()
    alice.send("/mute #dev bob 1m")
    bob.received()
    server.clock.advance(60)
    assert bob.received() == ["#dev -!- the mute on bob ended"]


def test_mode_alone_shows_the_modes():
    _, alice, _ = room()
    alice.send("/mode #dev +mtkl sesame 10")
    alice.received()
    assert said(alice, "/mode #dev") == ["-!- #dev modes: +mntkl sesame 10"]


def test_mode_alone_shows_s():
    _, alice, _ = room()
    alice.send("/mode #dev +s")
    alice.received()
    assert said(alice, "/mode #dev") == ["-!- #dev modes: +ns"]


def test_rooms_leaves_out_a_secret_room_one_is_not_in():
    server, alice, _ = room()
    alice.send("/mode #dev +s")
    carol = server.login("carol")
    assert not any("#dev" in line for line in said(carol, "/rooms"))


def test_who_of_a_secret_room_one_is_not_in_is_no_such_room():
    server, alice, _ = room()
    alice.send("/mode #dev +s")
    carol = server.login("carol")
    assert said(carol, "/who #dev") == ["!!! no such room: #dev"]


def test_mode_changes_are_told_to_the_room():
    _, alice, bob = room()
    alice.send("/mode #dev +m")
    assert bob.received() == ["#dev -!- alice set mode +m"]
    assert said(bob, "#dev hi") == [
        "!!! cannot speak in #dev: it is moderated (+m): only voice speaks"
    ]


def test_join_with_a_key():
    server, alice, _ = room()
    alice.send("/mode #dev +k sesame")
    carol = server.login("carol")
    assert said(carol, "/join #dev") == [
        "!!! cannot join #dev: wrong or missing key (+k)"
    ]
    assert "#dev === Users online (3): alice, bob, carol" in said(
        carol, "/join #dev sesame"
    )


def test_invite_to_an_invite_only_room():
    server, alice, _ = room()
    alice.send("/mode #dev +i")
    carol = server.login("carol")
    assert said(carol, "/join #dev") == ["!!! cannot join #dev: it is invite-only (+i)"]
    alice.received()
    assert said(alice, "/invite carol #dev") == ["-!- carol is invited to #dev"]
    assert carol.received() == ["-!- alice invites you to #dev: /join #dev"]


def test_a_full_room_refuses():
    server, alice, _ = room()
    alice.send("/mode #dev +l 2")
    carol = server.login("carol")
    assert said(carol, "/join #dev") == [
        "!!! cannot join #dev: it is full (2 members, +l)"
    ]


def test_topic_locked():
    _, alice, bob = room()
    alice.send("/mode #dev +t")
    bob.received()
    assert said(bob, "/topic #dev mine") == [
        "!!! you are not an operator of #dev: you cannot set its topic (+t)"
    ]


def test_modlog_lists_the_rooms_actions():
    _, alice, _ = room()
    alice.send("/ban #dev spam* 2h flood")
    alice.received()
    assert said(alice, "/modlog #dev") == [
        "-!- Moderation log of #dev (1):",
        "-!- 1970-01-01 00:00:00Z alice ban spam* for 2h: flood",
    ]


def test_oper_then_kill():
    _server, alice, bob = room()
    assert said(alice, "/oper root secret") == ["-!- you are a server operator now"]
    assert said(alice, "/kill bob bye") == ["-!- bob is disconnected"]
    assert (
        bob.received()[-1]
        == "-!- You were disconnected by the server: Killed by alice: bye"
    )


def test_a_wrong_oper_password_is_answered_after_the_throttles_delay():
    server, alice, _ = room()
    assert said(alice, "/oper root guess") == []
    server.clock.advance(1)
    assert alice.received() == ["!!! wrong operator name or password"]


def test_kline_unkline_and_klines():
    _server, alice, _bob = room()
    alice.send("/oper root secret")
    alice.received()
    assert said(alice, "/kline bob 1h abuse") == [
        "-!- kline on bob set, disconnected: bob"
    ]
    assert said(alice, "/klines") == [
        "-!- Klines (1):",
        "-!- bob set by alice at 1970-01-01 00:00:00Z,"
        " until 1970-01-01 01:00:00Z: abuse",
    ]
    assert said(alice, "/unkline bob") == ["-!- kline on bob lifted"]


def test_a_klined_name_cannot_log_in():
    server, alice, _ = room()
    alice.send("/oper root secret")
    alice.send("/kline dave")
    dave = server.connect()
    dave.send("dave")
    assert "!!! you are banned from this server" in dave.received()


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("/kick #dev", "!!! usage: /kick #ROOM NAME [REASON]"),
        ("/ban #dev", "!!! usage: /ban #ROOM MASK [DURATION] [REASON]"),
        ("/ban #dev bob 10x", "!!! invalid duration '10x': a duration is a number"),
        ("/ban #dev 10.0.0.0/33", "!!! invalid network '10.0.0.0/33'"),
        ("/mode #dev +z", "!!! unknown mode 'z'"),
        ("/mode #dev +k", "!!! +k needs an argument"),
        ("/op #dev dave", "!!! dave is not in #dev"),
        ("/invite bob #dev", "!!! bob is already in #dev"),
        ("/unban #dev nobody", "!!! no ban on nobody in #dev"),
        ("/kill bob", "!!! only server operators may kill: /oper first"),
        ("/klines", "!!! only server operators may list klines: /oper first"),
        ("/oper root", "!!! usage: /oper NAME PASSWORD"),
    ],
)
def test_each_refusal_is_one_line_naming_its_reason(line, error):
    _, alice, _ = room()
    (answer,) = said(alice, line)
    assert answer.startswith(error)


def test_a_member_who_is_not_an_operator_is_refused():
    _, _, bob = room()
    assert said(bob, "/kick #dev alice") == [
        "!!! you are not an operator of #dev: you cannot kick"
    ]


def test_help_lists_the_moderation_commands():
    _, alice, _ = room()
    shown = " ".join(said(alice, "/help"))
    for command in ("/oper", "/kick", "/ban", "/mute", "/mode", "/invite", "/kline"):
        assert command in shown
