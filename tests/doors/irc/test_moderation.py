"""
Moderation through the IRC door, as an IRC client reads it: C{OPER},
C{KILL}, C{KICK}, C{INVITE}, channel C{MODE}s, C{KLINE}, every numeric of
their refusals, and the moderation of the other doors reaching IRC
clients as C{KICK} and C{MODE} lines.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.testing import ChatHarness, IrcClient


def harness() -> ChatHarness:
    return ChatHarness(
        rate=0,
        operCheckers=[InMemoryUsernamePasswordDatabaseDontUse(operuser=b"operpass")],
    )


def channel(
    server: ChatHarness | None = None,
) -> tuple[ChatHarness, IrcClient, IrcClient]:
    """
    alice made #dev and operates it; bob is in it.
    """
    server = server or harness()
    alice = server.ircLogin("alice", join="#dev")
    bob = server.ircLogin("bob", join="#dev")
    alice.raw()
    return server, alice, bob


def sent(client: IrcClient, *lines: str) -> list[tuple[str, tuple[str, ...]]]:
    client.send(*lines)
    return [(m.command, m.params) for m in client.messages()]


def opered(server: ChatHarness, nick: str) -> IrcClient:
    client = server.ircLogin(nick)
    client.send("OPER operuser operpass")
    client.raw()
    return client


# ISUPPORT, NAMES, WHO


def test_isupport_names_prefixes_modes_and_the_mute_extban():
    client = harness().irc()
    client.send("NICK zed", "USER zed 0 * :Z")
    tokens = " ".join(
        " ".join(m.params) for m in client.messages() if m.command == "005"
    )
    for token in ("PREFIX=(ov)@+", "CHANMODES=b,k,l,imnst", "EXTBAN=,m", "MODES=6"):
        assert token in tokens.split()


def test_the_maker_of_a_channel_is_its_operator_in_the_names_of_its_join():
    client = harness().ircLogin("alice")
    client.send("JOIN #new")
    names = next(m for m in client.messages() if m.command == "353")
    assert names.params[-1] == "@alice"


def test_who_flags_operators_and_voice():
    _, alice, _ = channel()
    alice.send("MODE #dev +v bob")
    alice.raw()
    who = sent(alice, "WHO #dev")
    assert {(p[5], p[6]) for c, p in who if c == "352"} == {
        ("alice", "H@"),
        ("bob", "H+"),
    }


def test_whois_shows_the_prefix_of_each_channel():
    _, _, bob = channel()
    whois = sent(bob, "WHOIS alice")
    assert ("319", ("bob", "alice", "@#dev")) in whois


def test_names_with_multi_prefix_shows_every_role():
    server, alice, _ = channel()
    alice.send("MODE #dev +v alice")
    alice.raw()
    client = server.ircLogin("carol", "multi-prefix", join="#dev")
    names = sent(client, "NAMES #dev")
    assert names[0][1][-1].split() == ["@+alice", "bob", "carol"]


def test_who_with_multi_prefix_flags_every_role():
    server, alice, _ = channel()
    alice.send("MODE #dev +v alice")
    client = server.ircLogin("carol", "multi-prefix", join="#dev")
    who = sent(client, "WHO #dev")
    assert ("alice", "H@+") in {(p[5], p[6]) for c, p in who if c == "352"}


def test_names_without_multi_prefix_shows_the_highest_role():
    _, alice, bob = channel()
    alice.send("MODE #dev +v alice")
    bob.raw()
    assert sent(bob, "NAMES #dev")[0][1][-1].split() == ["@alice", "bob"]


# OPER, user mode +o


def test_oper_answers_381_and_user_mode_o():
    server = harness()
    client = server.ircLogin("root")
    got = sent(client, "OPER operuser operpass")
    assert got[0][0] == "381"
    assert got[1] == ("MODE", ("root", "+o"))
    assert sent(client, "MODE root") == [("221", ("root", "+o"))]


def test_a_wrong_oper_password_is_464_after_the_throttles_delay():
    server = harness()
    client = server.ircLogin("root")
    assert sent(client, "OPER operuser wrong") == []
    server.clock.advance(60)
    (got,) = client.messages()
    assert got.command == "464"


def test_commands_after_a_wrong_oper_wait_for_its_464():
    server = harness()
    client = server.ircLogin("root")
    client.send("OPER operuser wrong", "PING here")
    assert client.commands() == []
    server.clock.advance(60)
    assert client.commands() == ["464", "PONG"]


def test_oper_on_a_server_without_operators_is_491():
    server = ChatHarness(rate=0)
    client = server.ircLogin("root")
    client.send("OPER operuser operpass")
    server.clock.advance(60)
    assert client.commands() == ["491"]


def test_oper_without_a_password_is_461():
    client = harness().ircLogin("root")
    client.send("OPER operuser")
    assert client.commands() == ["461"]


def test_whois_of_a_server_operator_is_313():
    server = harness()
    opered(server, "root")
    client = server.ircLogin("alice")
    whois = sent(client, "WHOIS root")
    assert ("313", ("alice", "root", "is an IRC operator")) in whois


def test_who_o_lists_the_server_operators_flagged_with_a_star():
    server = harness()
    opered(server, "root")
    client = server.ircLogin("alice")
    who = sent(client, "WHO * o")
    assert [(p[5], p[6]) for c, p in who if c == "352"] == [("root", "H*")]


# KILL


def test_kill_by_a_user_who_is_no_operator_is_481():
    server = harness()
    server.ircLogin("bob")
    alice = server.ircLogin("alice")
    assert [c for c, _ in sent(alice, "KILL bob :go")] == ["481"]


def test_kill_closes_the_killed_with_error_and_the_others_see_it_quit():
    server, alice, bob = channel()
    root = opered(server, "root")
    root.send("KILL bob :spamming")
    assert bob.raw()[-1].startswith("ERROR :Closing link: ")
    assert bob.closing
    bob.lose()
    (quit,) = alice.messages()
    assert quit.command == "QUIT"
    assert quit.params[0].endswith("Killed by root: spamming")


def test_kill_of_nobody_is_401():
    server = harness()
    root = opered(server, "root")
    assert [c for c, _ in sent(root, "KILL nobody")] == ["401"]


# KICK


def test_kick_reaches_every_member_the_kicked_included():
    _, alice, bob = channel()
    alice.send("KICK #dev bob :enough")
    for client in (alice, bob):
        (kick,) = client.messages()
        assert kick.prefix.startswith("alice!")
        assert (kick.command, kick.params) == ("KICK", ("#dev", "bob", "enough"))


def test_kick_without_a_reason_gives_the_kickers_nick():
    _, alice, bob = channel()
    alice.send("KICK #dev bob")
    assert bob.messages()[0].params == ("#dev", "bob", "alice")


def test_the_kicked_is_out_of_the_channel():
    server, alice, bob = channel()
    alice.send("KICK #dev bob")
    assert sent(bob, "PRIVMSG #dev :hi")[-1][0] == "404"
    room = server.realm.getRoom("#dev")
    assert room is not None and "bob" not in room.names()


def test_kick_by_a_member_who_is_no_operator_is_482():
    _, _, bob = channel()
    assert sent(bob, "KICK #dev alice") == [
        ("482", ("bob", "#dev", "you are not an operator of #dev: you cannot kick"))
    ]


def test_kick_of_who_is_not_in_the_channel_is_441():
    server, alice, _ = channel()
    server.ircLogin("carol")
    assert sent(alice, "KICK #dev carol")[0] == (
        "441",
        ("alice", "carol", "#dev", "carol is not in #dev"),
    )


def test_kick_of_a_nick_nobody_has_is_401():
    _, alice, _ = channel()
    assert [c for c, _ in sent(alice, "KICK #dev nobody")] == ["401"]


def test_kick_in_a_channel_that_does_not_exist_is_403():
    _, alice, _ = channel()
    assert [c for c, _ in sent(alice, "KICK #nowhere bob")] == ["403"]


def test_kick_of_several_nicks_kicks_each():
    server, alice, _ = channel()
    server.ircLogin("carol", join="#dev")
    alice.raw()
    kicks = [p for c, p in sent(alice, "KICK #dev bob,carol :out") if c == "KICK"]
    assert kicks == [("#dev", "bob", "out"), ("#dev", "carol", "out")]


def test_a_kick_from_the_line_door_reaches_irc_as_kick():
    server, alice, _ = channel()
    line = server.login("dave")
    line.send("/join #dev")
    alice.raw()
    line.send("/kick #dev bob")  # dave is no operator: refused
    assert line.received()[-1].startswith("!!!")
    alice.send("MODE #dev +o dave")
    alice.raw()
    line.send("/kick #dev bob rude")
    (kick,) = alice.messages()
    assert kick.prefix.startswith("dave!")
    assert kick.params == ("#dev", "bob", "rude")


# INVITE


def test_invite_answers_341_and_the_invited_gets_invite():
    server, alice, _ = channel()
    carol = server.ircLogin("carol")
    assert sent(alice, "INVITE carol #dev") == [("341", ("alice", "carol", "#dev"))]
    (invite,) = carol.messages()
    assert invite.prefix.startswith("alice!")
    assert (invite.command, invite.params) == ("INVITE", ("carol", "#dev"))


def test_invite_of_a_member_is_443():
    _, alice, _ = channel()
    assert sent(alice, "INVITE bob #dev")[0][:1] == ("443",)


def test_invite_from_outside_the_channel_is_442():
    server, _, _ = channel()
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "INVITE bob #dev")] == ["442"]


def test_invite_to_an_invite_only_channel_by_a_member_who_is_no_operator_is_482():
    server, alice, bob = channel()
    server.ircLogin("carol")
    alice.send("MODE #dev +i")
    bob.raw()
    assert [c for c, _ in sent(bob, "INVITE carol #dev")] == ["482"]


def test_an_invited_user_joins_an_invite_only_channel():
    server, alice, _ = channel()
    carol = server.ircLogin("carol")
    alice.send("MODE #dev +i")
    assert [c for c, _ in sent(carol, "JOIN #dev")] == ["473"]
    alice.send("INVITE carol #dev")
    carol.raw()
    assert sent(carol, "JOIN #dev")[0] == ("JOIN", ("#dev",))


# Roles


def test_mode_o_gives_operator_to_a_member_shown_to_all():
    _, alice, bob = channel()
    alice.send("MODE #dev +o bob")
    for client in (alice, bob):
        (mode,) = client.messages()
        assert (mode.command, mode.params) == ("MODE", ("#dev", "+o", "bob"))
    names = sent(bob, "NAMES #dev")
    assert names[0][1][-1].split() == ["@alice", "@bob"]


def test_mode_v_then_minus_v():
    _, alice, bob = channel()
    alice.send("MODE #dev +v bob", "MODE #dev -v bob")
    assert [m.params for m in bob.messages()] == [
        ("#dev", "+v", "bob"),
        ("#dev", "-v", "bob"),
    ]


def test_mode_o_of_who_is_not_in_the_channel_is_441():
    server, alice, _ = channel()
    server.ircLogin("carol")
    assert sent(alice, "MODE #dev +o carol")[0][0] == "441"


def test_mode_o_of_a_nick_nobody_has_is_401():
    _, alice, _ = channel()
    assert [c for c, _ in sent(alice, "MODE #dev +o nobody")] == ["401"]


# Bans and mutes


def test_a_ban_is_told_as_mode_b_and_its_join_is_474():
    _, alice, bob = channel()
    alice.send("KICK #dev bob")
    bob.raw()
    alice.raw()
    assert sent(alice, "MODE #dev +b bob!*@*") == [("MODE", ("#dev", "+b", "bob!*@*"))]
    assert [c for c, _ in sent(bob, "JOIN #dev")] == ["474"]


def test_an_unban_lets_the_banned_join():
    _, alice, bob = channel()
    alice.send("KICK #dev bob", "MODE #dev +b bob", "MODE #dev -b bob")
    assert alice.messages()[-1].params == ("#dev", "-b", "bob")
    bob.raw()
    assert sent(bob, "JOIN #dev")[0][0] == "JOIN"


def test_the_ban_list_gives_mask_setter_time_then_368():
    server, alice, _ = channel()
    server.clock.advance(1000)
    alice.send("MODE #dev +b spam*", "MODE #dev +b m:troll")
    alice.raw()
    assert sent(alice, "MODE #dev b") == [
        ("367", ("alice", "#dev", "spam*", "alice", "1000")),
        ("367", ("alice", "#dev", "m:troll", "alice", "1000")),
        ("368", ("alice", "#dev", "End of channel ban list")),
    ]


def test_a_banned_member_cannot_speak_404():
    _, alice, bob = channel()
    alice.send("MODE #dev +b bob")
    bob.raw()
    assert [c for c, _ in sent(bob, "PRIVMSG #dev :hi")] == ["404"]


def test_the_mute_extban_keeps_a_member_from_speaking_404():
    _, alice, bob = channel()
    alice.send("MODE #dev +b m:bob!*@*")
    assert bob.messages()[0].params == ("#dev", "+b", "m:bob!*@*")
    alice.raw()
    got = sent(bob, "PRIVMSG #dev :hi")
    assert got == [("404", ("bob", "#dev", "cannot speak in #dev: you are muted"))]
    assert alice.messages() == []


def test_unmuted_a_member_speaks_again():
    _, alice, bob = channel()
    alice.send("MODE #dev +b m:bob", "MODE #dev -b m:bob")
    bob.raw()
    alice.raw()
    bob.send("PRIVMSG #dev :back")
    assert alice.messages()[0].params == ("#dev", "back")


def test_a_bad_ban_mask_is_696():
    _, alice, _ = channel()
    (got,) = sent(alice, "MODE #dev +b a!b!c")
    assert got[0] == "696" and got[1][1:4] == ("#dev", "b", "a!b!c")


def test_lifting_a_ban_there_is_not_is_no_answer():
    _, alice, _ = channel()
    assert sent(alice, "MODE #dev -b nobody") == []


def test_a_ban_from_the_line_door_reaches_irc_as_mode_b():
    server, alice, bob = channel()
    line = server.login("dave")
    line.send("/join #dev")
    alice.send("MODE #dev +o dave")
    bob.raw()
    line.send("/mute #dev carol 10m")
    (mode,) = bob.messages()
    assert mode.prefix.startswith("dave!")
    assert mode.params == ("#dev", "+b", "m:carol")


def test_a_ban_that_ends_is_told_as_mode_minus_b_from_the_server():
    server, alice, bob = channel()
    line = server.login("dave")
    line.send("/join #dev")
    alice.send("MODE #dev +o dave")
    line.send("/ban #dev carol 30s")
    bob.raw()
    server.clock.advance(31)
    (mode,) = bob.messages()
    assert mode.prefix == "chat"
    assert mode.params == ("#dev", "-b", "carol")


# Channel modes


def test_mode_alone_gives_324_with_the_key_and_limit_then_329():
    _, alice, bob = channel()
    alice.send("MODE #dev +mtkl sesame 10")
    bob.raw()
    got = sent(bob, "MODE #dev")
    assert got[0] == ("324", ("bob", "#dev", "+mntkl", "sesame", "10"))
    assert got[1][0] == "329"


def test_the_key_is_a_star_in_324_for_who_is_not_a_member():
    server, alice, _ = channel()
    alice.send("MODE #dev +k sesame")
    carol = server.ircLogin("carol")
    assert sent(carol, "MODE #dev")[0][1][2:] == ("+nk", "*")


def test_mode_changes_are_told_together():
    _, alice, bob = channel()
    alice.send("MODE #dev +mitk sesame")
    assert [m.params for m in bob.messages()] == [("#dev", "+mitk", "sesame")]


def test_a_change_from_the_line_door_reaches_irc_as_mode():
    server, alice, bob = channel()
    line = server.login("dave")
    line.send("/join #dev")
    alice.send("MODE #dev +o dave")
    bob.raw()
    line.send("/mode #dev +m")
    (mode,) = bob.messages()
    assert mode.prefix.startswith("dave!") and mode.params == ("#dev", "+m")


def test_mode_by_a_member_who_is_no_operator_is_one_482():
    _, _, bob = channel()
    assert [c for c, _ in sent(bob, "MODE #dev +mb-o x alice")] == ["482"]


def test_an_unknown_mode_is_472_and_the_others_are_made():
    _, alice, _ = channel()
    got = sent(alice, "MODE #dev +zm")
    assert got == [
        ("472", ("alice", "z", "is an unknown mode char to me")),
        ("MODE", ("#dev", "+m")),
    ]


def test_an_invalid_key_is_696_with_a_star():
    _, alice, _ = channel()
    (got,) = sent(alice, "MODE #dev +k :has spaces")
    assert got[0] == "696" and got[1][1:4] == ("#dev", "k", "*")


def test_an_invalid_limit_is_696():
    _, alice, _ = channel()
    (got,) = sent(alice, "MODE #dev +l 0")
    assert got[0] == "696" and got[1][1:4] == ("#dev", "l", "0")


def test_a_second_key_is_467():
    _, alice, _ = channel()
    alice.send("MODE #dev +k one")
    alice.raw()
    assert [c for c, _ in sent(alice, "MODE #dev +k two")] == ["467"]


def test_minus_k_takes_the_key_it_is_given():
    _, alice, bob = channel()
    alice.send("MODE #dev +k one", "MODE #dev -k one")
    assert [m.params for m in bob.messages()] == [("#dev", "+k", "one"), ("#dev", "-k")]


def test_a_new_channel_shows_n_in_324():
    _, alice, _ = channel()
    assert sent(alice, "MODE #dev")[0] == ("324", ("alice", "#dev", "+n"))


def test_plus_s_is_shown_in_324():
    _, alice, _ = channel()
    alice.send("MODE #dev +s")
    alice.raw()
    assert sent(alice, "MODE #dev")[0] == ("324", ("alice", "#dev", "+ns"))


def test_names_of_a_secret_channel_are_marked_with_an_at_sign():
    _, alice, bob = channel()
    alice.send("MODE #dev +s")
    bob.raw()
    assert sent(bob, "NAMES #dev")[0] == ("353", ("bob", "@", "#dev", "@alice bob"))


def test_names_of_a_secret_channel_by_who_is_not_in_it_is_only_366():
    server, alice, _ = channel()
    alice.send("MODE #dev +s")
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "NAMES #dev")] == ["366"]


def test_names_alone_leaves_out_a_secret_channel_one_is_not_in():
    server, alice, _ = channel()
    alice.send("MODE #dev +s")
    carol = server.ircLogin("carol")
    assert "#dev" not in {p[2] for c, p in sent(carol, "NAMES") if c == "353"}


def test_list_leaves_out_a_secret_channel_one_is_not_in():
    server, alice, _ = channel()
    alice.send("MODE #dev +s")
    carol = server.ircLogin("carol")
    assert [p[1] for c, p in sent(carol, "LIST") if c == "322"] == []


def test_who_of_a_secret_channel_by_who_is_not_in_it_is_only_315():
    server, alice, _ = channel()
    alice.send("MODE #dev +s")
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "WHO #dev")] == ["315"]


def test_whois_does_not_name_a_secret_channel_to_who_is_not_in_it():
    server, alice, _ = channel()
    alice.send("MODE #dev +s")
    carol = server.ircLogin("carol")
    assert "319" not in [c for c, _ in sent(carol, "WHOIS alice")]


def test_whois_names_a_secret_channel_to_its_members():
    _, alice, bob = channel()
    alice.send("MODE #dev +s")
    bob.raw()
    assert ("319", ("bob", "alice", "@#dev")) in sent(bob, "WHOIS alice")


def test_minus_n_is_told_as_a_mode_change():
    _, alice, bob = channel()
    alice.send("MODE #dev -n")
    assert [(m.command, m.params) for m in bob.messages()] == [("MODE", ("#dev", "-n"))]


def test_privmsg_from_outside_a_plus_n_channel_is_404():
    server, _, _ = channel()
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "PRIVMSG #dev :hi")] == ["404"]


def test_privmsg_from_outside_a_minus_n_channel_reaches_its_members():
    server, alice, bob = channel()
    alice.send("MODE #dev -n")
    bob.raw()
    carol = server.ircLogin("carol")
    carol.send("PRIVMSG #dev :hi from outside")
    assert [(m.command, m.params) for m in bob.messages()] == [
        ("PRIVMSG", ("#dev", "hi from outside"))
    ]


def test_a_muted_sender_from_outside_a_minus_n_channel_is_404():
    server, alice, _ = channel()
    alice.send("MODE #dev -n", "MODE #dev +b m:carol!*@*")
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "PRIVMSG #dev :hi")] == ["404"]


def test_a_voiced_member_speaks_through_the_mute_extban():
    _, alice, bob = channel()
    alice.send("MODE #dev +b m:bob!*@*", "MODE #dev +v bob")
    alice.raw()
    bob.raw()
    bob.send("PRIVMSG #dev :voiced")
    assert [(m.command, m.params) for m in alice.messages()] == [
        ("PRIVMSG", ("#dev", "voiced"))
    ]


def test_isupport_targmax_lets_kick_take_several_nicks():
    client = harness().irc()
    client.send("NICK zed", "USER zed 0 * :Z")
    tokens = " ".join(
        " ".join(m.params) for m in client.messages() if m.command == "005"
    ).split()
    (targmax,) = [t for t in tokens if t.startswith("TARGMAX=")]
    assert "KICK:" in targmax.removeprefix("TARGMAX=").split(",")


def test_join_without_the_key_is_475_and_with_it_joins():
    server, alice, _ = channel()
    alice.send("MODE #dev +k sesame")
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "JOIN #dev")] == ["475"]
    assert sent(carol, "JOIN #dev sesame")[0] == ("JOIN", ("#dev",))


def test_join_gives_each_channel_its_key_in_order():
    server, alice, _ = channel()
    alice.send("JOIN #two", "MODE #two +k k2", "MODE #dev +k k1")
    carol = server.ircLogin("carol")
    joins = [p for c, p in sent(carol, "JOIN #dev,#two k1,k2") if c == "JOIN"]
    assert joins == [("#dev",), ("#two",)]


def test_a_full_channel_is_471():
    server, alice, _ = channel()
    alice.send("MODE #dev +l 2")
    carol = server.ircLogin("carol")
    assert [c for c, _ in sent(carol, "JOIN #dev")] == ["471"]


def test_a_moderated_channel_is_404_without_voice_and_voice_speaks():
    _, alice, bob = channel()
    alice.send("MODE #dev +m")
    bob.raw()
    assert [c for c, _ in sent(bob, "PRIVMSG #dev :hi")] == ["404"]
    alice.send("MODE #dev +v bob")
    bob.raw()
    alice.raw()
    bob.send("PRIVMSG #dev :hi")
    assert alice.messages()[0].params == ("#dev", "hi")


def test_a_locked_topic_set_by_who_is_no_operator_is_482():
    _, alice, bob = channel()
    alice.send("MODE #dev +t")
    bob.raw()
    assert [c for c, _ in sent(bob, "TOPIC #dev :mine")] == ["482"]


@settings(max_examples=60, deadline=None)
@given(
    changes=st.text(alphabet="+-bklimnstovzq", max_size=8),
    arguments=st.lists(
        st.sampled_from(["bob", "0", "7", "k3y", "m:x", "*!*@*", ""]), max_size=4
    ),
)
def test_any_mode_line_is_answered_and_keeps_the_connection(changes, arguments):
    _, alice, _ = channel()
    line = " ".join(["MODE", "#dev", changes or "+", *arguments[:-1]])
    if arguments:
        line += " :" + arguments[-1]
    alice.send(line)
    alice.raw()
    assert not alice.closing
    assert sent(alice, "PING x")[0][0] == "PONG"


# KLINE


def test_kline_by_a_user_who_is_no_operator_is_481():
    client = harness().ircLogin("alice")
    assert [c for c, _ in sent(client, "KLINE bob")] == ["481"]


def test_kline_disconnects_who_matches_and_its_login_is_465():
    server = harness()
    root = opered(server, "root")
    bob = server.ircLogin("bob")
    root.send("KLINE ANDKILL 1h bob* :flooding")
    (notice,) = root.messages()
    assert notice.command == "NOTICE" and "disconnected bob" in notice.params[1]
    assert bob.raw()[-1].startswith("ERROR ")
    again = server.irc()
    again.send("NICK bobby", "USER bob 0 * :B")
    lines = again.raw()
    assert lines[0].split()[1] == "465"
    assert lines[-1].startswith("ERROR ")
    assert again.closing


def test_unkline_lets_the_login_in():
    server = harness()
    root = opered(server, "root")
    root.send("KLINE bob", "UNKLINE bob")
    assert "lifted" in root.messages()[-1].params[1]
    client = server.irc()
    client.send("NICK bob", "USER b 0 * :B")
    assert "001" in client.commands()


def test_kline_list_gives_each_kline():
    server = harness()
    root = opered(server, "root")
    root.send("KLINE 10m spam* :bots")
    root.raw()
    notices = [p[1] for _, p in sent(root, "KLINE LIST")]
    assert notices[0].startswith("K-line on spam* by root until ")
    assert notices[0].endswith(": bots")
    assert notices[-1] == "End of K-lines (1)"


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["ANDKILL", "LIST", "10m", "1.2.3.4", "bob*", "7x", ":why", "a!b!c"]
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_kline_line_is_answered_and_keeps_the_operator(words):
    server = harness()
    root = opered(server, "root")
    root.send("KLINE " + " ".join(words))
    root.raw()
    assert not root.closing
    assert sent(root, "PING x")[0][0] == "PONG"


@settings(max_examples=40, deadline=None)
@given(keyed=st.lists(st.booleans(), min_size=1, max_size=4))
def test_join_gives_each_channel_of_a_list_its_own_key(keyed):
    server = harness()
    alice = server.ircLogin("alice")
    rooms = [f"#r{index}" for index in range(len(keyed))]
    for room, hasKey in zip(rooms, keyed, strict=True):
        alice.send(f"JOIN {room}")
        if hasKey:
            alice.send(f"MODE {room} +k key{room[2:]}")
    carol = server.ircLogin("carol")
    keys = [
        f"key{room[2:]}" if hasKey else "x"
        for room, hasKey in zip(rooms, keyed, strict=True)
    ]
    joined = sent(carol, f"JOIN {','.join(rooms)} {','.join(keys)}")
    assert [p for c, p in joined if c == "JOIN"] == [(room,) for room in rooms]
