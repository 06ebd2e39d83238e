"""
The real program, C{python -m chatclient}, in its own process on the Xvfb
display: it connects at once when given a name, and says goodbye when it is
stopped.
"""

from __future__ import annotations

import os
import sys
import tkinter as tk
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, error, protocol, reactor, tksupport
from twisted.python.failure import Failure

from chatclient.app import Options, prepare
from chatwire import lines
from tests.client.certs import self_signed
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
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            XDG_CONFIG_HOME=str(self.directory / "config"),
        )
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


class TLSProgramTests(ClientTestCase):
    serverCertificate = self_signed()

    @defer.inlineCallbacks
    def test_python_m_chatclient_over_tls(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        bob = yield self.otherUser("bob")
        watch = Watch()
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            XDG_CONFIG_HOME=str(self.directory / "config"),
        )
        argv = [sys.executable, "-m", "chatclient", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--name", "carol", "--ca", self.ca]
        process = reactor.spawnProcess(
            watch, sys.executable, argv, env=env, path=str(ROOT)
        )
        try:
            yield bob.received(lines.Joined("carol"))
        finally:
            if process.pid is not None:
                process.signalProcess("TERM")
        yield watch.ended
        yield bob.received(lines.Left("carol", "Quit"))
        assert b"Traceback" not in watch.output, watch.output


class StopRecorder:
    """
    The reactor, except that C{stop}, the system event triggers and
    C{callWhenRunning} are only recorded: the tests run in this reactor.
    """

    def __init__(self) -> None:
        self.stops = 0
        self.triggers: list[tuple[str, str, Callable[[], Any]]] = []
        self.whenRunning: list[Callable[[], Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(reactor, name)

    def stop(self) -> None:
        self.stops += 1

    def addSystemEventTrigger(
        self, phase: str, event: str, f: Callable[[], Any]
    ) -> None:
        self.triggers.append((phase, event, f))

    def callWhenRunning(self, f: Callable[[], Any]) -> None:
        self.whenRunning.append(f)


class CloseWindowTests(ClientTestCase):
    withWindow = False

    @defer.inlineCallbacks
    def test_closing_the_window_says_goodbye_and_stops(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        bob = yield self.otherUser("bob")
        recorder = StopRecorder()
        client = prepare(Options("127.0.0.1", self.port, "carol"), recorder)
        root = client.root

        def cleanUp() -> defer.Deferred[None]:
            # Only needed when the test fails half-way.
            if tksupport._task is not None:
                tksupport.uninstall()
                root.destroy()
            return client.close()

        self.addCleanup(cleanUp)
        for f in recorder.whenRunning:
            f()
        yield bob.received(lines.Joined("carol"))
        # The window manager's close button:
        root.tk.call(root.protocol("WM_DELETE_WINDOW"))
        assert recorder.stops == 1
        [(phase, event, goodbye)] = recorder.triggers
        assert (phase, event) == ("before", "shutdown")
        yield goodbye()
        yield bob.received(lines.Left("carol", "Quit"))
        assert tksupport._task is None
        with pytest.raises(tk.TclError):
            root.winfo_exists()
