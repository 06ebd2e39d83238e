"""
What the history tests share: reading fired Deferreds, and a reactor and
thread pool that run an L{adbapi.ConnectionPool}'s work at once, in the
calling thread, so that tests of the SQLite store are deterministic while
using real SQLite files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure


def result(deferred: Deferred[Any]) -> Any:
    """
    @return: What an already fired Deferred gave (a L{Failure} if it
        failed).
    """
    got: list[object] = []
    deferred.addBoth(got.append)
    assert len(got) == 1, "the Deferred has not fired"
    return got[0]


class ThreadlessReactor:
    """
    What an L{adbapi.ConnectionPool} asks of its reactor, for a pool that
    never starts its own threads: the reactor never runs (so the pool never
    starts its thread pool), and results come back from "threads" at once.
    """

    def __init__(self) -> None:
        self.triggers: dict[int, Callable[[], object]] = {}

    def callWhenRunning(self, f: Callable[[], object]) -> int:
        key = len(self.triggers) + 1
        self.triggers[key] = f
        return key

    def addSystemEventTrigger(
        self, phase: str, event: str, f: Callable[[], object]
    ) -> int:
        return self.callWhenRunning(f)

    def removeSystemEventTrigger(self, key: int) -> None:
        del self.triggers[key]

    def callFromThread(self, f: Callable[..., object], *args: Any, **kw: Any) -> None:
        f(*args, **kw)


class CallingThreadPool:
    """
    Stands for a pool's one thread: runs each piece of work in the calling
    thread, at once, or, while L{held}, when L{release} is called.

    @ivar held: Whether work waits for L{release}.
    """

    def __init__(self) -> None:
        self.held = False
        self.waiting: list[Callable[[], None]] = []
        self.stopped = False

    def callInThreadWithCallback(
        self,
        onResult: Callable[[bool, object], object],
        f: Callable[..., object],
        *args: Any,
        **kw: Any,
    ) -> None:
        def work() -> None:
            try:
                value = f(*args, **kw)
            except BaseException:
                onResult(False, Failure())
            else:
                onResult(True, value)

        if self.held:
            self.waiting.append(work)
        else:
            work()

    def release(self) -> None:
        """
        Run the work that waited, in order, and stop holding work back.
        """
        self.held = False
        waiting, self.waiting = self.waiting, []
        for work in waiting:
            work()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True
