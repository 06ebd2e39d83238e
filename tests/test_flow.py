"""
The token bucket and the send-queue guard.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.limits.flow import SendQueueGuard, TokenBucket


def test_bucket_allows_a_burst_then_waits_for_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=3, clock=clock)
    fullAt = 0.0
    for _ in range(3):
        assert bucket.delay(fullAt) == 0
        fullAt = bucket.take(fullAt)
    assert bucket.delay(fullAt) == 0.2


def test_bucket_refills_over_time_up_to_the_burst():
    clock = Clock()
    bucket = TokenBucket(rate=2, burst=2, clock=clock)
    fullAt = bucket.take(bucket.take(0.0))
    clock.advance(0.5)
    assert bucket.delay(fullAt) == 0
    clock.advance(100)
    fullAt = bucket.take(bucket.take(fullAt))
    assert bucket.delay(fullAt) > 0


def test_a_bucket_never_goes_below_empty():
    clock = Clock()
    bucket = TokenBucket(rate=1, burst=2, clock=clock)
    fullAt = 0.0
    for _ in range(50):
        fullAt = bucket.take(fullAt)
    assert bucket.delay(fullAt) == 1.0
    clock.advance(1.0)
    assert bucket.delay(fullAt) == 0


def test_rate_zero_never_waits():
    bucket = TokenBucket(rate=0, burst=1, clock=Clock())
    fullAt = 0.0
    for _ in range(1000):
        fullAt = bucket.take(fullAt)
    assert bucket.delay(fullAt) == 0


@given(
    rate=st.sampled_from([0.5, 1.0, 2.0, 5.0, 20.0]),
    burst=st.integers(1, 20),
    steps=st.lists(
        st.one_of(st.just("take"), st.floats(0.0, 5.0, allow_nan=False)),
        max_size=60,
    ),
)
def test_bucket_waits_exactly_as_long_as_a_counted_token_bucket(rate, burst, steps):
    """
    One float per client behaves as a bucket that counts its tokens: the same
    delay after any mix of lines and passing time.
    """
    clock = Clock()
    bucket = TokenBucket(rate=rate, burst=burst, clock=clock)
    fullAt = 0.0
    tokens = float(burst)
    for step in steps:
        if step == "take":
            fullAt = bucket.take(fullAt)
            tokens = max(0.0, tokens - 1.0)
        else:
            clock.advance(step)
            tokens = min(float(burst), tokens + step * rate)
        expected = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
        assert abs(bucket.delay(fullAt) - expected) < 1e-6


class Owner:
    """
    Counts the times its guard says it overflowed.
    """

    def __init__(self) -> None:
        self.overflows = 0

    def sendQueueExceeded(self) -> None:
        self.overflows += 1


def test_guard_ignores_writes_while_the_transport_drains():
    owner = Owner()
    guard = SendQueueGuard(100, owner)
    guard.wrote(10_000)
    assert owner.overflows == 0


def test_guard_overflows_once_when_writes_pile_up_while_paused():
    owner = Owner()
    guard = SendQueueGuard(100, owner)
    guard.pauseProducing()
    guard.wrote(60)
    guard.wrote(40)
    assert owner.overflows == 0
    guard.wrote(1)
    guard.wrote(500)
    assert owner.overflows == 1
    assert guard.overflowed


def test_guard_forgets_the_pile_when_the_transport_resumes():
    owner = Owner()
    guard = SendQueueGuard(100, owner)
    guard.pauseProducing()
    guard.wrote(90)
    guard.resumeProducing()
    guard.pauseProducing()
    guard.wrote(90)
    assert owner.overflows == 0


def test_guard_is_quiet_after_the_transport_stopped():
    owner = Owner()
    guard = SendQueueGuard(1, owner)
    guard.pauseProducing()
    guard.stopProducing()
    guard.wrote(100)
    assert owner.overflows == 0
