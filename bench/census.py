"""
How much memory the chat server's own objects take per logged-in connection,
without sockets: a real L{ChatServer} and line door on a clock, 3,000 users
logged in over L{StringTransport}s, counted with C{tracemalloc} (the transports and the
test harness left out).

    .venv/bin/python -m bench.census
"""

from __future__ import annotations

import gc
import tracemalloc

from chatserver.testing import ChatHarness, LineClient

USERS = 3000


def main() -> None:
    server = ChatHarness(rate=0, maxClients=100_000)
    clients: list[LineClient] = [server.login(f"warm{n}") for n in range(200)]
    for client in clients:
        client.transport.clear()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for n in range(USERS):
        client = server.connect()
        client.send(f"user{n}")
        clients.append(client)
    for client in clients:
        client.transport.clear()  # join notices: output, not the users' cost
    gc.collect()
    after = tracemalloc.take_snapshot()
    ours = sum(
        stat.size_diff
        for stat in after.compare_to(before, "filename")
        if "testing.py" not in str(stat.traceback)
    )
    print(
        f"{ours / USERS:.0f} bytes per logged-in connection in chatserver objects "
        f"({USERS:,} connections, tracemalloc)"
    )


if __name__ == "__main__":
    main()
