"""
What the Tk client's GUI tests share: a real chat server on 127.0.0.1 in
the test's reactor (over TLS, with a certificate made for the test, and with
accounts, when the test case asks), raw TCP clients to play the other users,
and the real client window, installed into the reactor with tksupport and
destroyed after each test.
"""

from __future__ import annotations

import shutil
import tempfile
import tkinter as tk
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from keyring.backends import fail
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer, reactor, task, tksupport
from twisted.internet.endpoints import (
    TCP4ClientEndpoint,
    connectProtocol,
    serverFromString,
)
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from chatclient.app import ChatClient, Options
from chatclient.passwords import Keyring
from chatserver.config import ChatConfig
from chatserver.doors.line.factory import LineFactory, refusal
from chatserver.history.store import HistoryStore
from chatserver.server import ChatServer
from chatwire import lines
from tests.client.certs import SelfSigned

TIMEOUT = 15.0


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = TIMEOUT
) -> defer.Deferred[None]:
    """
    Let the reactor (and so Tk) run until C{condition()} is true.
    """

    clock: Any = reactor

    @defer.inlineCallbacks
    def poll() -> Generator[defer.Deferred[None], None, None]:
        deadline = clock.seconds() + timeout
        while not condition():
            if clock.seconds() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            yield task.deferLater(reactor, 0.01, lambda: None)

    return poll()


class OtherUser(LineReceiver):
    """
    Another user: a raw TCP client that keeps every server event.
    """

    delimiter = lines.LINE_END

    def __init__(self) -> None:
        self.events: list[lines.Event] = []
        self.closed: defer.Deferred[None] = defer.Deferred()
        self._prompts: dict[str, int] = {}

    def lineReceived(self, line: bytes) -> None:
        self.events.append(lines.parse(line))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.closed.callback(None)

    def prompted(self, field: str) -> defer.Deferred[None]:
        """
        Wait for a new prompt for C{field} (one not waited for before).
        """
        seen = self._prompts.get(field, 0)

        def count() -> int:
            return sum(
                1
                for e in self.events
                if isinstance(e, lines.Prompt) and e.field == field
            )

        def done(_: object) -> None:
            self._prompts[field] = seen + 1

        return wait_until(lambda: count() > seen, f"a {field} prompt").addCallback(done)

    def say(self, text: str) -> None:
        self.sendLine(text.encode("utf-8"))

    def received(self, event: lines.Event) -> defer.Deferred[None]:
        return wait_until(lambda: event in self.events, f"{event} in {self.events}")

    def received_text(self, text: str) -> defer.Deferred[None]:
        """
        Wait for a chat line (of anyone's) saying C{text}.
        """
        return wait_until(
            lambda: any(getattr(e, "text", None) == text for e in self.events),
            f"a line saying {text!r}",
        )


class ClientTestCase(TestCase):
    """
    Runs the real client window against a real server.
    """

    timeout = 120
    name = ""
    scrollback = 5000
    #: Whether setUp opens the client window (a test may open its own).
    withWindow = True
    #: Whether the client's TLS box starts ticked.
    tls = False
    #: The server's certificate for an ssl: listener (beside a tcp: one for
    #: the other users), or None for tcp: alone.
    serverCertificate: SelfSigned | None = None
    #: Check names and passwords (the server's --auth), or None.
    checkers: list[ICredentialsChecker] | None = None
    #: The client's --theme and --scale.
    theme = "light"
    scale: float | None = None
    #: Seconds the client waits before connecting again.
    retryDelay = 1.0
    #: A history store kept across restarts of the server, or None for a
    #: new one each time.
    history: HistoryStore | None = None
    #: Where the client keeps a password when asked: none usable (the
    #: keyring package's own fallback) unless the test case gives one, so
    #: that no test touches the keyring of whoever runs the tests.
    keyring: Keyring | None = None
    #: Whether the "Remember password" box starts ticked.
    keepPassword = False

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.others: list[OtherUser] = []
        self.listening: list[IListeningPort] = []
        self.port = 0
        self.plainPort = 0
        self.directory = Path(tempfile.mkdtemp(prefix="chat-client-test-"))
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.ca = ""
        if self.serverCertificate is not None:
            self.serverPem, cert = self.serverCertificate.write(
                self.directory, "server"
            )
            self.ca = str(cert)
        self.addCleanup(self.stopServer)
        yield self.startServer()
        if self.withWindow:
            yield self.openWindow()

    @defer.inlineCallbacks
    def openWindow(self) -> Generator[defer.Deferred[Any], Any, None]:
        self.root = tk.Tk()
        self.addCleanup(self.destroyWindow)
        options = Options(
            "127.0.0.1",
            self.port,
            self.name,
            self.scrollback,
            tls=self.tls,
            ca=self.ca,
            theme=self.theme,
            scale=self.scale,
            keepPassword=self.keepPassword,
        )
        keyring = self.keyring or Keyring(fail.Keyring())
        self.client = ChatClient(
            self.root,
            reactor,
            options,
            retryPolicy=lambda attempts: self.retryDelay,
            keyring=keyring,
        )
        self.window = self.client.window
        self.model = self.client.model
        self.session = self.client.session
        tksupport.install(self.root)
        self.addCleanup(self.client.close)
        yield wait_until(self.root.winfo_viewable, "the window on screen")
        self.client.start()

    def destroyWindow(self) -> None:
        if tksupport._task is not None:
            tksupport.uninstall()
        self.root.destroy()

    @defer.inlineCallbacks
    def startServer(
        self, config: ChatConfig | None = None
    ) -> Generator[defer.Deferred[Any], Any, None]:
        """
        Listen on 127.0.0.1 (on the same ports as before, after the first
        time): C{self.port} for the client under test (over TLS with a
        C{serverCertificate}), C{self.plainPort} for the other users.
        """
        self.server = ChatServer(
            config or ChatConfig(rate=0, loginTimeout=0),
            checkers=self.checkers,
            history=self.history,
        )
        self.factory = LineFactory(self.server)
        interface = "interface=127.0.0.1"
        if self.serverCertificate is None:
            descriptions = [f"tcp:{self.port}:{interface}"]
        else:
            descriptions = [
                f"ssl:{self.port}:{interface}:privateKey={self.serverPem}",
                f"tcp:{self.plainPort}:{interface}",
            ]
        ports = []
        for description in descriptions:
            listening = yield serverFromString(reactor, description).listen(
                self.server.gate(self.factory, refusal)
            )
            self.listening.append(listening)
            ports.append(listening.getHost().port)
        self.port = ports[0]
        self.plainPort = ports[-1]

    @defer.inlineCallbacks
    def stopServer(self) -> Generator[defer.Deferred[Any], Any, None]:
        """
        Stop listening and close every connection, as a server going away.
        """
        if self.listening:
            listening, self.listening = self.listening, []
            for port in listening:
                yield defer.maybeDeferred(port.stopListening)
            yield self.server.stop()
        for other in self.others:
            yield other.closed

    @defer.inlineCallbacks
    def otherUser(
        self, name: str, password: str = ""
    ) -> Generator[defer.Deferred[Any], Any, OtherUser]:
        """
        Log another user in (over plain TCP), with C{password} if given.
        """
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.plainPort)
        other: OtherUser = yield connectProtocol(endpoint, OtherUser())
        self.others.append(other)
        yield other.prompted("name")
        other.say(name)
        if password:
            yield other.prompted("password")
            other.say(password)
        yield other.received(lines.Welcome("chat", name))
        return other

    # Driving the window

    def press(self, widget: tk.Misc, key: str) -> None:
        """
        Press C{key} in C{widget}, as the keyboard would.
        """
        if widget.focus_get() is not widget:
            widget.focus_force()
            widget.update()
        assert widget.focus_get() is widget
        widget.event_generate(key, when="now")

    def type(self, widget: tk.Entry, text: str, key: str = "<Return>") -> None:
        """
        Put C{text} in C{widget} and press C{key}.
        """
        widget.delete(0, "end")
        widget.insert(0, text)
        self.press(widget, key)

    def chatText(self) -> str:
        return self.window.visibleText()

    def statusText(self) -> str:
        return str(self.window.status.cget("text"))

    def userList(self) -> list[str]:
        return list(self.window.users.get(0, "end"))

    def loggedIn(self) -> defer.Deferred[None]:
        return wait_until(
            lambda: self.session.loggedIn and self.window.chat.winfo_ismapped(),
            "the chat view",
        )

    @defer.inlineCallbacks
    def login(self, name: str) -> Generator[defer.Deferred[Any], Any, None]:
        """
        Log in through the connect form.
        """
        self.type(self.window.formEntries["name"], name)
        yield self.loggedIn()
