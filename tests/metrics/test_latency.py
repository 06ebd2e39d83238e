"""
Latencies as a histogram of plain numbers, read back by prometheus_client's
own parser.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from chatserver.metrics.latency import BUCKETS, Latencies, histogram


def test_each_latency_counts_in_the_first_bucket_it_fits() -> None:
    latencies = Latencies((0.01, 0.1))
    for seconds in (0.005, 0.01, 0.05, 3.0):
        latencies.observe(seconds)
    assert latencies.cumulative() == [("0.01", 2.0), ("0.1", 3.0), ("+Inf", 4.0)]
    assert latencies.count == 4
    assert latencies.sum == 0.005 + 0.01 + 0.05 + 3.0


class _One(Collector):
    def __init__(self, latencies: dict[str, Latencies]) -> None:
        self._latencies = latencies

    def collect(self) -> Iterator[Metric]:
        yield histogram("chat_x_seconds", "Some latency.", "link", self._latencies)


@given(st.lists(st.floats(0, 10, allow_nan=False), max_size=50))
def test_a_scrape_reads_back_what_was_observed(observed: list[float]) -> None:
    latencies = Latencies()
    for seconds in observed:
        latencies.observe(seconds)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_One({"commands": latencies}))
    text = generate_latest(registry).decode("utf-8")
    (family,) = text_string_to_metric_families(text)
    assert family.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert samples["chat_x_seconds_count", None] == len(observed)
    assert samples["chat_x_seconds_bucket", "+Inf"] == len(observed)
    for bound in BUCKETS:
        below = sum(1 for seconds in observed if seconds <= bound)
        assert samples["chat_x_seconds_bucket", str(float(bound))] == below
