"""
Which logins are an account's: the one a checker vouched for with an
L{AccountName} (a registered account, C{--accounts}), or any with C{--auth}
alone; those add a session when the account is online, a guest's is
refused as a name taken.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from chatserver.auth.checkers import AccountName
from chatserver.config import ChatConfig
from chatserver.core.realm import ChatRealm
from chatserver.core.users import ChatUser, IChatUser
from chatwire.errors import NameTaken, TooManySessions
from tests.core.fakes import RecordingMind


def _login(chat: ChatRealm, avatarId: bytes) -> ChatUser:
    """
    Log the avatar ID a checker gave in, as the portal does.

    @raise ChatError: If the realm refused it.
    """
    got: list[Any] = []
    mind = RecordingMind(cast(Clock, chat.clock))
    defer.maybeDeferred(chat.requestAvatar, avatarId, mind, IChatUser).addBoth(
        got.append
    )
    (outcome,) = got
    if isinstance(outcome, Exception):
        raise outcome
    if hasattr(outcome, "raiseException"):
        outcome.raiseException()
    user = outcome[1]
    assert isinstance(user, ChatUser)
    return user


def _chat(**settings: Any) -> ChatRealm:
    return ChatRealm(ChatConfig(**settings), clock=Clock())


def test_a_registered_accounts_second_login_adds_a_session():
    chat = _chat()
    laptop = _login(chat, AccountName(b"ann"))
    phone = _login(chat, AccountName(b"ann"))
    assert laptop.sessions is phone.sessions and len(laptop.sessions) == 2
    assert laptop.account == phone.account == "ann"
    assert len(chat) == 1


def test_a_guests_name_in_use_is_refused():
    chat = _chat()
    guest = _login(chat, b"bob")
    assert guest.account is None and not guest.isAccount
    with pytest.raises(NameTaken):
        _login(chat, b"bob")
    assert len(guest.sessions) == 1


def test_an_accounts_login_over_a_guest_of_that_name_is_refused():
    chat = _chat()
    _login(chat, b"bob")
    with pytest.raises(NameTaken):
        _login(chat, AccountName(b"bob"))


def test_with_auth_alone_every_login_is_an_accounts():
    chat = ChatRealm(ChatConfig(), clock=Clock(), accounts=True)
    first = _login(chat, b"ann")
    second = _login(chat, b"ann")
    assert first.isAccount and len(first.sessions) == 2
    assert second.account == "ann"


def test_a_registered_account_has_at_most_max_sessions():
    chat = _chat(maxSessions=2)
    _login(chat, AccountName(b"ann"))
    _login(chat, AccountName(b"ann"))
    with pytest.raises(TooManySessions):
        _login(chat, AccountName(b"ann"))


def test_an_account_given_up_keeps_only_the_session_that_gave_it_up():
    chat = _chat()
    laptop = _login(chat, AccountName(b"ann"))
    phone = _login(chat, AccountName(b"ann"))
    chat.accountChanged(phone, None)
    assert laptop.mind.disconnected == [  # type: ignore[attr-defined]
        "The account was given up on another session"
    ]
    assert phone.mind.disconnected == []  # type: ignore[attr-defined]
    assert phone.account is None and laptop.account is None
