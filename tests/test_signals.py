"""
Stop signals are handed to the reactor loop instead of being handled inside
the signal handler (where Twisted's logging can deadlock).
"""

import signal

import pytest

from chatserver.tuning.signals import defer_stop_signals


class FakeReactor:
    def __init__(self):
        self.handled = []
        self.queued = []

    def sigTerm(self, number, frame=None):
        self.handled.append(("term", number))

    def sigInt(self, number, frame=None):
        self.handled.append(("int", number))

    def callFromThread(self, f, *args):
        self.queued.append((f, args))


@pytest.fixture
def restore_handlers():
    saved = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_the_reactors_handlers_only_queue_the_signal(restore_handlers):
    reactor = FakeReactor()
    signal.signal(signal.SIGTERM, reactor.sigTerm)
    signal.signal(signal.SIGINT, reactor.sigInt)
    defer_stop_signals(reactor)
    handOver = signal.getsignal(signal.SIGTERM)
    assert callable(handOver)
    handOver(signal.SIGTERM, None)
    assert reactor.handled == []
    [(handler, args)] = reactor.queued
    handler(*args)
    assert reactor.handled == [("term", signal.SIGTERM)]


def test_a_real_sigterm_reaches_the_reactors_handler_through_the_queue(
    restore_handlers,
):
    reactor = FakeReactor()
    signal.signal(signal.SIGTERM, reactor.sigTerm)
    defer_stop_signals(reactor)
    signal.raise_signal(signal.SIGTERM)
    assert reactor.handled == []
    for handler, args in reactor.queued:
        handler(*args)
    assert reactor.handled == [("term", signal.SIGTERM)]


def test_handlers_that_are_not_the_reactors_are_left_alone(restore_handlers):
    def mine(number, frame):
        pass

    signal.signal(signal.SIGTERM, mine)
    defer_stop_signals(FakeReactor())
    assert signal.getsignal(signal.SIGTERM) is mine
