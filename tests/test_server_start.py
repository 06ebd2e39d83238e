"""
A server that is starting (reading its history, moderation state and
accounts) takes connections, and answers their logins once it has read
what it keeps.
"""

from __future__ import annotations

from twisted.internet import defer

from chatserver.history.memory import MemoryHistory
from chatserver.testing import ChatHarness


class SlowHistory(MemoryHistory):
    """
    A memory history that starts when the test says so.
    """

    def __init__(self) -> None:
        super().__init__()
        self.starting: defer.Deferred[None] = defer.Deferred()

    def start(self) -> defer.Deferred[None]:
        return self.starting


def test_a_login_during_start_is_answered_once_the_server_started():
    history = SlowHistory()
    chat = ChatHarness(history=history)
    started = chat.server.start()
    alice = chat.connect()
    alice.send("alice")
    assert "=== Welcome to chat, alice!" not in alice.received()
    history.starting.callback(None)
    assert started.called
    assert "=== Welcome to chat, alice!" in alice.received()


def test_a_login_is_answered_at_once_when_no_start_is_under_way():
    chat = ChatHarness()
    alice = chat.connect()
    alice.send("alice")
    assert "=== Welcome to chat, alice!" in alice.received()
