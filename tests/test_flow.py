"""
The token bucket and the send-queue guard.
"""

from twisted.internet.task import Clock

from chatserver.flow import SendQueueGuard, TokenBucket


def test_bucket_allows_a_burst_then_waits_for_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == 0.2


def test_bucket_refills_over_time_up_to_the_burst():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=2, clock=clock)
    bucket.take()
    bucket.take()
    clock.advance(0.5)
    assert bucket.delay() == 0
    clock.advance(100)
    bucket.take()
    bucket.take()
    assert bucket.delay() > 0


def test_rate_zero_never_waits():
    bucket = TokenBucket(rate=0, burst=1, clock=Clock())
    for _ in range(1000):
        bucket.take()
    assert bucket.delay() == 0


def test_guard_ignores_writes_while_the_transport_drains():
    overflows = []
    guard = SendQueueGuard(100, lambda: overflows.append(1))
    guard.wrote(10_000)
    assert overflows == []


def test_guard_overflows_once_when_writes_pile_up_while_paused():
    overflows = []
    guard = SendQueueGuard(100, lambda: overflows.append(1))
    guard.pauseProducing()
    guard.wrote(60)
    guard.wrote(40)
    assert overflows == []
    guard.wrote(1)
    guard.wrote(500)
    assert overflows == [1]
    assert guard.overflowed


def test_guard_forgets_the_pile_when_the_transport_resumes():
    overflows = []
    guard = SendQueueGuard(100, lambda: overflows.append(1))
    guard.pauseProducing()
    guard.wrote(90)
    guard.resumeProducing()
    guard.pauseProducing()
    guard.wrote(90)
    assert overflows == []


def test_guard_is_quiet_after_the_transport_stopped():
    overflows = []
    guard = SendQueueGuard(1, lambda: overflows.append(1))
    guard.pauseProducing()
    guard.stopProducing()
    guard.wrote(100)
    assert overflows == []
