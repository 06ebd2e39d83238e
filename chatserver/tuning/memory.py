"""
Give the memory a burst freed back to the operating system.

A burst (a login storm, a flood of broadcasts to slow readers) makes the
heap grow; once it is over Python frees the objects, but glibc keeps the
freed pages, so the server's resident memory stays at the burst's peak.
The L{MemoryTrimmer} asks glibc to hand free pages back (C{malloc_trim})
four times a second.  Where there is no glibc it does nothing.

It trims on a timer rather than when the resident size grows: memory is
freed without the resident size changing, often after the last growth (the
buffers of clients who lagged during a login storm drain after it).

A trim is cheap: about 1.3 ms to give back 10 MB from the heap of a server
with 10,000 connections, 0.04 ms when there is nothing to give back
(C{bench/NOTES.md}).  Should a heap ever make it slow, the trimmer waits
long enough after each trim to spend at most L{MemoryTrimmer.share} of the
time trimming.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable

from twisted.internet.interfaces import IDelayedCall, IReactorTime

Trim = Callable[[int], object]


def find_malloc_trim() -> Trim | None:
    """
    @return: glibc's C{malloc_trim}, or L{None} where there is none.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


class MemoryTrimmer:
    """
    Trims the heap every L{interval} seconds, or less often if trimming takes
    more than L{share} of the time.

    @param trim: C{malloc_trim}, or L{None} to do nothing.
    @param timer: Measures how long a trim takes, in seconds.
    @ivar trims: How many times it has trimmed.
    """

    interval = 0.25
    share = 0.01

    def __init__(
        self,
        clock: IReactorTime,
        trim: Trim | None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self._trim = trim
        self._timer = timer
        self._call: IDelayedCall | None = None
        self.trims = 0

    @property
    def running(self) -> bool:
        return self._call is not None

    def start(self) -> None:
        """
        Start trimming, if there is anything to trim with.
        """
        if self._trim is not None and self._call is None:
            self._call = self._clock.callLater(self.interval, self._check)

    def stop(self) -> None:
        if self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None

    def _check(self) -> None:
        assert self._trim is not None
        started = self._timer()
        self._trim(0)
        spent = self._timer() - started
        self.trims += 1
        self._call = self._clock.callLater(
            max(self.interval, spent / self.share), self._check
        )
