"""
The Tk client against a server with accounts (the server's C{--auth}), for
real: the password field shows when the server asks, a wrong password is
said beside it and the right one works on the same connection, three
failures end the connection without the client trying again by itself, and
after a reconnection the client logs in again with the password it holds in
memory.  The password is never shown, logged or put in the chat view.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.cred.checkers import (
    ICredentialsChecker,
    InMemoryUsernamePasswordDatabaseDontUse,
)
from twisted.internet import defer
from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from zope.interface import implementer

from chatserver.config import ChatConfig
from chatwire import lines
from tests.client.certs import self_signed
from tests.gui.client_support import ClientTestCase, wait_until

pytestmark = pytest.mark.gui


def accounts() -> list[ICredentialsChecker]:
    return [InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret", bob=b"hunter2")]


class AccountTests(ClientTestCase):
    checkers = accounts()

    def passwordError(self) -> str:
        return str(self.window.formErrors["password"].cget("text"))

    @defer.inlineCallbacks
    def asked(self, name: str = "alice") -> Generator[defer.Deferred[Any], Any, None]:
        asked = f"the server asks for the password of {name}"
        yield wait_until(lambda: self.passwordError() == asked, "the password field")
        entry = self.window.formEntries["password"]
        assert self.window.passwordShown()
        assert str(entry.cget("show")) == "*"
        yield wait_until(lambda: self.root.focus_get() is entry, "its focus")

    @defer.inlineCallbacks
    def test_wrong_password_then_the_right_one(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        logged: list[str] = []

        @implementer(ILogObserver)
        def observe(event: dict[str, Any]) -> None:
            logged.append(str(formatEvent(event)) + repr(event))

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        window = self.window
        assert not window.passwordShown()  # until a server asks
        bob = yield self.otherUser("bob", "hunter2")
        self.type(window.formEntries["name"], "alice")
        yield self.asked()
        assert "asks for the password of alice" in self.statusText()
        protocol = self.session.connection.protocol
        self.type(window.formEntries["password"], "n0pe")
        wrong = "wrong name or password"
        yield wait_until(lambda: self.passwordError() == wrong, "the wrong password")
        assert window.passwordVar.get() == ""  # not kept
        assert self.statusText() == f"Cannot log in as alice: {wrong}."
        self.type(window.formEntries["password"], "s3cret")
        yield self.loggedIn()
        yield bob.received(lines.Joined("alice"))
        assert self.session.connection.protocol is protocol  # one connection
        # Nowhere to be seen: not in the form, the chat view, the status
        # line, the input history or any log event.
        assert window.passwordVar.get() == ""
        for secret in ("s3cret", "n0pe"):
            assert secret not in self.chatText()
            assert secret not in self.statusText()
            assert secret not in window.history.entries
            assert not any(secret in event for event in logged)
        assert "Password for" not in self.chatText()

    @defer.inlineCallbacks
    def test_an_account_online_elsewhere_logs_in_as_a_second_session(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.otherUser("bob", "hunter2")
        self.type(self.window.formEntries["name"], "bob")
        yield self.asked("bob")
        self.type(self.window.formEntries["password"], "hunter2")
        yield self.loggedIn()

    @defer.inlineCallbacks
    def test_three_failures_end_the_connection(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.type(window.formEntries["name"], "alice")
        yield self.asked()
        wrong = "wrong name or password"
        for attempt in range(3):
            self.type(window.formEntries["password"], f"n0pe{attempt}")
            yield wait_until(
                lambda: self.passwordError().startswith(wrong), f"failure {attempt}"
            )
            if attempt < 2:
                window.formErrors["password"].configure(text="")
        goodbye = "wrong name or password; too many failures, goodbye"
        closed = "closed the connection after failed logins"
        yield wait_until(lambda: closed in self.statusText(), "the closed connection")
        assert self.passwordError() == goodbye
        assert not window.reconnectButton.winfo_ismapped()
        yield wait_until(lambda: not self.session.connection.active, "not retrying")
        assert window.form.winfo_ismapped()
        # The right password on a new connection, when the user says so.
        self.type(window.formEntries["password"], "s3cret")
        yield self.loggedIn()


class ReloginTests(ClientTestCase):
    checkers = accounts()
    name = "alice"

    @defer.inlineCallbacks
    def test_reconnect_logs_in_with_the_password(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        # --name: connects at once, and the form asks for the password.
        entry = window.formEntries["password"]
        yield wait_until(window.passwordShown, "the password field")
        yield wait_until(lambda: self.root.focus_get() is entry, "its focus")
        self.type(entry, "s3cret")
        yield self.loggedIn()
        yield self.stopServer()
        yield wait_until(lambda: "Retrying in" in self.statusText(), "the countdown")
        yield self.startServer()
        bob = yield self.otherUser("bob", "hunter2")
        window.reconnectButton.invoke()
        yield bob.received(lines.Joined("alice"))
        yield self.loggedIn()
        assert window.formErrors["password"].cget("text") == ""
        assert self.statusText() == f"Logged in to 127.0.0.1:{self.port} as alice."


class TLSAccountTests(ClientTestCase):
    checkers = accounts()
    serverCertificate = self_signed()
    tls = True

    @defer.inlineCallbacks
    def test_password_over_tls(self) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.type(window.formEntries["name"], "alice")
        yield wait_until(window.passwordShown, "the password field")
        self.type(window.formEntries["password"], "s3cret")
        yield self.loggedIn()
        assert self.statusText().endswith("as alice (TLS).")


class CreateAccountTests(ClientTestCase):
    """
    The connect form's "Create account" choice, against a server whose
    users register their accounts (C{--accounts memory}).
    """

    def startServer(self, config: ChatConfig | None = None) -> defer.Deferred[None]:
        return super().startServer(
            config or ChatConfig(rate=0, loginTimeout=0, accounts="memory")
        )

    @defer.inlineCallbacks
    def test_create_account_registers_the_name_with_the_password(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        assert not window.passwordShown()
        window.registerBox.invoke()
        assert window.passwordShown()
        self.type(window.formEntries["password"], "s3cret", key="<Tab>")
        self.type(window.formEntries["name"], "carol")
        yield self.loggedIn()
        registered = "the account carol is registered"
        yield wait_until(lambda: registered in self.chatText(), "the registration")
        assert "s3cret" not in self.chatText()
        assert self.server.accounts is not None
        found = yield self.server.accounts.isRegistered("carol")
        assert found
