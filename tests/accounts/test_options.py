"""
The options that turn accounts on, read without running twistd.
"""

from __future__ import annotations

import pytest
from twisted.python.usage import UsageError

from chatserver import tap


def parsed(*arguments: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(arguments))
    return options


def test_accounts_options_reach_the_settings():
    config = parsed(
        "--accounts", "sqlite:chat.db", "--registration", "closed", "--require-account"
    ).config()
    assert config.accounts == "sqlite:chat.db"
    assert config.registration is False
    assert config.requireAccount is True


def test_no_accounts_by_default():
    config = parsed().config()
    assert (config.accounts, config.registration, config.requireAccount) == (
        "",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("arguments", "why"),
    [
        (("--accounts", "mysql:x"), "--accounts: 'mysql:x': memory, sqlite:PATH"),
        (("--accounts", "sqlite:"), "--accounts: sqlite: needs a path"),
        (("--accounts", "redis"), "--accounts: redis is a cluster's store"),
        (("--registration", "maybe"), "--registration: open or closed"),
        (("--require-account",), "--require-account and --registration are for"),
        (("--registration", "closed"), "--require-account and --registration are"),
    ],
)
def test_wrong_accounts_options_are_one_usage_error(arguments, why):
    with pytest.raises(UsageError, match=why.replace("(", r"\(")):
        parsed(*arguments)


def test_a_cluster_keeps_its_accounts_in_redis_only():
    with pytest.raises(UsageError, match="a cluster keeps its accounts in Redis"):
        parsed("--cluster", "redis://127.0.0.1:1", "--accounts", "memory")
