"""
A smoke run of the benchmark's load generator against a real C{twistd chat}
(and against two cluster nodes sharing a real C{redis-server}, as
C{bench/cluster.py} runs them): a few clients, a few lines, every line
checked to arrive exactly once.
"""

from collections.abc import Callable
from pathlib import Path

from bench.loadgen import Load, merge, rooms_smoke, smoke
from tests.integration.redis_support import RedisServer
from tests.integration.support import ChatServer


def test_every_line_arrives_exactly_once(server: ChatServer) -> None:
    result = smoke(server.port, clients=6, senders=2, lines_each=20)
    assert result["loggedIn"] == 6
    assert set(result["sent"]) == {"s0", "s1"}
    assert all(count >= 10 for count in result["sent"].values())
    # Each line reaches the 5 clients other than its sender.
    assert result["expected"] == 5 * sum(result["sent"].values())
    assert result["delivered"] == result["expected"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["reordered"] == 0
    assert result["corrupted"] == 0
    assert result["errorCount"] == 0


def test_room_lines_reach_their_members_exactly_once(server: ChatServer) -> None:
    # a and b talk in #a and #b (the last room each joins); c is in both,
    # d only in #a, e in a room where nobody talks.
    rooms = {
        "a": ("#b", "#a"),
        "b": ("#b",),
        "c": ("#a", "#b"),
        "d": ("#a",),
        "e": ("#quiet",),
    }
    result = rooms_smoke(server.port, rooms, ("a", "b"), lines_each=10)
    assert result["loggedIn"] == 5
    assert result["joined"] == 5
    assert result["sent"] == {"a": 10, "b": 10}
    # a's lines reach c and d; b's reach a and c.
    assert result["expected"] == 4 * 10
    assert result["delivered"] == result["expected"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["unexpected"] == 0
    assert result["misrouted"] == 0
    assert result["corrupted"] == 0
    assert result["errorCount"] == 0


def test_lines_across_cluster_nodes_arrive_exactly_once(
    start_server: Callable[..., ChatServer], tmp_path: Path
) -> None:
    # The cluster benchmark's set-up in small: clients spread over two
    # nodes sharing a real redis-server, each client on its node's port.
    directory = tmp_path / "redis"
    directory.mkdir()
    redis = RedisServer(directory)
    try:
        nodes = []
        for name in ("n0", "n1"):
            node = start_server(
                "--rate", "0", "--cluster", redis.url, "--node-name", name
            )
            node.wait_for_log(rf"Node {name} is in the cluster")
            nodes.append(node)
        spec = [("s0", "sender"), ("s1", "sender")]
        spec += [(f"r{i}", "receiver") for i in range(4)]
        ports = {name: nodes[i % 2].port for i, (name, _) in enumerate(spec)}
        load = Load(nodes[0].port, spec, workers=2, ports=ports)
        try:
            logins = load.call("login", {"concurrency": 10, "timeout": 10}, timeout=20)
            load.call("settle", {"timeout": 10}, timeout=20)
            parts = load.call(
                "send", {"duration": 1.0, "rate": 10.0, "window": 0, "lines": 10}
            )
            sent = {s: n for part in parts for s, n in part["sent"].items()}
            results = load.call("drain", {"sent": sent, "timeout": 10}, timeout=20)
        finally:
            load.close()
    finally:
        redis.stop()
    result = merge(results)
    assert sum(r["loggedIn"] for r in logins) == 6
    assert sent == {"s0": 10, "s1": 10}
    # Each line reaches the 5 clients other than its sender: 2 of them on
    # the sender's node, 3 on the other.
    assert result["expected"] == 5 * 20
    assert result["delivered"] <= result["expected"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["reordered"] == 0
    assert result["corrupted"] == 0
    assert result["errorCount"] == 0
    # Cross-node latencies apart (a worker may leave uncounted a first
    # line sent before it started its phase: seen, not lost).
    cross = sum(n for r in results for n in r["crossHist"].values())
    same = sum(result["hist"].values())
    assert same + cross == result["delivered"]
    assert 2 * 20 - 4 <= same <= 2 * 20
    assert 3 * 20 - 6 <= cross <= 3 * 20


def test_idle_client_counts_a_join_notice_begun_before_login_ends():
    """
    An idle client counts the join notices it reads once logged in without
    splitting lines; a notice whose start came in the same read as the end
    of its login (and so was buffered) is still counted once.
    """
    import asyncio

    from bench.loadgen import Client, Generator

    async def scenario() -> Client:
        gen = Generator("127.0.0.1", 1, 3, [], senders=[], worker=0, shared=[])
        client = Client(gen, "u0", "idle")

        class Transport:
            def write(self, data: bytes) -> None:
                pass

        client.transport = Transport()  # type: ignore[assignment]
        client.data_received(b">>> name: What's your name?\r\n")
        client.data_received(
            b"=== Welcome to chat, u0!\r\n=== Users online (1): u0\r\n--> u1 ha"
        )
        client.data_received(b"s joined\r\n--")
        client.data_received(b"> u2 has joined\r\n")
        return client

    client = asyncio.run(scenario())
    assert client.joins == 2
    assert client.settled
