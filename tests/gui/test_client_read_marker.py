"""
The Tk client moves its account's read marker, for real: against a real
C{twistd chat --accounts memory}, a raw line session of the same account
is told (a ReadUpTo line) when the client's window shows a conversation's
new lines.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from twisted.internet import defer

from chatwire import lines
from tests.gui.client_support import ClientTestCase, OtherUser, wait_until
from tests.integration.support import ChatServer as Twistd

pytestmark = pytest.mark.gui


def read_up_to(user: OtherUser, target: str) -> list[lines.ReadUpTo]:
    return [
        e for e in user.events if isinstance(e, lines.ReadUpTo) and e.target == target
    ]


class TwistdReadMarkerTests(ClientTestCase):
    """
    The client under test and the other users on one real twistd.
    """

    twistd: Twistd | None = None

    def startServer(self, config: object = None) -> defer.Deferred[None]:
        self.twistd = Twistd(self.directory, "--accounts", "memory", "--rate", "0")
        self.port = self.plainPort = self.twistd.port
        return defer.succeed(None)

    @defer.inlineCallbacks
    def stopServer(self) -> Generator[defer.Deferred[Any], Any, None]:
        if self.twistd is not None:
            twistd, self.twistd = self.twistd, None
            twistd.stop()
        for other in self.others:
            yield other.closed

    @defer.inlineCallbacks
    def test_selecting_a_tab_moves_the_read_marker_for_the_other_sessions(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        # A raw line session makes the name an account, and stays on.
        phone = yield self.otherUser("alice")
        phone.say("/register s3cret")
        yield wait_until(
            lambda: any(
                isinstance(e, lines.Info) and "is registered" in e.text
                for e in phone.events
            ),
            "the registration",
        )
        bob = yield self.otherUser("bob")
        window = self.window
        self.type(window.formEntries["name"], "alice")
        yield wait_until(window.passwordShown, "the password field")
        self.type(window.formEntries["password"], "s3cret")
        yield self.loggedIn()
        yield wait_until(lambda: self.model.home.name == "#lobby", "the lobby named")
        self.type(window.entry, "/join #dev")
        yield wait_until(
            lambda: self.model.selected.name == "#dev", "the #dev tab shown"
        )
        bob.say("hello alice")
        yield wait_until(lambda: self.model.home.unread == 1, "the lobby unread")
        assert read_up_to(phone, "#lobby") == []
        # The lobby's tab, chosen in the focused window, is read.
        self.window.notebook.select(self.window.views[id(self.model.home)][0])
        self.root.update()
        assert self.model.selected is self.model.home
        yield wait_until(lambda: read_up_to(phone, "#lobby"), "the phone told")
        assert read_up_to(phone, "#lobby")[-1].unread == 0
