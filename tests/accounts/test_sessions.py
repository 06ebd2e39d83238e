"""
A registered account (C{--accounts}) on several connections at once, at
every door: a second login with its password adds a session (up to
C{--max-sessions}), never refused as a name taken before its password is
asked; a guest's name in use is still refused.
"""

from __future__ import annotations

from chatserver.testing import ChatHarness, LineClient
from chatwire import lines
from tests.accounts.support import accounts_harness, register
from tests.accounts.test_irc import sasl_login


def _line_login(chat: ChatHarness, name: str, password: str) -> LineClient:
    client: LineClient = chat.connect()
    client.received()
    client.send(name)
    assert client.events() == [lines.Prompt("password", f"Password for {name}?")]
    client.send(password)
    assert client.events()[0] == lines.Welcome("chat", name)
    return client


def _sessions(chat: ChatHarness, name: str) -> int:
    user = chat.realm.get(name)
    assert user is not None
    return len(user.sessions)


def test_a_registered_account_logs_in_twice_on_the_line_door():
    chat = accounts_harness()
    register(chat, "ann", "s3cret")
    laptop = _line_login(chat, "ann", "s3cret")
    phone = _line_login(chat, "ann", "s3cret")
    assert _sessions(chat, "ann") == 2
    laptop.send("hello from the laptop")
    assert phone.events() == [lines.Message("ann", "hello from the laptop")]


def test_a_registered_accounts_second_session_is_refused_past_max_sessions():
    chat = accounts_harness(maxSessions=1)
    register(chat, "ann", "s3cret")
    _line_login(chat, "ann", "s3cret")
    client: LineClient = chat.connect()
    client.received()
    client.send("ann")
    client.received()
    client.send("s3cret")
    (refused, *_) = client.events()
    assert isinstance(refused, lines.Error)
    assert "1 sessions already" in refused.text
    assert not client.closing


def test_a_guests_name_in_use_is_refused_on_the_line_door():
    chat = accounts_harness()
    chat.login("bob")
    client: LineClient = chat.connect()
    client.received()
    client.send("bob")
    (refused, *_) = client.events()
    assert refused == lines.Error("the name bob is taken, choose another")


def test_an_online_registered_nick_goes_on_to_sasl_and_adds_a_session():
    chat = accounts_harness()
    register(chat, "ann", "s3cret")
    _line_login(chat, "ann", "s3cret")
    client = sasl_login(chat, "ann", "s3cret")
    commands = client.commands()
    assert "433" not in commands
    assert "903" in commands and "001" in commands
    assert _sessions(chat, "ann") == 2


def test_an_online_registered_nick_with_pass_adds_a_session():
    chat = accounts_harness()
    register(chat, "ann", "s3cret")
    _line_login(chat, "ann", "s3cret")
    client = chat.irc()
    client.send("PASS s3cret", "NICK ann", "USER a 0 * :A")
    assert "001" in client.commands()
    assert _sessions(chat, "ann") == 2


def test_an_online_guests_nick_is_refused_433_at_once():
    chat = accounts_harness()
    chat.login("bob")
    client = chat.irc()
    client.send("NICK bob")
    (refused,) = client.messages()
    assert refused.command == "433"


def test_a_registered_account_logs_in_twice_on_the_web_door():
    chat = accounts_harness()
    register(chat, "ann", "s3cret")
    _line_login(chat, "ann", "s3cret")
    page = chat.web()
    page.messages()
    page.send({"type": "login", "name": "ann", "password": "s3cret"})
    welcome = page.messages()[0]
    assert welcome["type"] == "welcome" and welcome["account"] == "ann"
    assert _sessions(chat, "ann") == 2
