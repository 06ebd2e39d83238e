"""
C{--oper CHECKER} and C{--operator ACCOUNT}, read without running twistd.
"""

import pytest
from twisted.python.usage import UsageError

from chatserver import tap

PORT = ["--port", "tcp:0:interface=127.0.0.1"]


def test_oper_takes_checkers_as_auth_does_and_the_server_asks_them():
    options = tap.Options()
    options.parseOptions(
        [*PORT, "--oper", "memory:root:secret", "--oper", "memory:admin:pw"]
    )
    service = tap.makeService(options)
    assert len(service.server.realm.moderation.operCheckers) == 2


def test_a_bad_oper_checker_is_refused_in_one_line():
    options = tap.Options()
    with pytest.raises(UsageError, match=r"^--oper: ") as caught:
        options.parseOptions([*PORT, "--oper", "nonsense:x"])
    assert "\n" not in str(caught.value)


def test_operator_names_accounts_that_are_server_operators():
    options = tap.Options()
    options.parseOptions([*PORT, "--auth", "memory:Alice:pw", "--operator", "Alice"])
    service = tap.makeService(options)
    assert service.server.realm.moderation.operatorAccounts == frozenset({"alice"})


def test_operator_needs_auth():
    options = tap.Options()
    with pytest.raises(UsageError, match="--operator names an account"):
        options.parseOptions([*PORT, "--operator", "alice"])


def test_operator_must_be_a_valid_name():
    options = tap.Options()
    with pytest.raises(UsageError, match=r"^--operator: invalid name"):
        options.parseOptions([*PORT, "--auth", "memory:a:b", "--operator", "a b"])
