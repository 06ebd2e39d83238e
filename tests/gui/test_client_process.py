"""
The real program, C{python -m chatclient}, in its own process on the Xvfb
display: it connects at once when given a name, and says goodbye when it is
stopped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, error, protocol, reactor
from twisted.python.failure import Failure

from chatserver import lines
from tests.gui.client_support import ClientTestCase

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


class Watch(protocol.ProcessProtocol):
    def __init__(self) -> None:
        self.output = b""
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.reason: Failure | None = None

    def outReceived(self, data: bytes) -> None:
        self.output += data

    errReceived = outReceived

    def processEnded(self, reason: Failure) -> None:
        self.reason = reason
        self.ended.callback(None)


class ProgramTests(ClientTestCase):
    # The window of the test case stays on its form; the program under test
    # is the other process.

    @defer.inlineCallbacks
    def test_python_m_chatclient(self) -> Generator[defer.Deferred[Any], Any, None]:
        bob = yield self.otherUser("bob")
        watch = Watch()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        argv = [sys.executable, "-m", "chatclient", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--name", "carol"]
        process = reactor.spawnProcess(
            watch, sys.executable, argv, env=env, path=str(ROOT)
        )
        try:
            yield bob.received(lines.Joined("carol"))
            bob.say("hello carol")
        finally:
            if process.pid is not None:
                process.signalProcess("TERM")
        yield watch.ended
        yield bob.received(lines.Left("carol", "Quit"))
        assert watch.reason is not None
        assert watch.reason.check(error.ProcessDone), watch.output
        assert b"Traceback" not in watch.output, watch.output
