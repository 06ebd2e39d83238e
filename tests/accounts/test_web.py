"""
Accounts through the web door's messages: the hello that says what the
page may offer, signup, a login that needs an account's password, and
register, password and unregister.
"""

from __future__ import annotations

from typing import Any

from chatserver.testing import ChatHarness, WebClient
from tests.accounts.support import account_of, accounts_harness, register


def hello(client: WebClient) -> dict[str, Any]:
    (first,) = [m for m in client.messages() if m["type"] == "hello"]
    return first


def logged_in(chat: ChatHarness, name: str) -> WebClient:
    client = chat.web()
    client.messages()
    client.send({"type": "login", "name": name})
    assert client.messages()[0]["type"] == "welcome"
    return client


def test_hello_says_whether_the_page_may_sign_up():
    assert hello(accounts_harness().web())["accounts"] == {
        "registration": True,
        "required": False,
    }
    assert hello(ChatHarness().web())["accounts"] is None


def test_signup_registers_the_name_and_logs_in_to_it():
    chat = accounts_harness()
    client = chat.web()
    client.messages()
    client.send({"type": "signup", "name": "wes", "password": "s3cret"})
    welcome = client.messages()[0]
    assert welcome["type"] == "welcome" and welcome["account"] == "wes"
    assert account_of(chat, "wes") == "wes"


def test_signup_of_a_registered_name_is_refused():
    chat = accounts_harness()
    register(chat, "wes", "s3cret")
    client = chat.web()
    client.messages()
    client.send({"type": "signup", "name": "wes", "password": "other1"})
    assert client.messages() == [
        {"type": "error", "message": "wes is registered already", "about": "signup"}
    ]


def test_a_login_of_an_accounts_name_without_password_asks_for_it():
    chat = accounts_harness()
    register(chat, "wes", "s3cret")
    client = chat.web()
    client.messages()
    client.send({"type": "login", "name": "wes"})
    (asked,) = client.messages()
    assert asked["type"] == "password" and asked["name"] == "wes"
    client.send({"type": "login", "name": "wes", "password": "s3cret"})
    welcome = client.messages()[0]
    assert welcome["type"] == "welcome" and welcome["account"] == "wes"


def test_a_guest_logs_in_without_password_and_has_no_account():
    chat = accounts_harness()
    client = chat.web()
    client.messages()
    client.send({"type": "login", "name": "guest"})
    welcome = client.messages()[0]
    assert welcome["type"] == "welcome" and welcome["account"] is None


def test_register_makes_the_guest_an_account():
    chat = accounts_harness()
    client = logged_in(chat, "wes")
    client.send({"type": "register", "password": "s3cret"})
    messages = client.messages()
    assert {"type": "account", "name": "wes", "account": "wes"} in messages
    assert messages[-1] == {
        "type": "ok",
        "about": "register",
        "message": "wes is registered",
    }


def test_password_and_unregister():
    chat = accounts_harness()
    client = logged_in(chat, "wes")
    client.send({"type": "register", "password": "s3cret"})
    client.messages()
    client.send({"type": "password", "old": "guess", "new": "n3wer"})
    assert client.messages() == [
        {"type": "error", "message": "wrong password", "about": "password"}
    ]
    client.send({"type": "password", "old": "s3cret", "new": "n3wer"})
    assert client.messages()[-1]["about"] == "password"
    client.send({"type": "unregister", "password": "n3wer"})
    messages = client.messages()
    assert {"type": "account", "name": "wes", "account": ""} in messages
    assert messages[-1]["about"] == "unregister"
    assert account_of(chat, "wes") is None


def test_register_needs_a_password_field():
    chat = accounts_harness()
    client = logged_in(chat, "wes")
    client.send({"type": "register"})
    (error,) = client.messages()
    assert error["type"] == "error" and error["about"] == "register"
