"""
The memory history's bound over all rooms (C{--history-memory}), as an
operator sees it on a real twistd.
"""

from __future__ import annotations

from chatwire import lines
from tests.integration.support import history_page


def test_the_history_of_parted_rooms_stays_within_history_memory(start_server):
    """
    Finding 7 of issue 19: rooms filled and parted one after another kept
    all their history.  Within a bound of 1 MiB, 40 rooms of 25 lines of
    4,000 bytes cannot all be kept: the rooms parted first are forgotten,
    the last one keeps its lines.
    """
    server = start_server("--rate", "0", "--history-memory", str(1 << 20))
    alice = server.login("alice")
    for n in range(40):
        room = f"#room{n}"
        alice.send(f"/join {room}")
        alice.expect(lines.InRoom(room, lines.UserList(("alice",))))
        for k in range(25):
            alice.send(f"{k} {'x' * 4000}")
        alice.send(f"/part {room}")
    bob = server.login("bob")
    bob.send("/join #room0")
    bob.expect(lines.InRoom("#room0", lines.UserList(("bob",))))
    bob.send("/history #room0 5")
    assert history_page(bob, "#room0") == []
    bob.send("/join #room39")
    bob.expect(lines.InRoom("#room39", lines.UserList(("bob",))))
    kept = history_page(bob, "#room39")
    assert [k.line.text.split()[0] for k in kept] == [  # type: ignore[union-attr]
        str(k) for k in range(5, 25)
    ]
