"""
The Tk client over TLS, for real: its window on the Xvfb display against a
chat server in the same reactor listening on C{ssl:0} with a certificate
made for the test (and on C{tcp:0} for the other users).  A certificate the
client does not trust, or one for another host name, is refused and said
so on the form and the status line, and not retried in a loop.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from chatclient import session
from chatwire import lines
from tests.client.certs import self_signed
from tests.gui.client_support import ClientTestCase, wait_until

pytestmark = pytest.mark.gui


class TrustedTests(ClientTestCase):
    """
    The client trusts the server's self-signed certificate (C{--ca}).
    """

    serverCertificate = self_signed()
    tls = True

    @defer.inlineCallbacks
    def test_login_and_chat_over_tls(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        assert window.tlsVar.get()
        assert window.trustLabel.cget("text") == f"trusting {self.ca}"
        bob = yield self.otherUser("bob")  # over plain TCP
        yield self.login("alice")
        yield bob.received(lines.Joined("alice"))
        assert self.statusText() == (
            f"Logged in to 127.0.0.1:{self.port} as alice (TLS)."
        )
        transport = self.session.connection.protocol.transport  # type: ignore[union-attr]
        assert transport.getPeerCertificate() is not None  # it is TLS
        self.type(window.entry, "over TLS")
        yield bob.received(lines.Message("alice", "over TLS"))
        bob.say("over TCP")
        yield wait_until(lambda: "<bob> over TCP" in self.chatText(), "bob's line")

    @defer.inlineCallbacks
    def test_reconnects_over_tls(self) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.login("alice")
        yield self.stopServer()
        yield wait_until(lambda: "Retrying in" in self.statusText(), "the countdown")
        yield self.startServer()
        bob = yield self.otherUser("bob")
        self.window.reconnectButton.invoke()
        yield bob.received(lines.Joined("alice"))
        yield self.loggedIn()


class TLSBoxTests(ClientTestCase):
    """
    The TLS box on the connect form decides, whatever the command line said.
    """

    serverCertificate = self_signed()

    @defer.inlineCallbacks
    def test_tick_the_box_and_connect(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        assert not window.tlsVar.get()
        window.tlsBox.invoke()
        assert window.tlsVar.get()
        yield self.login("alice")
        assert self.session.connection.tls
        assert self.statusText().endswith("as alice (TLS).")

    @defer.inlineCallbacks
    def test_plain_to_a_tls_port_is_wondered_about(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        # The TLS port waits for a handshake that never comes.
        self.patch(session, "SILENCE", 0.5)
        self.type(self.window.formEntries["name"], "alice")
        yield wait_until(lambda: "said nothing" in self.statusText(), "the hint")
        assert self.statusText().endswith("Is it a TLS port? Then tick TLS.")

    @defer.inlineCallbacks
    def test_tls_to_a_plain_port_fails_clearly(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        # Ticked against the plain port: the handshake fails and says so.
        self.window.portVar.set(str(self.plainPort))
        self.window.tlsBox.invoke()
        self.type(self.window.formEntries["name"], "alice")
        error = self.window.formErrors["tls"]
        yield wait_until(lambda: error.cget("text"), "the TLS error")
        assert "is it a TLS port?" in error.cget("text")
        assert not self.session.connection.active


class UntrustedTests(ClientTestCase):
    """
    The server's certificate is not the one the client was given.
    """

    serverCertificate = self_signed()
    tls = True

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.withWindow = False
        yield super().setUp()
        _, other = self_signed().write(self.directory, "other")
        self.ca = str(other)  # another self-signed certificate as --ca
        yield self.openWindow()

    @defer.inlineCallbacks
    def test_another_certificate_is_refused(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.refused("is not trusted (certificate verify failed)")

    @defer.inlineCallbacks
    def refused(self, why: str) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.type(window.formEntries["name"], "alice")
        error = window.formErrors["tls"]
        yield wait_until(lambda: error.cget("text"), "the TLS error on the form")
        address = f"127.0.0.1:{self.port}"
        assert error.cget("text").startswith(f"the certificate of {address} ")
        assert why in error.cget("text")
        status = self.statusText()
        assert status.startswith(f"Not connected: the certificate of {address} ")
        assert why in status
        assert "Not retrying" in status
        assert window.form.winfo_ismapped()
        assert not window.reconnectButton.winfo_ismapped()
        # The chat view takes its lines in batches, at the end of a turn.
        yield wait_until(
            lambda: f"Not connected: the certificate of {address}" in self.chatText(),
            "the notice in the chat view",
        )
        # It stays refused: not connecting again by itself.
        yield wait_until(lambda: not self.session.connection.active, "stopped")
        assert not self.session.loggedIn
        assert len(self.server.realm) == 0
        # Trying again is one more attempt, refused the same way.
        error.configure(text="")
        self.press(window.formEntries["name"], "<Return>")
        yield wait_until(lambda: error.cget("text"), "refused again")
        assert why in error.cget("text")


class HostNameTests(UntrustedTests):
    """
    The certificate is trusted, but it is for another host name.
    """

    serverCertificate = self_signed("chat.example.org", ("chat.example.org",), ())

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.withWindow = True
        yield ClientTestCase.setUp(self)

    @defer.inlineCallbacks
    def test_another_certificate_is_refused(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.refused("is not valid for the host name 127.0.0.1")
