"""
Moderation in the core, once for every door: roles, kicks, bans, mutes,
room modes, invitations, server operators, kills and klines, with their
ends on a fake clock, their events, their log and their typed refusals
(no bytes, no sockets).
"""

from __future__ import annotations

import json
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.internet.defer import succeed
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.python.failure import Failure

from chatserver.config import ChatConfig
from chatserver.core.events import (
    BanChanged,
    Invited,
    Kicked,
    ModeChanged,
    RoleChanged,
    Said,
    TopicChanged,
)
from chatserver.core.moderation.errors import (
    AlreadyInRoom,
    BadKey,
    BannedFromRoom,
    CannotSpeak,
    InvalidDuration,
    InvalidMode,
    InviteOnly,
    KeySet,
    Klined,
    NoSuchBan,
    NotRoomOperator,
    NotServerOperator,
    OperRefused,
    RoomFull,
    TargetNotInRoom,
)
from chatserver.core.moderation.records import Ban, LogEntry
from chatserver.core.moderation.state import MODLOG_SIZE
from chatserver.core.moderation.store import MemoryModerationStore, StateRecord
from chatserver.core.realm import ChatRealm
from chatserver.core.users import ChatUser
from chatserver.doors.line.codec import MARKED, LineCodec
from chatserver.doors.web.codec import WebCodec, split_messages
from chatwire import lines
from chatwire.errors import ChatError, NoSuchRoom, NotInRoom
from tests.core.fakes import RecordingMind
from tests.history.support import result


def realm(accounts: bool = False, store: object = None) -> ChatRealm:
    chat = ChatRealm(ChatConfig(defaultRoom="#hall"), clock=Clock(), accounts=accounts)
    if store is not None:
        chat.moderation.store = store  # type: ignore[assignment]
    return chat


def login(
    chat: ChatRealm, name: str, host: str = "192.0.2.1", ident: str = ""
) -> tuple[ChatUser, RecordingMind]:
    mind = RecordingMind(chat.clock)  # type: ignore[arg-type]
    mind.host = host  # type: ignore[attr-defined]
    mind.ident = ident
    user = chat.login(name, mind)
    mind.events()
    return user, mind


def room_of_three(accounts: bool = False):
    """
    alice made #dev (its operator); bob and carol joined it.
    """
    chat = realm(accounts)
    (alice, a), (bob, b), (carol, c) = (
        login(chat, "alice", "192.0.2.1"),
        login(chat, "bob", "198.51.100.7"),
        login(chat, "carol", "2001:db8::5"),
    )
    for user in (alice, bob, carol):
        user.join("#dev")
    for mind in (a, b, c):
        mind.events()
    return chat, (alice, a), (bob, b), (carol, c)


def roles(chat: ChatRealm, room: str, name: str) -> str:
    return chat.moderation.roles(room, name)


# Roles


def test_who_makes_a_room_is_its_operator():
    chat, (_alice, _), (_bob, _), _ = room_of_three()
    assert roles(chat, "#dev", "alice") == "o"
    assert roles(chat, "#dev", "bob") == ""


def test_the_default_room_has_no_operator_made_by_logging_in():
    chat = realm()
    login(chat, "alice")
    assert not chat.moderation.hasOperators("#hall")


def test_an_operator_gives_operator_and_the_room_is_told():
    chat, (alice, _a), (_bob, b), _ = room_of_three()
    event = alice.op("#dev", "bob")
    assert event == RoleChanged("#dev", "alice", "bob", "o", True)
    assert b.events() == [event]
    assert roles(chat, "#dev", "bob") == "o"


def test_an_operator_takes_operator():
    chat, (alice, _), (_bob, _), _ = room_of_three()
    alice.op("#dev", "bob")
    assert alice.deop("#dev", "bob") == RoleChanged("#dev", "alice", "bob", "o", False)
    assert roles(chat, "#dev", "bob") == ""


def test_an_operator_gives_and_takes_voice():
    chat, (alice, _), (_bob, _), _ = room_of_three()
    alice.voice("#dev", "bob")
    assert roles(chat, "#dev", "bob") == "v"
    alice.devoice("#dev", "bob")
    assert roles(chat, "#dev", "bob") == ""


def test_giving_a_role_held_already_changes_nothing():
    _, (alice, _), _, _ = room_of_three()
    assert alice.op("#dev", "alice") is None


def test_a_member_who_is_not_an_operator_cannot_give_roles():
    _, _, (bob, _), _ = room_of_three()
    with pytest.raises(NotRoomOperator) as raised:
        bob.op("#dev", "bob")
    assert raised.value.code == "chanop-needed"


def test_a_role_is_given_to_members_only():
    chat, (alice, _), _, _ = room_of_three()
    login(chat, "dave")
    with pytest.raises(TargetNotInRoom) as raised:
        alice.op("#dev", "dave")
    assert raised.value.code == "user-not-in-room"


def test_without_accounts_a_role_ends_when_its_member_leaves():
    chat, (alice, _), _, _ = room_of_three()
    alice.part("#dev")
    alice.join("#dev")
    assert roles(chat, "#dev", "alice") == ""


def test_with_accounts_a_role_outlives_leaving_the_room():
    chat, (alice, _), _, _ = room_of_three(accounts=True)
    alice.part("#dev")
    assert roles(chat, "#dev", "alice") == "o"


def test_a_renamed_member_keeps_its_role():
    chat, (alice, _), _, _ = room_of_three()
    alice.rename("alicia")
    assert roles(chat, "#dev", "alicia") == "o"


def test_member_names_show_operators_and_voice():
    _, (alice, _), (_bob, _), _ = room_of_three()
    alice.voice("#dev", "bob")
    assert alice.roleNames(alice.room("#dev")) == ("@alice", "+bob", "carol")
    assert alice.memberRoles(alice.room("#dev")) == {"alice": "@", "bob": "+"}


def test_a_server_operator_may_act_in_any_room():
    _, _, (bob, _), (carol, _) = room_of_three()
    carol.serverOperator = True
    carol.op("#dev", "bob")
    assert bob.isRoomOperator(bob.room("#dev"))


# Kicks


def test_a_kick_tells_every_member_the_kicked_included_then_puts_it_out():
    _, (alice, a), (bob, b), (_carol, c) = room_of_three()
    alice.kick("#dev", "bob", "spam")
    told = Kicked("#dev", "alice", "bob", "spam")
    assert a.events() == [told]
    assert b.events() == [told]
    assert c.events() == [told]
    assert bob not in alice.room("#dev")
    assert "#dev" not in [room.name for room in bob.rooms]


def test_a_kick_of_who_is_not_in_the_room_is_refused():
    chat, (alice, _), _, _ = room_of_three()
    login(chat, "dave")
    with pytest.raises(TargetNotInRoom):
        alice.kick("#dev", "dave")


def test_only_operators_kick():
    _, _, (bob, _), _ = room_of_three()
    with pytest.raises(NotRoomOperator):
        bob.kick("#dev", "carol")


# Bans


def test_a_banned_user_cannot_join():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.kick("#dev", "bob")
    alice.ban("#dev", "bob")
    with pytest.raises(BannedFromRoom) as raised:
        bob.join("#dev")
    assert raised.value.code == "banned"


def test_a_banned_member_cannot_speak():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.ban("#dev", "b*")
    with pytest.raises(CannotSpeak) as raised:
        bob.say("hi", "#dev")
    assert raised.value.code == "cannot-speak"


def test_a_ban_tells_the_room():
    chat, (alice, _), (_bob, b), _ = room_of_three()
    alice.ban("#dev", "spam*", "10m", "flood")
    assert b.events() == [
        BanChanged("#dev", "alice", "ban", "spam*", True, chat.now() + 600, "flood")
    ]


@pytest.mark.parametrize(
    ("mask", "banned"),
    [
        ("bob!*@*", "bob"),
        ("*!*@198.51.100.7", "bob"),
        ("198.51.100.7", "bob"),
        ("198.51.100.0/24", "bob"),
        ("2001:db8::/32", "carol"),
    ],
)
def test_a_ban_matches_irc_masks_addresses_and_networks(mask, banned):
    _chat, (alice, _), (bob, _), (carol, _) = room_of_three()
    alice.ban("#dev", mask)
    for user in (bob, carol):
        if user.name == banned:
            with pytest.raises(CannotSpeak):
                user.say("hi", "#dev")
        else:
            user.say("hi", "#dev")


def test_a_ban_ends_by_itself_and_the_room_is_told():
    chat, (alice, a), (bob, _), _ = room_of_three()
    alice.ban("#dev", "bob", "30s")
    a.events()
    chat.clock.advance(30)
    assert a.events() == [BanChanged("#dev", "", "ban", "bob", False)]
    bob.say("back", "#dev")


def test_a_ban_with_a_bad_duration_is_refused():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(InvalidDuration):
        alice.ban("#dev", "bob", "10x")


def test_unban_lifts_a_ban():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.ban("#dev", "Bob")
    alice.unban("#dev", "bob")
    bob.say("free", "#dev")


def test_unban_of_a_mask_not_banned_is_refused():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(NoSuchBan):
        alice.unban("#dev", "nobody")


def test_bans_lists_mask_setter_time_and_end():
    chat, (alice, _), (bob, _), _ = room_of_three()
    chat.clock.advance(100)
    alice.ban("#dev", "bob", "2h", "spam")
    (ban,) = bob.bans("#dev")
    assert (ban.mask, ban.setter, ban.setAt, ban.endsAt, ban.reason) == (
        "bob",
        "alice",
        100,
        100 + 7200,
        "spam",
    )


# Mutes


def test_a_muted_member_reads_but_cannot_speak():
    _, (alice, _), (bob, b), _ = room_of_three()
    alice.mute("#dev", "bob")
    b.events()
    with pytest.raises(CannotSpeak):
        bob.say("hi", "#dev")
    alice.say("still here", "#dev")
    assert [type(e) for e in b.events()] == [Said]


def test_unmute_lets_a_member_speak_again():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.mute("#dev", "bob")
    alice.unmute("#dev", "bob")
    bob.say("hi", "#dev")


def test_a_voiced_member_is_not_silenced_by_a_mute():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.mute("#dev", "bob")
    alice.voice("#dev", "bob")
    assert isinstance(bob.say("hi", "#dev"), Said)


def test_a_mute_silences_a_member_again_when_devoiced():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.mute("#dev", "bob")
    alice.voice("#dev", "bob")
    alice.devoice("#dev", "bob")
    with pytest.raises(CannotSpeak):
        bob.say("hi", "#dev")


def test_voice_does_not_override_a_ban_for_speaking():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.voice("#dev", "bob")
    alice.ban("#dev", "bob")
    with pytest.raises(CannotSpeak):
        bob.say("hi", "#dev")


def test_a_mute_ends_by_itself():
    chat, (alice, _), (bob, _), _ = room_of_three()
    alice.mute("#dev", "bob", "1m")
    chat.clock.advance(60)
    bob.say("hi", "#dev")
    assert bob.mutes("#dev") == []


# Room modes


def test_a_moderated_room_lets_only_voice_and_operators_speak():
    _, (alice, _), (bob, _), (carol, _) = room_of_three()
    alice.setModes("#dev", "+m", [])
    alice.voice("#dev", "bob")
    alice.say("ops speak", "#dev")
    bob.say("voice speaks", "#dev")
    with pytest.raises(CannotSpeak):
        carol.say("others do not", "#dev")


def test_a_mode_change_tells_the_room():
    _, (alice, _), (_bob, b), _ = room_of_three()
    alice.setModes("#dev", "+ml", ["5"])
    assert b.events() == [ModeChanged("#dev", "alice", "+ml", ("5",))]


def test_an_invite_only_room_refuses_who_is_not_invited():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+i", [])
    dave, _ = login(chat, "dave")
    with pytest.raises(InviteOnly):
        dave.join("#dev")


def test_an_invitation_lets_its_user_in_once_and_tells_it():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+i", [])
    dave, d = login(chat, "dave")
    alice.invite("dave", "#dev")
    assert d.events() == [Invited("#dev", "alice", "dave")]
    dave.join("#dev")
    dave.part("#dev")
    with pytest.raises(InviteOnly):
        dave.join("#dev")


def test_only_operators_invite_to_an_invite_only_room():
    chat, (alice, _), (bob, _), _ = room_of_three()
    alice.setModes("#dev", "+i", [])
    login(chat, "dave")
    with pytest.raises(NotRoomOperator):
        bob.invite("dave", "#dev")


def test_inviting_a_member_is_refused():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(AlreadyInRoom):
        alice.invite("bob", "#dev")


def test_a_room_with_a_key_wants_it():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+k", ["sesame"])
    dave, _ = login(chat, "dave")
    with pytest.raises(BadKey):
        dave.join("#dev", "wrong")
    dave.join("#dev", "sesame")


def test_a_key_cannot_be_set_over_another():
    _, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+k", ["one"])
    with pytest.raises(KeySet):
        alice.setModes("#dev", "+k", ["two"])


def test_a_full_room_refuses_one_more():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+l", ["3"])
    dave, _ = login(chat, "dave")
    with pytest.raises(RoomFull):
        dave.join("#dev")


def test_a_topic_locked_room_lets_only_operators_set_the_topic():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.setModes("#dev", "+t", [])
    with pytest.raises(NotRoomOperator):
        bob.setTopic("mine", "#dev")
    assert isinstance(alice.setTopic("ours", "#dev"), TopicChanged)


def test_modes_shows_the_flags_and_the_key_to_members_only():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+mtk", ["sesame"])
    modes = alice.modes("#dev")
    assert (modes.flags(), modes.key) == ("+mntk", "sesame")
    dave, _ = login(chat, "dave")
    assert dave.modes("#dev").key == "*"


def test_a_new_room_takes_no_lines_from_outside():
    chat, _, _, _ = room_of_three()
    dave, _ = login(chat, "dave")
    assert dave.modes("#dev").flags() == "+n"
    with pytest.raises(NotInRoom):
        dave.say("hi", "#dev")


def test_a_room_without_n_hears_who_is_not_in_it():
    chat, (alice, _), (_bob, b), _ = room_of_three()
    alice.setModes("#dev", "-n", [])
    dave, d = login(chat, "dave")
    b.events()
    dave.say("hi from outside", "#dev")
    assert [(e.sender, e.text) for e in b.events()] == [("dave", "hi from outside")]
    assert d.events() == []


def test_an_action_from_outside_reaches_a_room_without_n():
    chat, (alice, _), (_bob, b), _ = room_of_three()
    alice.setModes("#dev", "-n", [])
    dave, _ = login(chat, "dave")
    b.events()
    dave.act("waves", "#dev")
    assert [(e.sender, e.text) for e in b.events()] == [("dave", "waves")]


def test_a_ban_still_silences_who_speaks_from_outside():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "-n", [])
    alice.ban("#dev", "dave")
    dave, _ = login(chat, "dave")
    with pytest.raises(CannotSpeak):
        dave.say("hi", "#dev")


def test_a_mute_still_silences_who_speaks_from_outside():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "-n", [])
    alice.mute("#dev", "dave")
    dave, _ = login(chat, "dave")
    with pytest.raises(CannotSpeak):
        dave.say("hi", "#dev")


def test_setting_n_again_closes_the_room_to_outsiders():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "-n", [])
    alice.setModes("#dev", "+n", [])
    dave, _ = login(chat, "dave")
    with pytest.raises(NotInRoom):
        dave.say("hi", "#dev")


def test_a_secret_room_is_not_listed_to_who_is_not_in_it():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    dave, _ = login(chat, "dave")
    assert [info.name for info in dave.listRooms()] == ["#hall"]


def test_a_secret_room_is_listed_to_its_members():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    assert "#dev" in [info.name for info in bob.listRooms()]


def test_a_secret_room_is_listed_to_a_server_operator():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    dave, _ = login(chat, "dave")
    dave.serverOperator = True
    assert "#dev" in [info.name for info in dave.listRooms()]


def test_who_in_a_secret_room_is_not_told_to_who_is_not_in_it():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    dave, _ = login(chat, "dave")
    with pytest.raises(NoSuchRoom):
        dave.who("#dev")


def test_who_in_a_secret_room_is_told_to_its_members():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    assert bob.who("#dev")[1] == ("alice", "bob", "carol")


def test_unsetting_s_lists_the_room_again():
    chat, (alice, _), _, _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    alice.setModes("#dev", "-s", [])
    dave, _ = login(chat, "dave")
    assert "#dev" in [info.name for info in dave.listRooms()]


def test_only_operators_make_a_room_secret():
    _, _, (bob, _), _ = room_of_three()
    with pytest.raises(NotRoomOperator):
        bob.setModes("#dev", "+s", [])


def test_s_is_shown_among_the_modes():
    _, (alice, _), (bob, _), _ = room_of_three()
    alice.setModes("#dev", "+s", [])
    assert bob.modes("#dev").flags() == "+ns"


def test_n_already_set_is_no_change():
    _, (alice, _), (_bob, b), _ = room_of_three()
    assert alice.setModes("#dev", "+n", []) is None
    assert b.events() == []


def test_an_unknown_mode_is_refused():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(InvalidMode):
        alice.setModes("#dev", "+z", [])


def test_mode_gives_roles_too():
    chat, (alice, _), (_bob, _), _ = room_of_three()
    alice.setModes("#dev", "+o", ["bob"])
    assert roles(chat, "#dev", "bob") == "o"


def test_a_room_keeps_its_modes_when_it_empties():
    _chat, (alice, _), (bob, _), (carol, _) = room_of_three()
    alice.setModes("#dev", "+i", [])
    for user in (alice, bob, carol):
        user.part("#dev")
    with pytest.raises(InviteOnly):
        bob.join("#dev")


# Server operators


def opers(chat: ChatRealm) -> None:
    chat.moderation.operCheckers = [
        InMemoryUsernamePasswordDatabaseDontUse(root=b"secret")
    ]


def test_oper_with_the_right_password_makes_a_server_operator():
    chat, _, (bob, _), _ = room_of_three()
    opers(chat)
    result(bob.oper("root", "secret"))
    assert bob.serverOperator


def test_oper_with_a_wrong_password_is_refused():
    chat, _, (bob, _), _ = room_of_three()
    opers(chat)
    failure = bob.oper("root", "guess")
    failed: list[Failure] = []
    failure.addErrback(failed.append)
    assert failed[0].check(OperRefused)
    assert not bob.serverOperator


def test_an_operator_account_is_a_server_operator_at_login():
    chat = realm(accounts=True)
    chat.moderation.operatorAccounts = frozenset({"alice"})
    alice, _ = login(chat, "Alice")
    bob, _ = login(chat, "bob")
    assert alice.serverOperator and not bob.serverOperator


def test_kill_disconnects_with_a_reason():
    _, (alice, _), (_bob, b), _ = room_of_three()
    alice.serverOperator = True
    alice.kill("bob", "enough")
    assert b.disconnected == ["Killed by alice: enough"]


def test_only_server_operators_kill():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(NotServerOperator) as raised:
        alice.kill("bob")
    assert raised.value.code == "no-privileges"


def test_a_kline_disconnects_who_matches_now_and_refuses_their_login():
    chat, (alice, _), (bob, b), _ = room_of_three()
    alice.serverOperator = True
    _ban, gone = alice.kline("198.51.100.0/24", None, "abuse")
    assert gone == ["bob"]
    assert b.disconnected == ["Banned from the server: abuse"]
    bob.quit("gone")
    with pytest.raises(Klined) as raised:
        login(chat, "bob", "198.51.100.9")
    assert raised.value.code == "klined"
    assert "abuse" in raised.value.reason


def test_unkline_lets_the_user_back():
    chat, (alice, _), _, _ = room_of_three()
    alice.serverOperator = True
    alice.kline("dave")
    alice.unkline("dave")
    login(chat, "dave")


def test_a_kline_ends_by_itself():
    chat, (alice, _), _, _ = room_of_three()
    alice.serverOperator = True
    alice.kline("dave", "2h")
    assert [k.mask for k in alice.klines()] == ["dave"]
    chat.clock.advance(7200)
    assert alice.klines() == []
    login(chat, "dave")


def test_only_server_operators_kline():
    _, (alice, _), _, _ = room_of_three()
    with pytest.raises(NotServerOperator):
        alice.kline("dave")


# The log, and what is kept


def test_the_modlog_keeps_the_last_actions_for_operators():
    _, (alice, _), (bob, _), _ = room_of_three()
    for n in range(MODLOG_SIZE + 5):
        alice.ban("#dev", f"spam{n}")
    entries = alice.modlog("#dev")
    assert len(entries) == MODLOG_SIZE
    assert (entries[-1].actor, entries[-1].action, entries[-1].target) == (
        "alice",
        "ban",
        f"spam{MODLOG_SIZE + 4}",
    )
    with pytest.raises(NotRoomOperator):
        bob.modlog("#dev")


def test_every_action_logs_its_actor_target_room_reason_and_duration():
    _, (alice, _), _, _ = room_of_three()
    seen: list[LogEvent] = []
    observer = cast(ILogObserver, seen.append)
    globalLogPublisher.addObserver(observer)
    try:
        alice.ban("#dev", "bob", "10m", "spam")
    finally:
        globalLogPublisher.removeObserver(observer)
    (event,) = [e for e in seen if e.get("chat_event") == "moderation"]
    assert {k: event[k] for k in ("actor", "action", "target", "room", "reason")} == {
        "actor": "alice",
        "action": "ban",
        "target": "bob",
        "room": "#dev",
        "reason": "spam",
    }
    assert event["duration"] == 600


def test_the_state_kept_by_the_store_is_restored_by_a_new_chat():
    store = MemoryModerationStore()
    chat = realm(accounts=True, store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.setModes("#dev", "+mk", ["sesame"])
    alice.ban("#dev", "spam*", "1h")
    alice.serverOperator = True
    alice.kline("198.51.100.0/24")
    again = realm(accounts=True, store=store)
    result(again.moderation.load())
    assert again.moderation.roles("#dev", "alice") == "o"
    assert again.moderation.room("#dev").modes.key == "sesame"
    assert [b.mask for b in again.moderation.bans("#dev", "ban")] == ["spam*"]
    with pytest.raises(Klined):
        login(again, "bob", "198.51.100.1")


def test_a_room_without_n_is_restored_by_a_new_chat():
    store = MemoryModerationStore()
    chat = realm(store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.setModes("#dev", "-n", [])
    again = realm(store=store)
    result(again.moderation.load())
    assert again.moderation.room("#dev").modes.noExternal is False


def test_a_secret_room_is_restored_by_a_new_chat():
    store = MemoryModerationStore()
    chat = realm(store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.setModes("#dev", "+s", [])
    again = realm(store=store)
    result(again.moderation.load())
    assert again.moderation.room("#dev").modes.secret is True


def test_modes_kept_before_s_existed_load_as_not_secret():
    store = MemoryModerationStore()
    modes: dict[str, object] = {"moderated": True, "inviteOnly": False}
    modes.update({"topicLocked": False, "key": "", "limit": 0, "noExternal": True})
    store.putModeration(StateRecord("modes", "#dev", "", json.dumps(modes)))
    chat = realm(store=store)
    result(chat.moderation.load())
    assert chat.moderation.room("#dev").modes.flags() == "+mn"


def test_a_ban_that_ended_while_the_server_was_down_is_forgotten_at_load():
    store = MemoryModerationStore()
    chat = realm(store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.ban("#dev", "bob", "1m")
    again = realm(store=store)
    cast(Clock, again.clock).advance(61)
    result(again.moderation.load())
    assert again.moderation.bans("#dev", "ban") == []
    assert [kind for kind, _, _ in store.records if kind != "log"] == []


def test_who_is_banned_from_the_default_room_logs_in_to_no_room():
    chat = realm()
    alice, _ = login(chat, "alice")
    alice.serverOperator = True
    alice.ban("#hall", "bob")
    bob, _ = login(chat, "bob")
    assert bob.rooms == ()
    assert bob.online


def test_asking_for_the_modes_keeps_the_rooms_invitations():
    chat, (alice, _), _, _ = room_of_three()
    dave, _ = login(chat, "dave")
    alice.setModes("#dev", "+i", [])
    alice.invite("dave", "#dev")
    alice.setModes("#dev", "-i", [])
    alice.modes("#dev")
    alice.setModes("#dev", "+i", [])
    dave.join("#dev")


@given(reason=st.text(max_size=60))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_any_kick_reason_is_refused_or_reads_back_the_same_on_every_door(reason):
    _, (alice, _), _, _ = room_of_three()
    try:
        event = alice.kick("#dev", "bob", reason)
    except ChatError:
        return
    said = f"kicked by alice: {event.reason}" if event.reason else "kicked by alice"
    line = lines.parse(LineCodec("#hall").encode(event, MARKED))
    assert line == lines.InRoom("#dev", lines.Left("bob", said))
    (message,) = split_messages(WebCodec().encode(event, None))
    assert json.loads(message)["reason"] == event.reason
    assert event.reason == reason.strip()


def test_an_unreadable_record_is_logged_and_skipped_at_load():
    store = MemoryModerationStore()
    store.putModeration(StateRecord("ban", "#dev", "a b", '{"kind": "ban"}'))
    store.putModeration(
        StateRecord(
            "ban",
            "#dev",
            "bad mask",
            Ban("ban", "a b", "alice", 0.0).toJSON(),
        )
    )
    chat = realm(store=store)
    result(chat.moderation.load())
    assert chat.moderation.bans("#dev", "ban") == []


# Kept by the store: the log, and a ban's end in a cluster


def test_the_modlog_outlives_a_restart_with_its_store():
    store = MemoryModerationStore()
    chat = realm(store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.ban("#dev", "spam*", reason="flood")
    alice.voice("#dev", "alice")
    again = realm(store=store)
    result(again.moderation.load())
    logged = list(again.moderation.room("#dev").log)
    assert [(e.actor, e.action, e.target, e.reason) for e in logged] == [
        ("alice", "ban", "spam*", "flood"),
        ("alice", "voice", "alice", ""),
    ]


def test_an_entry_pushed_out_of_the_modlog_is_forgotten_by_the_store():
    store = MemoryModerationStore()
    chat = realm(store=store)
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    for n in range(MODLOG_SIZE + 5):
        alice.ban("#dev", f"spam{n}")
    kept = [key for kind, _, key in store.records if kind == "log"]
    assert len(kept) == MODLOG_SIZE


class _EndedElsewhere(MemoryModerationStore):
    """
    A store in which another node of a cluster forgot every ban that ended.
    """

    def expireModeration(self, record):
        self.records.pop((record.kind, record.scope, record.key), None)
        return succeed(False)


def test_a_ban_another_node_ended_first_ends_here_unlogged():
    store = _EndedElsewhere()
    chat = realm(store=store)
    alice, a = login(chat, "alice")
    alice.join("#dev")
    alice.ban("#dev", "bob", "30s")
    a.events()
    seen: list[LogEvent] = []
    observer = cast(ILogObserver, seen.append)
    globalLogPublisher.addObserver(observer)
    try:
        cast(Clock, chat.clock).advance(30)
    finally:
        globalLogPublisher.removeObserver(observer)
    assert a.events() == [BanChanged("#dev", "", "ban", "bob", False)]
    assert alice.bans("#dev") == []
    assert [e for e in seen if e.get("action") == "expired"] == []
    assert [e.action for e in alice.modlog("#dev")] == ["ban"]


def test_a_ban_that_ends_is_logged_by_who_ends_it_in_the_store():
    chat = realm()
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.ban("#dev", "bob", "30s")
    seen: list[LogEvent] = []
    observer = cast(ILogObserver, seen.append)
    globalLogPublisher.addObserver(observer)
    try:
        cast(Clock, chat.clock).advance(30)
    finally:
        globalLogPublisher.removeObserver(observer)
    assert len([e for e in seen if e.get("action") == "expired"]) == 1
    assert [e.action for e in alice.modlog("#dev")] == ["ban", "ban ended"]


@given(
    st.builds(
        Ban,
        kind=st.sampled_from(["ban", "mute", "kline"]),
        mask=st.text(),
        setter=st.text(),
        setAt=st.floats(allow_nan=False, allow_infinity=False),
        endsAt=st.none() | st.floats(allow_nan=False, allow_infinity=False),
        reason=st.text(),
    )
)
def test_a_ban_goes_to_json_and_back_unchanged(ban):
    assert Ban.fromJSON(ban.toJSON()) == ban


@given(
    st.builds(
        LogEntry,
        time=st.floats(allow_nan=False, allow_infinity=False),
        actor=st.text(),
        action=st.text(),
        target=st.text(),
        reason=st.text(),
        duration=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_a_log_entry_goes_to_json_and_back_unchanged(entry):
    assert LogEntry.fromJSON(entry.toJSON()) == entry


def test_the_state_kept_elsewhere_replaces_the_state_held_but_not_the_log():
    chat = realm()
    alice, _ = login(chat, "alice")
    alice.join("#dev")
    alice.ban("#dev", "spam*", "1m")
    kept = StateRecord("ban", "#dev", "bob", Ban("ban", "bob", "carol", 0.0).toJSON())
    chat.moderation.replace([kept])
    assert [ban.mask for ban in alice.bans("#dev")] == ["bob"]
    cast(Clock, chat.clock).advance(61)
    # The replaced ban's end was forgotten with it.
    assert [e.action for e in alice.modlog("#dev")] == ["ban"]
