"""
Moderation of an account with several sessions: what is done to the
account is done to every session (a kick, a ban, a mute, a kill, a kline),
a role is the account's in the room whatever session it speaks from, and
what moderation tells reaches every session.
"""

from __future__ import annotations

import pytest

from chatserver.core.events import Invited, Kicked, RoleChanged
from chatserver.core.moderation.errors import BannedFromRoom, CannotSpeak, Klined
from chatserver.core.realm import ChatRealm
from chatserver.core.users import ChatUser
from tests.core.fakes import RecordingMind
from tests.core.test_moderation import login, opers, room_of_three
from tests.history.support import result


def another_session(
    chat: ChatRealm, name: str, host: str = "203.0.113.9"
) -> tuple[ChatUser, RecordingMind]:
    """
    Log one more session of the account C{name} in, from C{host}.
    """
    session, mind = login(chat, name, host)
    first = chat.get(name)
    assert first is not None and session in first.sessions
    assert len(first.sessions) > 1
    return session, mind


def test_a_kick_of_an_account_puts_every_session_out_and_tells_each():
    chat, (alice, _), (bob, b), _ = room_of_three(accounts=True)
    phone, p = another_session(chat, "bob")
    alice.kick("#dev", "bob", "spam")
    told = Kicked("#dev", "alice", "bob", "spam")
    assert b.events() == [told]
    assert p.events() == [told]
    assert "#dev" not in [room.name for room in bob.rooms]
    assert "#dev" not in [room.name for room in phone.rooms]
    assert bob not in alice.room("#dev") and phone not in alice.room("#dev")


def test_a_ban_matching_one_session_keeps_the_account_out():
    chat, (alice, _), (bob, _), _ = room_of_three(accounts=True)
    phone, _ = another_session(chat, "bob", "203.0.113.9")
    bob.part("#dev")
    alice.ban("#dev", "*!*@203.0.113.9")
    with pytest.raises(BannedFromRoom):
        bob.join("#dev")
    with pytest.raises(BannedFromRoom):
        phone.join("#dev")


def test_a_mute_matching_one_session_silences_every_session():
    chat, (alice, _), (bob, _), _ = room_of_three(accounts=True)
    phone, _ = another_session(chat, "bob", "203.0.113.9")
    alice.mute("#dev", "*!*@203.0.113.9")
    with pytest.raises(CannotSpeak):
        bob.say("from the laptop", "#dev")
    with pytest.raises(CannotSpeak):
        phone.say("from the phone", "#dev")


def test_kill_disconnects_every_session_of_the_account():
    chat, (alice, _), (_bob, b), _ = room_of_three(accounts=True)
    _phone, p = another_session(chat, "bob")
    alice.serverOperator = True
    alice.kill("bob", "enough")
    assert b.disconnected == p.disconnected == ["Killed by alice: enough"]


def test_a_kline_matching_one_session_disconnects_every_session():
    chat, (alice, _), (_bob, b), _ = room_of_three(accounts=True)
    _phone, p = another_session(chat, "bob", "203.0.113.9")
    alice.serverOperator = True
    _ban, gone = alice.kline("203.0.113.0/24", None, "abuse")
    assert gone == ["bob"]
    assert b.disconnected == p.disconnected == ["Banned from the server: abuse"]


def test_a_klined_address_cannot_add_a_session():
    chat, (alice, _), _, _ = room_of_three(accounts=True)
    alice.serverOperator = True
    alice.kline("203.0.113.0/24")
    with pytest.raises(Klined):
        login(chat, "bob", "203.0.113.9")
    bob = chat.get("bob")
    assert bob is not None and len(bob.sessions) == 1


def test_a_role_given_to_the_account_is_every_sessions():
    chat, (alice, _), (bob, _), _ = room_of_three(accounts=True)
    phone, p = another_session(chat, "bob")
    event = alice.op("#dev", "bob")
    assert p.events() == [RoleChanged("#dev", "alice", "bob", "o", True)]
    assert event is not None
    assert phone.isRoomOperator("#dev") and bob.isRoomOperator("#dev")
    phone.kick("#dev", "carol")


def test_a_voiced_account_speaks_from_any_session_in_a_moderated_room():
    chat, (alice, _), _, _ = room_of_three(accounts=True)
    phone, _ = another_session(chat, "bob")
    alice.setModes("#dev", "+m", [])
    alice.voice("#dev", "bob")
    phone.say("voice speaks from the phone", "#dev")


def test_a_role_outlives_the_session_that_was_listed_ending():
    chat, (alice, _), (bob, _), _ = room_of_three(accounts=True)
    phone, _ = another_session(chat, "bob")
    alice.op("#dev", "bob")
    bob.quit("laptop closed")
    assert chat.moderation.roles("#dev", "bob") == "o"
    assert phone.isRoomOperator("#dev")


def test_an_invitation_reaches_every_session():
    chat, (alice, _), _, _ = room_of_three(accounts=True)
    alice.setModes("#dev", "+i", [])
    _dave, d = login(chat, "dave")
    phone, p = another_session(chat, "dave")
    alice.invite("dave", "#dev")
    told = Invited("#dev", "alice", "dave")
    assert d.events() == p.events() == [told]
    phone.join("#dev")


def test_oper_on_one_session_makes_the_account_a_server_operator():
    chat, _, (bob, _), _ = room_of_three(accounts=True)
    phone, _ = another_session(chat, "bob")
    opers(chat)
    result(phone.oper("root", "secret"))
    assert bob.serverOperator and phone.serverOperator


def test_a_new_session_of_a_server_operator_is_one():
    chat, _, (bob, _), _ = room_of_three(accounts=True)
    opers(chat)
    result(bob.oper("root", "secret"))
    phone, _ = another_session(chat, "bob")
    assert phone.serverOperator
