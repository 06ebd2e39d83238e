"""
The answer to C{REGISTER} comes before the answers to the commands sent
after it, even when the password's hash takes a while (it is made in a
thread): irctest's C{RegisterBeforeConnectTestCase} reads up to the answer
of a C{PING} sent right after C{REGISTER}.
"""

from __future__ import annotations

import base64
from typing import Any

from twisted.internet import defer, task

from chatserver.testing import ChatHarness
from tests.accounts.support import CHEAP


def slowly(harness: ChatHarness) -> Any:
    def run(f: Any, *args: Any) -> defer.Deferred[Any]:
        return task.deferLater(harness.clock, 1, f, *args)

    return run


def harness() -> ChatHarness:
    server = ChatHarness(accounts="memory", rate=0)
    accounts = server.server.accounts
    assert accounts is not None
    accounts.run = slowly(server)
    accounts.cost = CHEAP
    return server


def test_register_before_connecting_is_answered_before_a_later_ping():
    server = harness()
    client = server.irc()
    client.send("CAP LS 302", "CAP REQ :draft/account-registration", "NICK bar")
    client.raw()
    client.send("REGISTER * * s3cret", "PING sync")
    server.clock.advance(1)
    commands = client.commands()
    assert commands.index("REGISTER") < commands.index("PONG")


def test_register_after_connecting_is_answered_before_a_later_ping():
    server = harness()
    client = server.ircLogin("bar")
    client.raw()
    client.send("REGISTER * * s3cret", "PING sync")
    server.clock.advance(1)
    commands = client.commands()
    assert commands.index("REGISTER") < commands.index("PONG")


def test_a_refused_register_is_answered_before_a_later_ping():
    server = harness()
    client = server.ircLogin("bar")
    client.raw()
    client.send("REGISTER * * x", "PING sync")
    server.clock.advance(1)
    commands = client.commands()
    assert commands.index("FAIL") < commands.index("PONG")


def test_sasl_is_answered_before_a_later_ping():
    server = harness()
    accounts = server.server.accounts
    assert accounts is not None
    accounts.run = defer.maybeDeferred
    registering = accounts.register("bar", "s3cret", "127.0.0.1")
    assert registering.called
    accounts.run = slowly(server)
    client = server.irc()
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK bar", "AUTHENTICATE PLAIN")
    client.raw()
    token = base64.b64encode(b"bar\0bar\0s3cret").decode()
    client.send(f"AUTHENTICATE {token}")
    client.send("PING sync")
    server.clock.advance(1)
    commands = client.commands()
    assert commands.index("903") < commands.index("PONG")
