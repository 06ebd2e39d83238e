"""
C{/search} through a real twistd with SQLite history: lines said before a
restart are found after it, by words with diacritics and prefixes, only in
the searcher's rooms, newest first, with their ids.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from chatwire import lines
from tests.integration.support import TIMEOUT, ChatServer, Client

Start = Callable[..., ChatServer]


def results(client: Client, query: str) -> tuple[list[lines.InRoom], lines.Event]:
    """
    @return: The lines found for C{/search QUERY} and the end line.
    """
    client.send(f"/search {query}".rstrip())
    header = client.expect(lines.SearchHeader)
    assert isinstance(header, lines.SearchHeader)
    found = []
    for _ in range(header.count):
        event = client.event()
        assert isinstance(event, lines.InRoom)
        found.append(event)
    return found, client.event()


def texts(found: list[lines.InRoom]) -> list[tuple[str, str]]:
    out = []
    for event in found:
        assert isinstance(event.line, lines.History)
        assert isinstance(event.line.line, lines.Message)
        out.append((event.room, event.line.line.text))
    return out


def test_search_finds_lines_said_before_a_restart(start_server: Start, tmp_path: Path):
    db = tmp_path / "chat.db"
    server = start_server("--rate", "0", "--history", f"sqlite:{db}")
    alice = server.login("alice")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    alice.send("the Café deployment failed")
    alice.send("/join #secret")
    alice.expect(lines.InRoom("#secret", lines.UserList(("alice",))))
    alice.send("secret cafe deployment")
    alice.send("/join #dev")
    alice.send("cafe deployed again")
    alice.expect(lines.InRoom("#dev", lines.Info("#dev is your current room now")))
    os.kill(server.process.pid, signal.SIGTERM)
    assert server.process.wait(TIMEOUT) in (0, -signal.SIGTERM)

    again = start_server("--rate", "0", "--history", f"sqlite:{db}")
    bob = again.login("bob")
    bob.send("/join #dev")
    bob.expect(lines.InRoom("#dev", lines.UserList(("bob",))))
    found, end = results(bob, "cafe deploy*")
    assert texts(found) == [
        ("#dev", "cafe deployed again"),
        ("#dev", "the Café deployment failed"),
    ]
    first, second = (event.line for event in found)
    assert isinstance(first, lines.History) and isinstance(second, lines.History)
    assert first.id > second.id
    assert end == lines.SearchEnd(2, False)
    found, end = results(bob, '"cafe" -deploy* :')
    assert len(found) == 2
    bob.send("/search #secret cafe")
    assert bob.expect(lines.Error) == lines.Error("you are not in #secret")
