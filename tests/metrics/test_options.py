"""
C{--metrics} and C{--log-format} on the command line.
"""

from __future__ import annotations

import pytest
from twisted.python.usage import UsageError

from chatserver import tap
from chatserver.metrics import jsonlog


def test_metrics_takes_a_server_endpoint() -> None:
    options = tap.Options()
    with pytest.raises(UsageError, match="--metrics 'nonsense:1' is not a server"):
        options.parseOptions(["--metrics", "nonsense:1"])


def test_log_format_is_text_or_json() -> None:
    options = tap.Options()
    with pytest.raises(UsageError, match="--log-format: text or json"):
        options.parseOptions(["--log-format", "xml"])


def test_log_format_json_names_our_observer_to_twistd() -> None:
    parent = {"logger": None, "logfile": "chat.log", "nodaemon": True}
    options = tap.Options()
    options.parent = parent  # type: ignore[assignment]
    options.parseOptions(["--log-format", "json"])
    assert parent["logger"] == jsonlog.JSON_LOGGER


def test_a_logger_given_to_twistd_wins_over_log_format_json() -> None:
    parent = {"logger": "my.observer", "logfile": "chat.log", "nodaemon": True}
    options = tap.Options()
    options.parent = parent  # type: ignore[assignment]
    options.parseOptions(["--log-format", "json"])
    assert parent["logger"] == "my.observer"
