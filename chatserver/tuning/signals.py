"""
Stop signals handled in the reactor loop, not inside the signal handler.

Twisted's own SIGTERM and SIGINT handlers log "Received SIGTERM" from inside
the signal handler.  Log observers are guarded by Twisted's threadable lock,
a pure-Python RLock, and a signal that lands while the process is writing a
log line (a client leaving as the server is told to stop, say) re-enters it
and deadlocks: the server then never stops, and only SIGKILL ends it.  So
once the reactor runs, those handlers are replaced by ones that only hand the
signal over to the reactor loop, where Twisted's handler then runs as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

Handler = Callable[[int, FrameType | None], object]


def defer_stop_signals(reactor: Any) -> None:
    """
    Replace the reactor's own SIGTERM and SIGINT handlers, where they are
    installed, by handlers that run them from the reactor loop.

    @param reactor: A running reactor.
    """
    for number, handler in (
        (signal.SIGTERM, reactor.sigTerm),
        (signal.SIGINT, reactor.sigInt),
    ):
        if signal.getsignal(number) == handler:
            signal.signal(number, _in_reactor(reactor, handler))


def _in_reactor(reactor: Any, handler: Handler) -> Handler:
    def handOver(number: int, frame: FrameType | None) -> None:
        # Only a list append and a wake-up byte: safe wherever the signal
        # interrupted the main thread.
        reactor.callFromThread(handler, number, None)

    return handOver
