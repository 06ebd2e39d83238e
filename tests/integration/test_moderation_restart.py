"""
Moderation kept in SQLite (C{--history sqlite:PATH}) outlives a restart of
a real twistd: a room's ban, its modes and a kline hold after it.
"""

from __future__ import annotations

import os
import signal

from chatwire import lines
from tests.integration.support import TIMEOUT, ChatServer

OPER = ("--oper", "memory:root:secret")


def stop(server: ChatServer) -> None:
    os.kill(server.process.pid, signal.SIGTERM)
    assert server.process.wait(TIMEOUT) in (0, -signal.SIGTERM)


def test_bans_modes_and_klines_survive_a_restart_with_sqlite(start_server, tmp_path):
    db = tmp_path / "chat.db"
    history = ("--rate", "0", "--history", f"sqlite:{db}", *OPER)
    server = start_server(*history)
    alice = server.login("alice")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    alice.send("/ban #dev spam* 7d flood")
    alice.expect(lines.Info("ban on spam* for 7d"))
    alice.send("/mode #dev +t")
    alice.expect(lines.InRoom("#dev", lines.ModeChanged("alice", "+t")))
    alice.send("/oper root secret")
    alice.expect(lines.Info("you are a server operator now"))
    alice.send("/kline mallory 1d abuse")
    alice.expect(lines.Info("kline on mallory set"))
    stop(server)

    server = start_server(*history)
    bob = server.login("bob")
    bob.send("/bans #dev")
    bob.expect(lines.Info("Bans of #dev (1):"))
    assert bob.event().text.startswith("spam* set by alice at ")
    bob.send("/mode #dev")
    bob.expect(lines.Info("#dev modes: +nt"))
    mallory = server.connect()
    mallory.expect(lines.Prompt)
    mallory.send("mallory")
    mallory.expect(lines.Error("you are banned from this server: abuse"))
    spammer = server.login("spammer")
    spammer.send("/join #dev")
    spammer.expect(lines.Error("cannot join #dev: you are banned from it"))
