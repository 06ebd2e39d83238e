"""
The connect form's "Remember password in the system keyring", for real: a
real Secret Service (GNOME Keyring's daemon on a private D-Bus session bus)
keeps the password, the client's config file never holds it, the next start
logs in with it, and without a usable keyring the box is disabled with one
line saying why.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.internet import defer

from chatclient import config
from chatclient.passwords import NO_BACKEND, SERVICE, Keyring, account
from tests.client.secret_service import SecretService
from tests.gui.client_support import ClientTestCase, wait_until

pytestmark = pytest.mark.gui


class SecretServiceTestCase(ClientTestCase):
    """
    The client window with a real Secret Service as its keyring.
    """

    checkers = [InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")]

    def setUp(self) -> defer.Deferred[None]:  # type: ignore[override]
        where = Path(tempfile.mkdtemp(prefix="chat-keyring-test-"))
        self.addCleanup(shutil.rmtree, where, True)
        self.service = SecretService(where)
        self.addCleanup(self.service.stop)
        self.keyring = self.kept = Keyring(self.service.backend)
        return super().setUp()

    def inKeyring(self) -> str | None:
        found = self.service.backend.get_password(
            SERVICE, account("127.0.0.1", self.port, "alice")
        )
        return found if found is None else str(found)


class KeyringTests(SecretServiceTestCase):
    @defer.inlineCallbacks
    def logInTyping(self) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        self.type(window.formEntries["name"], "alice")
        yield wait_until(window.passwordShown, "the password field")
        self.type(window.formEntries["password"], "s3cret")
        yield self.loggedIn()

    @defer.inlineCallbacks
    def test_a_remembered_password_is_in_the_keyring_and_not_the_config(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.window
        assert "disabled" not in window.keepBox.state()
        assert not window.keepVar.get()  # opt-in
        window.keepBox.invoke()
        yield self.logInTyping()
        assert self.inKeyring() == "s3cret"
        path = self.directory / "config.json"
        config.save(self.client.remembered(), path)
        saved = path.read_text("utf-8")
        assert "s3cret" not in saved
        assert config.load(path).keepPassword

    @defer.inlineCallbacks
    def test_an_unticked_box_keeps_nothing_and_forgets_what_was_kept(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.kept.keep("127.0.0.1", self.port, "alice", "old")
        yield self.logInTyping()
        assert self.inKeyring() is None


class KeptPasswordTests(SecretServiceTestCase):
    """
    A start with the box remembered ticked and the password in the keyring.
    """

    name = "alice"
    keepPassword = True

    def setUp(self) -> defer.Deferred[None]:  # type: ignore[override]
        # The port is the kernel's choice: the password is kept once the
        # server listens, before the window opens.
        self.withWindow = False
        starting = super().setUp()

        @defer.inlineCallbacks
        def opened(_: object) -> Generator[defer.Deferred[Any], Any, None]:
            self.kept.keep("127.0.0.1", self.port, "alice", "s3cret")
            yield self.openWindow()

        return starting.addCallback(opened)

    @defer.inlineCallbacks
    def test_the_next_start_logs_in_with_the_kept_password(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        assert self.window.keepVar.get()
        yield self.loggedIn()
        assert self.window.passwordVar.get() == ""
        assert self.session.wantedName == "alice"


class NoKeyringTests(ClientTestCase):
    keyring = Keyring(fail.Keyring())
    keepPassword = True

    def test_without_a_keyring_the_box_is_disabled_and_says_why(self) -> None:
        window = self.window
        window.root.update()
        assert "disabled" in window.keepBox.state()
        assert not window.keepVar.get()
        assert str(window.keepReason.cget("text")) == NO_BACKEND
        assert "\n" not in NO_BACKEND
        assert window.keepReason.winfo_ismapped()
