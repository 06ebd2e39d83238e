"""
What the history tests share: reading fired Deferreds, and a reactor and
thread pool that run an L{adbapi.ConnectionPool}'s work at once, in the
calling thread, so that tests of the SQLite store are deterministic while
using real SQLite files.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred


def result(deferred: Deferred[Any]) -> Any:
    """
    @return: What an already fired Deferred gave (a L{Failure} if it
        failed).
    """
    got: list[object] = []
    deferred.addBoth(got.append)
    assert len(got) == 1, "the Deferred has not fired"
    return got[0]
