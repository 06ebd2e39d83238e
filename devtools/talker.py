"""
Scripted chat users for screenshots and benchmarks: they log in and say
what they are told, and ignore what they hear.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from twisted.internet import defer, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorTCP, IReactorTime
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure


class Talker(LineReceiver):
    """
    A chat user driven by a script.
    """

    delimiter = b"\r\n"

    def lineReceived(self, line: bytes) -> None:
        pass  # the window under test is what we look at

    def say(self, text: str) -> None:
        """
        Send one line (a name, a message or a command).
        """
        self.sendLine(text.encode("utf-8"))


def pause(reactor: IReactorTime, seconds: float = 0.1) -> defer.Deferred[None]:
    """
    @return: A L{Deferred} that fires after C{seconds}.
    """
    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def connect_talker(
    reactor: Any, port: int, name: str, settle: float = 0.1
) -> Generator[defer.Deferred[Any], Any, Talker]:
    """
    Connect a L{Talker} to the chat on 127.0.0.1:C{port} and log it in as
    C{name}.
    """
    tcp: IReactorTCP = reactor
    talker: Talker = yield connectProtocol(
        TCP4ClientEndpoint(tcp, "127.0.0.1", port), Talker()
    )
    talker.say(name)
    yield pause(reactor, settle)
    return talker


def run_scene(reactor: Any, scene: Callable[[], defer.Deferred[Any]]) -> None:
    """
    Run the reactor until C{scene}'s L{Deferred} fires; a failure is printed
    and makes the program exit with status 1.
    """
    failures: list[Failure] = []

    def failed(failure: Failure) -> None:
        failure.printTraceback()
        failures.append(failure)

    def run() -> None:
        scene().addErrback(failed).addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.run()
    if failures:
        raise SystemExit(1)
