"""
Give the memory a burst freed back to the operating system.

A burst (a login storm, a flood of broadcasts to slow readers) makes the
heap grow; once it is over Python frees the objects, but glibc keeps the
freed pages, so the server's resident memory stays at the burst's peak.
Four times a second the L{MemoryTrimmer} looks at the resident size, and
when it has grown by more than L{MemoryTrimmer.growth} since it last looked
after a trim, it asks glibc to hand the free pages back (C{malloc_trim}).
Where there is no glibc it does nothing.

A trim is cheap: about 1.3 ms to give back 10 MB from a heap of 10,000
connections, 0.04 ms when there is nothing to give back (C{bench/NOTES.md}),
so it can look often and give back small amounts: at 10,000 idle users a
megabyte is a tenth of a kilobyte per user.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall

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


def resident_bytes() -> int:
    """
    @return: This process's resident memory in bytes, or 0 where
        C{/proc/self/statm} cannot be read.
    """
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class MemoryTrimmer:
    """
    Trims the heap after the resident size grew by L{growth} bytes.

    @param trim: C{malloc_trim}, or L{None} to do nothing.
    @param measure: Returns the resident size in bytes.
    """

    growth = 1024 * 1024
    interval = 0.25

    def __init__(
        self,
        clock: IReactorTime,
        trim: Trim | None,
        measure: Callable[[], int] = resident_bytes,
    ) -> None:
        self._trim = trim
        self._measure = measure
        self._baseline = measure()
        self._loop = LoopingCall(self.check)
        self._loop.clock = clock
        self.trims = 0

    def start(self) -> None:
        """
        Look every L{interval} seconds, if there is anything to trim with.
        """
        if self._trim is not None and not self._loop.running:
            self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def check(self) -> None:
        """
        Trim if the resident size grew by L{growth} since the last trim.
        """
        if self._trim is None:
            return
        resident = self._measure()
        if resident - self._baseline < self.growth:
            # Shrinking (or steady) lowers the mark, so the next burst counts
            # from where memory really is.
            self._baseline = min(self._baseline, resident)
            return
        self._trim(0)
        self.trims += 1
        self._baseline = self._measure()
