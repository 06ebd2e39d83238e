"""
Giving memory back after a burst.
"""

from twisted.internet.task import Clock

from chatserver.memory import MemoryTrimmer, find_malloc_trim, resident_bytes

MB = 1024 * 1024


class FakeHeap:
    def __init__(self, resident: int) -> None:
        self.resident = resident
        self.free = 0
        self.trims = 0

    def measure(self) -> int:
        return self.resident

    def trim(self, pad: int) -> int:
        self.trims += 1
        self.resident -= self.free
        self.free = 0
        return 1


def trimmer(heap, clock=None):
    return MemoryTrimmer(clock or Clock(), heap.trim, heap.measure)


def test_a_burst_that_grew_the_heap_is_trimmed():
    heap = FakeHeap(50 * MB)
    watcher = trimmer(heap)
    heap.resident, heap.free = 200 * MB, 140 * MB
    watcher.check()
    assert heap.trims == 1
    assert heap.resident == 60 * MB


def test_small_growth_is_left_alone():
    heap = FakeHeap(50 * MB)
    watcher = trimmer(heap)
    heap.resident = 50 * MB + MemoryTrimmer.growth - 1
    watcher.check()
    assert heap.trims == 0


def test_live_memory_that_cannot_be_trimmed_is_not_trimmed_again():
    heap = FakeHeap(50 * MB)
    watcher = trimmer(heap)
    heap.resident = 100 * MB  # all of it in use
    watcher.check()
    watcher.check()
    assert heap.trims == 1


def test_growth_counts_from_the_lowest_size_seen():
    heap = FakeHeap(100 * MB)
    watcher = trimmer(heap)
    heap.resident = 40 * MB
    watcher.check()
    heap.resident = 40 * MB + MemoryTrimmer.growth
    watcher.check()
    assert heap.trims == 1


def test_it_looks_every_interval_once_started_and_not_after_stop():
    clock = Clock()
    heap = FakeHeap(50 * MB)
    watcher = trimmer(heap, clock)
    watcher.start()
    heap.resident = 100 * MB
    clock.advance(MemoryTrimmer.interval)
    assert heap.trims == 1
    watcher.stop()
    heap.resident = 500 * MB
    clock.advance(10)
    assert heap.trims == 1


def test_without_malloc_trim_it_does_nothing():
    clock = Clock()
    watcher = MemoryTrimmer(clock, None, lambda: 0)
    watcher.start()
    watcher.check()
    assert clock.getDelayedCalls() == []
    assert watcher.trims == 0


def test_this_machine_has_glibc_and_proc():
    # The tests run on Debian: the real functions are found and work.
    trim = find_malloc_trim()
    assert trim is not None
    trim(0)
    assert resident_bytes() > 10 * MB
