"""
Tests of what an operator does to a running server (chatserver.ops).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from twisted.logger import LogEvent, globalLogPublisher


@contextmanager
def capture_log() -> Iterator[list[LogEvent]]:
    """
    @return: A context manager giving the chat's events (those with a
        C{chat_event}) logged within it.
    """
    events: list[LogEvent] = []

    def observe(event: LogEvent) -> None:
        if "chat_event" in event:
            events.append(event)

    globalLogPublisher.addObserver(observe)  # type: ignore[arg-type]
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(observe)  # type: ignore[arg-type]
