"""
Giving memory back after a burst.
"""

from twisted.internet.task import Clock

from chatserver.tuning.memory import MemoryTrimmer, find_malloc_trim


class FakeHeap:
    """
    Counts trims; each takes C{cost} seconds of the fake timer.
    """

    def __init__(self, cost: float = 0.0) -> None:
        self.cost = cost
        self.now = 0.0
        self.trims = 0

    def timer(self) -> float:
        return self.now

    def trim(self, pad: int) -> int:
        self.trims += 1
        self.now += self.cost
        return 1


def test_it_trims_every_interval_once_started():
    clock, heap = Clock(), FakeHeap()
    trimmer = MemoryTrimmer(clock, heap.trim, heap.timer)
    trimmer.start()
    assert heap.trims == 0
    clock.advance(MemoryTrimmer.interval)
    assert heap.trims == 1
    for _ in range(3):
        clock.advance(MemoryTrimmer.interval)
    assert heap.trims == trimmer.trims == 4


def test_it_stops_trimming_when_stopped():
    clock, heap = Clock(), FakeHeap()
    trimmer = MemoryTrimmer(clock, heap.trim, heap.timer)
    trimmer.start()
    clock.advance(MemoryTrimmer.interval)
    trimmer.stop()
    clock.advance(100)
    assert heap.trims == 1
    assert not trimmer.running
    assert clock.getDelayedCalls() == []


def test_starting_twice_trims_once_per_interval():
    clock, heap = Clock(), FakeHeap()
    trimmer = MemoryTrimmer(clock, heap.trim, heap.timer)
    trimmer.start()
    trimmer.start()
    clock.advance(MemoryTrimmer.interval)
    assert heap.trims == 1


def test_slow_trims_are_spaced_out_to_their_share_of_the_time():
    clock, heap = Clock(), FakeHeap(cost=0.05)  # 50 ms a trim
    trimmer = MemoryTrimmer(clock, heap.trim, heap.timer)
    trimmer.start()
    clock.advance(MemoryTrimmer.interval)
    assert heap.trims == 1
    wait = 0.05 / MemoryTrimmer.share  # 5 s: 1 % of the time
    clock.advance(wait - 0.01)
    assert heap.trims == 1
    clock.advance(0.01)
    assert heap.trims == 2


def test_without_malloc_trim_it_does_nothing():
    clock = Clock()
    trimmer = MemoryTrimmer(clock, None)
    trimmer.start()
    assert clock.getDelayedCalls() == []
    assert trimmer.trims == 0


def test_this_machine_has_glibc():
    # The tests run on Debian: the real function is found and works.
    trim = find_malloc_trim()
    assert trim is not None
    trim(0)
