"""
The accounts' rules, once, whatever the door: registering, checking,
changing and giving up an account, the operator's accounts beside them,
and the checker every door logs in through (task.Clock, no sockets).
"""

from __future__ import annotations

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.task import Clock

from chatserver.accounts.checker import AccountsChecker
from chatserver.accounts.memory import MemoryAccounts
from chatserver.accounts.registry import Accounts, check_password
from chatserver.auth.checkers import AccountName, ChosenName
from chatserver.limits.throttle import RegistrationRate
from chatwire.errors import (
    AccountExists,
    AccountReadOnly,
    AccountRequired,
    BadPassword,
    InvalidName,
    PasswordRequired,
    RegistrationClosed,
    RegistrationThrottled,
    WrongPassword,
)
from tests.accounts.support import CHEAP, at_once, result


def make_accounts(**kwargs: object) -> Accounts:
    clock = kwargs.pop("clock", None) or Clock()
    return Accounts(
        MemoryAccounts(),
        clock,  # type: ignore[arg-type]
        run=at_once,
        cost=CHEAP,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_registered_account_is_registered_in_any_case():
    accounts = make_accounts()
    assert result(accounts.register("Alice", "s3cret", "192.0.2.1")) == "Alice"
    assert result(accounts.isRegistered("aLiCe")) is True
    assert result(accounts.isRegistered("bob")) is False


def test_the_right_password_verifies_to_the_name_as_registered():
    accounts = make_accounts()
    result(accounts.register("Alice", "s3cret", "192.0.2.1"))
    assert result(accounts.verify("alice", "s3cret")) == "Alice"


def test_a_wrong_password_or_an_unknown_name_is_unauthorized():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    assert isinstance(result(accounts.verify("alice", "guess")), UnauthorizedLogin)
    assert isinstance(result(accounts.verify("nobody", "s3cret")), UnauthorizedLogin)


def test_a_name_is_registered_once():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    assert isinstance(
        result(accounts.register("ALICE", "other1", "192.0.2.2")), AccountExists
    )


def test_the_store_keeps_a_scrypt_hash_never_the_password():
    store = MemoryAccounts()
    accounts = Accounts(store, Clock(), run=at_once, cost=CHEAP)
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    kept = result(store.get("alice"))
    assert kept.hashed.startswith("$scrypt$")
    assert "s3cret" not in kept.hashed


def test_registration_closed_registers_nothing():
    accounts = make_accounts(registration=False)
    assert isinstance(
        result(accounts.register("alice", "s3cret", "192.0.2.1")), RegistrationClosed
    )


def test_an_invalid_name_is_not_registered():
    accounts = make_accounts()
    assert isinstance(
        result(accounts.register("no spaces", "s3cret", "192.0.2.1")), InvalidName
    )


def test_a_short_password_is_refused():
    accounts = make_accounts()
    refused = result(accounts.register("alice", "ab", "192.0.2.1"))
    assert isinstance(refused, BadPassword)


def test_a_password_with_a_control_character_is_refused():
    try:
        check_password("line\nbreak")
    except BadPassword as e:
        assert "control" in e.reason
    else:
        raise AssertionError("accepted")


def test_registrations_are_throttled_per_address():
    clock = Clock()
    rate = RegistrationRate(clock, lambda host: host)
    accounts = make_accounts(clock=clock, rate=rate)
    for n in range(RegistrationRate.count):
        result(accounts.register(f"user{n}", "s3cret", "192.0.2.1"))
    assert isinstance(
        result(accounts.register("more", "s3cret", "192.0.2.1")),
        RegistrationThrottled,
    )
    assert result(accounts.register("other", "s3cret", "192.0.2.2")) == "other"
    clock.advance(RegistrationRate.seconds)
    assert result(accounts.register("later", "s3cret", "192.0.2.1")) == "later"


def test_the_password_changes_with_the_old_one():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    assert result(accounts.changePassword("alice", "s3cret", "n3wer")) is None
    assert result(accounts.verify("alice", "n3wer")) == "alice"
    assert isinstance(result(accounts.verify("alice", "s3cret")), UnauthorizedLogin)


def test_the_password_does_not_change_with_a_wrong_old_one():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    assert isinstance(
        result(accounts.changePassword("alice", "guess", "n3wer")), WrongPassword
    )


def test_unregistering_frees_the_name():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    assert isinstance(result(accounts.unregister("alice", "guess")), WrongPassword)
    result(accounts.unregister("alice", "s3cret"))
    assert result(accounts.isRegistered("alice")) is False


def operators() -> InMemoryUsernamePasswordDatabaseDontUse:
    return InMemoryUsernamePasswordDatabaseDontUse(root=b"t0psecret")


def test_an_operator_account_logs_in_and_is_registered():
    accounts = make_accounts(operator=[operators()])
    assert result(accounts.isRegistered("root")) is True
    assert result(accounts.verify("root", "t0psecret")) == "root"
    assert isinstance(result(accounts.verify("root", "guess")), UnauthorizedLogin)


def test_an_operator_account_cannot_be_registered_changed_or_given_up():
    accounts = make_accounts(operator=[operators()])
    assert isinstance(
        result(accounts.register("root", "mine1", "192.0.2.1")), AccountExists
    )
    assert isinstance(
        result(accounts.changePassword("root", "t0psecret", "n3wer")),
        AccountReadOnly,
    )
    assert isinstance(result(accounts.unregister("root", "t0psecret")), AccountReadOnly)


def test_the_checker_lets_a_free_name_in_as_a_guest():
    checker = AccountsChecker(make_accounts())
    avatarId = result(checker.requestAvatarId(ChosenName("bob")))
    assert avatarId == b"bob"
    assert not isinstance(avatarId, AccountName)


def test_the_checker_asks_an_accounts_name_for_its_password():
    accounts = make_accounts()
    result(accounts.register("alice", "s3cret", "192.0.2.1"))
    checker = AccountsChecker(accounts)
    assert isinstance(
        result(checker.requestAvatarId(ChosenName("Alice"))), PasswordRequired
    )


def test_the_checker_refuses_guests_when_accounts_are_required():
    checker = AccountsChecker(make_accounts(required=True))
    assert isinstance(
        result(checker.requestAvatarId(ChosenName("bob"))), AccountRequired
    )


def test_the_checker_logs_an_account_in_by_its_name_as_registered():
    accounts = make_accounts()
    result(accounts.register("Alice", "s3cret", "192.0.2.1"))
    checker = AccountsChecker(accounts)
    avatarId = result(checker.requestAvatarId(UsernamePassword(b"alice", b"s3cret")))
    assert avatarId == b"Alice"
    assert isinstance(avatarId, AccountName)
