"""
The hashed password file and its checker.
"""

import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer

from chatserver.auth.passwords import (
    PasswordFile,
    PasswordFileChecker,
    PasswordFileCheckerFactory,
    PasswordFileError,
    hash_password,
    verify_password,
)
from chatserver.ops.reload import IReloadable
from tests.ops import capture_log

CHEAP = 2**4  # scrypt cost for tests; the real default is 2**14


def run_now(f, *args):
    return defer.maybeDeferred(f, *args)


def test_a_hash_verifies_its_password_only():
    hashed = hash_password("correct horse", cost=CHEAP)
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsE", hashed)


def test_hashes_are_salted():
    assert hash_password("same", cost=CHEAP) != hash_password("same", cost=CHEAP)


def test_the_default_cost_is_scrypt_n_16384():
    assert hash_password("x").startswith("$scrypt$n=16384,r=8,p=1$")


@given(st.text(max_size=40))
@settings(max_examples=30)
def test_malformed_hashes_match_nothing(text):
    assert not verify_password("password", text)


@given(
    st.text(min_size=1, max_size=30).filter(lambda p: "\n" not in p and "\r" not in p)
)
@settings(max_examples=20, deadline=None)
def test_any_password_round_trips(password):
    assert verify_password(password, hash_password(password, cost=CHEAP))


def test_file_is_created_owner_only_without_plain_passwords(tmp_path):
    path = tmp_path / "users"
    PasswordFile(path).add("alice", "s3cret", cost=CHEAP)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("alice:$scrypt$")
    assert "s3cret" not in text


def test_lookup_ignores_case(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    passwords.add("Alice", "pw", cost=CHEAP)
    account = passwords.lookup("ALICE")
    assert account is not None and account.name == "Alice"


def test_add_refuses_an_existing_account_in_any_case(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    passwords.add("alice", "pw", cost=CHEAP)
    with pytest.raises(PasswordFileError, match="already has an account"):
        passwords.add("ALICE", "pw2", cost=CHEAP)


def test_set_changes_the_password(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    passwords.add("alice", "old", cost=CHEAP)
    passwords.set("alice", "new", cost=CHEAP)
    account = PasswordFile(tmp_path / "users").lookup("alice")
    assert account is not None
    assert verify_password("new", account.hashed)
    assert not verify_password("old", account.hashed)


def test_set_and_remove_refuse_a_missing_account(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    with pytest.raises(PasswordFileError, match="has no account"):
        passwords.set("bob", "pw", cost=CHEAP)
    with pytest.raises(PasswordFileError, match="has no account"):
        passwords.remove("bob")


def test_remove_deletes_the_account(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    passwords.add("alice", "pw", cost=CHEAP)
    passwords.add("bob", "pw", cost=CHEAP)
    passwords.remove("alice")
    assert PasswordFile(tmp_path / "users").names() == ["bob"]


@pytest.mark.parametrize(
    ("name", "password", "why"),
    [
        ("bad name", "pw", "invalid name"),
        ("alice", "", "cannot be empty"),
        ("alice", "a\nb", "line break"),
    ],
)
def test_invalid_accounts_are_refused(tmp_path, name, password, why):
    with pytest.raises(PasswordFileError, match=why):
        PasswordFile(tmp_path / "users").add(name, password, cost=CHEAP)


def test_changes_by_another_process_are_seen(tmp_path):
    reader = PasswordFile(tmp_path / "users")
    assert reader.lookup("alice") is None
    PasswordFile(tmp_path / "users").add("alice", "pw", cost=CHEAP)
    assert reader.lookup("alice") is not None


def test_a_broken_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "users"
    path.write_text("# accounts\nalice:$scrypt$x\nnocolon\n")
    with pytest.raises(PasswordFileError, match=r"users:3: no ':'"):
        PasswordFile(path).names()


def checker_for(tmp_path):
    passwords = PasswordFile(tmp_path / "users")
    passwords.add("Alice", "s3cret", cost=CHEAP)
    return PasswordFileChecker(passwords, run=run_now)


def result_of(d):
    results: list[object] = []
    d.addBoth(results.append)
    return results[0]


def test_checker_accepts_the_right_password_with_the_stored_name(tmp_path):
    checker = checker_for(tmp_path)
    answer = result_of(checker.requestAvatarId(UsernamePassword(b"alice", b"s3cret")))
    assert answer == b"Alice"


@pytest.mark.parametrize(
    ("name", "password"), [(b"alice", b"wrong"), (b"nobody", b"s3cret")]
)
def test_checker_refuses_wrong_passwords_and_unknown_names_alike(
    tmp_path, name, password
):
    checker = checker_for(tmp_path)
    answer = result_of(checker.requestAvatarId(UsernamePassword(name, password)))
    assert answer.check(UnauthorizedLogin)


def test_checker_factory_needs_an_existing_file(tmp_path):
    factory = PasswordFileCheckerFactory()
    with pytest.raises(ValueError, match="no password file"):
        factory.generateChecker(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="needs a path"):
        factory.generateChecker("")


def test_a_running_server_keeps_the_accounts_of_a_file_turned_bad(tmp_path):
    path = tmp_path / "users"
    PasswordFile(path).add("alice", "s3cret", cost=CHEAP)
    served = PasswordFile(path, keepOnError=True)
    assert served.lookup("alice") is not None
    path.write_text("nocolon\n")
    assert served.lookup("alice") is not None


def test_a_running_server_logs_a_bad_file_once(tmp_path):
    path = tmp_path / "users"
    PasswordFile(path).add("alice", "s3cret", cost=CHEAP)
    served = PasswordFile(path, keepOnError=True)
    served.names()
    path.write_text("nocolon\n")
    with capture_log() as events:
        served.lookup("alice")
        served.lookup("alice")
    assert [event["chat_event"] for event in events] == ["reload-failed"]
    assert "users:1: no ':'" in events[0]["why"]


def test_reload_raises_for_a_bad_file_and_keeps_the_accounts(tmp_path):
    path = tmp_path / "users"
    PasswordFile(path).add("alice", "s3cret", cost=CHEAP)
    served = PasswordFile(path, keepOnError=True)
    served.names()
    path.write_text("nocolon\n")
    with pytest.raises(PasswordFileError):
        served.reload()
    assert served.names() == ["alice"]


def test_a_running_server_keeps_the_accounts_of_a_removed_file(tmp_path):
    path = tmp_path / "users"
    PasswordFile(path).add("alice", "s3cret", cost=CHEAP)
    served = PasswordFile(path, keepOnError=True)
    served.names()
    path.unlink()
    with pytest.raises(FileNotFoundError):
        served.reload()
    assert served.names() == ["alice"]


def test_the_checker_is_reloaded_by_name_of_its_file(tmp_path):
    checker = checker_for(tmp_path)
    assert IReloadable.providedBy(checker)
    assert isinstance(checker, PasswordFileChecker)
    assert checker.name == f"password file {tmp_path / 'users'}"
    PasswordFile(tmp_path / "users").set("alice", "new", cost=CHEAP)
    checker.reload()
    answer = result_of(checker.requestAvatarId(UsernamePassword(b"alice", b"new")))
    assert answer == b"Alice"
