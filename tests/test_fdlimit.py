"""
The server raises its soft limit on open files to the hard limit at start.
"""

import resource

import pytest

from chatserver.tuning.fdlimit import raise_open_files_limit


class FakeLimits:
    """
    C{getrlimit} and C{setrlimit} over one remembered C{RLIMIT_NOFILE}.
    """

    def __init__(self, soft: int, hard: int, refuse: type[Exception] | None = None):
        self.limits = (soft, hard)
        self.refuse = refuse
        self.calls: list[tuple[int, int]] = []

    def getrlimit(self, which: int) -> tuple[int, int]:
        assert which == resource.RLIMIT_NOFILE
        return self.limits

    def setrlimit(self, which: int, limits: tuple[int, int]) -> None:
        assert which == resource.RLIMIT_NOFILE
        self.calls.append(limits)
        if self.refuse is not None:
            raise self.refuse("not allowed")
        self.limits = limits


def test_soft_limit_raised_to_hard():
    fake = FakeLimits(1024, 20000)
    assert raise_open_files_limit(fake.getrlimit, fake.setrlimit) == (20000, 20000)
    assert fake.calls == [(20000, 20000)]


def test_nothing_to_do_when_already_at_hard():
    fake = FakeLimits(20000, 20000)
    assert raise_open_files_limit(fake.getrlimit, fake.setrlimit) == (20000, 20000)
    assert fake.calls == []


def test_unlimited_hard_limit_left_alone():
    fake = FakeLimits(1024, resource.RLIM_INFINITY)
    assert raise_open_files_limit(fake.getrlimit, fake.setrlimit) == (
        1024,
        resource.RLIM_INFINITY,
    )
    assert fake.calls == []


@pytest.mark.parametrize("error", [ValueError, OSError])
def test_refusal_keeps_the_soft_limit(error):
    fake = FakeLimits(1024, 20000, refuse=error)
    assert raise_open_files_limit(fake.getrlimit, fake.setrlimit) == (1024, 20000)


def test_real_limits_soft_reaches_hard():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 256), hard))
        got = raise_open_files_limit()
        assert got == resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY:
            assert got == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
