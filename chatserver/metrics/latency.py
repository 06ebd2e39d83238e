"""
Latencies kept as a histogram of plain numbers (an addition and a bisection
each), rendered for C{--metrics} as a Prometheus histogram when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

# Seconds: from a quick local write or command to a stalled one.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class Latencies:
    """
    How many things took how long.

    @ivar buckets: The upper bounds of the buckets, in seconds, rising.
    @ivar counts: How many took at most each bound (and more than the one
        before), then how many took longer than the last.
    @ivar count: How many there were.
    @ivar sum: The seconds they took together.
    """

    def __init__(self, buckets: Sequence[float] = BUCKETS) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        """
        Count one that took C{seconds}.
        """
        self.counts[bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        """
        @return: Each bucket's bound (C{"+Inf"} last) with how many took at
            most that long, as Prometheus' buckets count.
        """
        rows = []
        total = 0
        for bound, number in zip(
            (*self.buckets, float("inf")), self.counts, strict=True
        ):
            total += number
            rows.append((floatToGoString(bound), float(total)))
        return rows


def histogram(
    name: str,
    documentation: str,
    label: str,
    latencies: dict[str, Latencies],
) -> HistogramMetricFamily:
    """
    @return: The histogram C{name} with one series per value of C{label}.
    """
    family = HistogramMetricFamily(name, documentation, labels=[label])
    for value, each in sorted(latencies.items()):
        family.add_metric([value], each.cumulative(), each.sum)
    return family
