"""
Accounts through the line door, in raw line sessions: a guest's name, an
account's password at login, /register, /password, /unregister, and the
sign-up of a server that takes accounts only.
"""

from __future__ import annotations

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.limits.throttle import MAX_LOGIN_FAILURES
from chatserver.testing import ChatHarness
from chatwire import lines
from tests.accounts.support import account_of, accounts_harness, register


def test_a_name_that_is_no_account_logs_in_as_a_guest_without_password():
    chat = accounts_harness()
    client = chat.connect()
    client.received()
    client.send("bob")
    assert client.events()[0] == lines.Welcome("chat", "bob")
    assert account_of(chat, "bob") is None


def test_a_registered_name_asks_for_its_password():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.connect()
    client.received()
    client.send("alice")
    assert client.events() == [lines.Prompt("password", "Password for alice?")]
    client.send("s3cret")
    assert client.events()[0] == lines.Welcome("chat", "alice")
    assert account_of(chat, "alice") == "alice"


def test_a_wrong_password_is_answered_after_the_throttle_delay():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.connect()
    client.received()
    client.send("alice")
    client.received()
    client.send("guess")
    assert client.received() == []
    chat.clock.advance(0.25)
    assert client.events() == [
        lines.Error("wrong name or password"),
        lines.Prompt("name", "What's your name?"),
    ]


def test_three_wrong_passwords_close_the_connection():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.connect()
    client.received()
    for _ in range(MAX_LOGIN_FAILURES):
        client.send("alice")
        client.send("guess")
        chat.clock.advance(5)
    assert lines.Error("wrong name or password; too many failures, goodbye") in (
        client.events()
    )
    assert client.closing


def test_register_makes_the_guests_name_an_account():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/register s3cret")
    assert bob.events() == [
        lines.Info(
            "the account bob is registered: log in with its password from now on"
        )
    ]
    assert account_of(chat, "bob") == "bob"
    bob.lose()
    again = chat.connect()
    again.received()
    again.send("bob")
    assert again.events() == [lines.Prompt("password", "Password for bob?")]


def test_register_alone_asks_for_the_password_with_its_echo_hidden():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/register")
    assert bob.events() == [lines.Prompt("password", "Choose a password for bob:")]
    bob.send("s3cret")
    assert "registered" in bob.received()[0]


def test_register_twice_is_refused():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/register s3cret")
    bob.received()
    bob.send("/register again1")
    assert bob.events() == [lines.Error("bob is your account already")]


def test_a_guest_cannot_take_a_registered_name_with_nick():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    bob = chat.login("bob")
    bob.send("/nick alice")
    assert bob.events() == [lines.Error("the name alice is taken, choose another")]


def test_password_changes_the_accounts_password():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/register s3cret")
    bob.received()
    bob.send("/password s3cret n3wer")
    assert bob.events() == [lines.Info("your password is changed")]
    bob.send("/password s3cret other")
    assert bob.events() == [lines.Error("wrong password")]


def test_password_of_a_guest_is_refused():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/password a b")
    assert bob.events() == [
        lines.Error("you are not logged in to an account: /register first")
    ]


def test_unregister_gives_the_name_back():
    chat = accounts_harness()
    bob = chat.login("bob")
    bob.send("/register s3cret")
    bob.received()
    bob.send("/unregister s3cret")
    assert bob.events() == [lines.Info("the account bob is gone: you are a guest now")]
    assert account_of(chat, "bob") is None
    bob.lose()
    chat.login("bob")


def test_require_account_signs_a_new_name_up():
    chat = accounts_harness(requireAccount=True)
    client = chat.connect()
    client.received()
    client.send("carol")
    assert client.events() == [
        lines.Prompt(
            "password", "No account is called carol: choose a password to register it"
        )
    ]
    client.send("s3cret")
    events = client.events()
    assert events[0] == lines.Info("the account carol is registered")
    assert events[1] == lines.Welcome("chat", "carol")


def test_require_account_with_registration_closed_refuses_guests():
    chat = accounts_harness(requireAccount=True, registration=False)
    client = chat.connect()
    client.received()
    client.send("carol")
    assert client.events() == [
        lines.Error(
            "this server takes accounts only: log in with a password, or register"
            " (registration is closed)"
        )
    ]


def test_register_with_registration_closed_is_refused():
    chat = accounts_harness(registration=False)
    bob = chat.login("bob")
    bob.send("/register s3cret")
    assert bob.events() == [lines.Error("registration is closed on this server")]


def test_register_without_accounts_is_refused():
    chat = ChatHarness(rate=0)
    bob = chat.login("bob")
    bob.send("/register s3cret")
    assert bob.events() == [
        lines.Error("this server has no registration (no --accounts)")
    ]


def operator_harness() -> ChatHarness:
    operator = InMemoryUsernamePasswordDatabaseDontUse(root=b"t0psecret")
    return accounts_harness(checkers=[operator])


def test_an_auth_account_beside_registered_ones_logs_in_with_its_password():
    chat = operator_harness()
    client = chat.connect()
    client.received()
    client.send("root")
    assert client.events() == [lines.Prompt("password", "Password for root?")]
    client.send("t0psecret")
    assert client.events()[0] == lines.Welcome("chat", "root")
    assert account_of(chat, "root") == "root"


def test_an_auth_account_cannot_be_changed_or_given_up_from_the_chat():
    chat = operator_harness()
    client = chat.connect()
    client.received()
    client.send("root")
    client.send("t0psecret")
    client.received()
    client.send("/password t0psecret other1")
    assert client.events() == [
        lines.Error("the account root is kept by the operator: ask them")
    ]
    client.send("/unregister t0psecret")
    assert client.events() == [
        lines.Error("the account root is kept by the operator: ask them")
    ]


def test_a_guest_still_logs_in_beside_auth_accounts():
    chat = operator_harness()
    chat.login("bob")


def test_registrations_from_one_address_are_throttled_but_loopback_is_exempt():
    chat = accounts_harness()
    for n in range(4):
        client = chat.connect("192.0.2.9")
        client.received()
        client.send(f"user{n}")
        client.received()
        client.send("/register s3cret")
        answer = client.received()
        if n < 3:
            assert answer[0].startswith(f"-!- the account user{n} is registered")
        else:
            assert answer == [
                "!!! too many accounts registered from your address, try again later"
            ]
    local = chat.login("local")
    local.send("/register s3cret")
    assert local.received()[0].startswith("-!- the account local is registered")


def test_an_accounts_login_counts_no_refused_login():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.connect()
    client.received()
    client.send("alice")
    client.send("s3cret")
    assert client.events()[1] == lines.Welcome("chat", "alice")
    assert chat.server.counts.refusedLogins == {}
