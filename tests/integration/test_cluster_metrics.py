"""
C{--metrics} of a cluster node against a real redis-server: the latency of
its Redis commands and the lag of each stream it follows.
"""

from __future__ import annotations

from chatwire import lines
from tests.integration.support import wait_for
from tests.integration.test_cluster import (  # noqa: F401 (fixtures)
    Start,
    redis,
    redis_kind,
    start_node,
)
from tests.integration.test_operations import LOCAL, metrics_port, scrape


def test_a_node_reports_its_redis_latency_and_the_lag_of_its_streams(
    start_node: Start,  # noqa: F811 (the fixture)
) -> None:
    a = start_node("a", "--metrics", LOCAL)
    b = start_node("b")
    port = metrics_port(a)
    alice = a.login("alice")
    bob = b.login("bob")
    alice.expect(lines.Joined("bob"))
    bob.send("over Redis")
    alice.expect(lines.Message("bob", "over Redis"))
    found = scrape(port)
    answered = found["chat_redis_command_seconds_count", (("link", "commands"),)]
    assert answered > 0
    assert (
        found[
            "chat_redis_command_seconds_bucket", (("le", "+Inf"), ("link", "commands"))
        ]
        == answered
    )
    streams = {
        dict(labels)["stream"]
        for name, labels in found
        if name == "chat_stream_lag_seconds"
    }
    assert streams == {"presence", "inbox", "#lobby"}
    assert all(
        value >= 0
        for (name, _), value in found.items()
        if name == "chat_stream_lag_seconds"
    )
    wait_for(lambda: scrape(port)["chat_redis_connected", ()] == 1, "the link reported")
