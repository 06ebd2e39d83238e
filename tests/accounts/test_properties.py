"""
Property tests of the text that crosses doors into accounts: any password
is either taken or refused with one clear error, through the rules and
through each door, and the connection is kept.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.accounts.registry import (
    MAX_PASSWORD_BYTES,
    MIN_PASSWORD_LENGTH,
    check_password,
)
from chatwire.errors import BadPassword
from tests.accounts.support import accounts_harness

passwords = st.text(max_size=400)
# What one IRC parameter (the last, after ':') or one line may hold.
line_texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"),
    min_size=1,
    max_size=300,
)


@given(passwords)
def test_a_password_is_taken_or_refused_with_bad_password(password: str):
    try:
        check_password(password)
    except BadPassword as e:
        assert "\n" not in e.reason
        return
    assert len(password) >= MIN_PASSWORD_LENGTH
    assert len(password.encode("utf-8")) <= MAX_PASSWORD_BYTES
    assert all(ord(c) >= 0x20 and ord(c) != 0x7F for c in password)


@settings(max_examples=50, deadline=None)
@given(line_texts)
def test_irc_register_answers_success_or_one_fail(password: str):
    chat = accounts_harness()
    client = chat.ircLogin("bar")
    client.send(f"REGISTER * * :{password}")
    messages = client.messages()
    replies = [m for m in messages if m.command in ("REGISTER", "FAIL")]
    assert len(replies) == 1, messages
    if replies[0].command == "FAIL":
        assert replies[0].params[:1] == ("REGISTER",)
    else:
        assert replies[0].params[:2] == ("SUCCESS", "bar")
    client.send("PING x")
    assert client.commands() == ["PONG"]


@settings(max_examples=50, deadline=None)
@given(line_texts)
def test_web_register_answers_ok_or_one_error(password: str):
    chat = accounts_harness()
    client = chat.web()
    client.messages()
    client.send({"type": "login", "name": "wes"})
    client.messages()
    client.send({"type": "register", "password": password})
    answers = [m for m in client.messages() if m["type"] in ("ok", "error")]
    assert len(answers) == 1
    assert answers[0]["about"] == "register"


@settings(max_examples=50, deadline=None)
@given(line_texts.filter(lambda text: text.strip() == text))
def test_line_register_answers_one_line(password: str):
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send(f"/register {password}")
    (answer,) = bob.received()
    assert answer.startswith(("-!- the account bob is registered", "!!! "))
