"""
Every test keeps the desktop client's settings in a folder of its own, never
in the user's ~/.config; a test may read the errors logged while it ran.
Hypothesis sets no time limit on an example (the machines that run the tests
are shared, so how long one takes says nothing about the code) and draws the
same examples on every run, so that a run here and one in CI test the same
things; the examples a test must always try are written with C{@example}.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from twisted.logger import LogEvent, globalLogPublisher

settings.register_profile("shared-machines", deadline=None, derandomize=True)
settings.load_profile("shared-machines")


@pytest.fixture(autouse=True)
def _client_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def errors() -> Iterator[list[LogEvent]]:
    """
    The errors (C{chat_event="error"}) and tracebacks logged during the test.
    """
    logged: list[LogEvent] = []

    def observe(event: LogEvent) -> None:
        if event.get("chat_event") == "error" or "log_failure" in event:
            logged.append(event)

    globalLogPublisher.addObserver(observe)  # type: ignore[arg-type]
    yield logged
    globalLogPublisher.removeObserver(observe)  # type: ignore[arg-type]
