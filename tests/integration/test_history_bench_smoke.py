"""
A smoke run of issue 24's history benchmark (C{bench/history.py}) at its
smallest size: each store filled, paged, loaded and trimmed through a real
C{twistd chat}, and every line accounted for.  Times are reported, never
asserted.
"""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from bench.history import _searches, main
from tests.integration.support import ChatServer


def test_the_history_benchmark_runs_at_its_smallest(tmp_path: Path) -> None:
    out = tmp_path / "history.json"
    assert main(["--quick", "--out", str(out)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    for store in ("none", "memory", "sqlite"):
        assert run[store]["fill"]["lines"] == 5000
        assert run[store]["fill"]["errors"] == 0
        load = run[store]["load"]
        assert load["deliveries"] == load["expected"] > 0
        assert load["lost"] == 0
    for store in ("memory", "sqlite"):
        pages = run[store]["pages"]
        assert pages["replay"]["count"] == 20
        assert pages["page"]["count"] == 80
        assert pages["errors"] == 0
        search = run[store]["search"]
        assert search["all"]["count"] == 4 * 3
        assert search["errors"] == 0
    for store in ("none", "memory", "sqlite"):
        busy = run[store]["busy"]
        assert busy["fill"]["errors"] == 0
        assert busy["deliveries"] == busy["expected"] > 0
        assert busy["lost"] == 0
    assert run["sqlite"]["busy"]["fill"]["keptPerSecond"] > 0
    trim = run["sqlite"]["trim"]
    # 10 lines kept in each of the 50 rooms and the default room, and
    # the busy fill's one line in its own room.
    assert trim["linesAfter"] == 10 * 51 + 1
    assert trim["fileMBAfter"] < trim["fileMBBefore"]
    assert run["memoryTrim"]["roomsLeft"] == 0


def test_a_search_that_finds_nothing_is_answered_and_counted(
    start_server: Callable[..., ChatServer],
) -> None:
    """
    Issue 24: the benchmark's searcher waited for "End of search" only, so
    a search that found nothing (answered at once with "No more results")
    was taken for one never answered, and the run failed after 60 s.
    """
    server = start_server("--rate", "0")
    found = asyncio.run(_searches(server.port, lines=1000, rooms=2, count=2, seed=1))
    assert found["all"]["count"] == 4 * 2
    assert found["foundNothing"] == 4 * 2
    assert found["errors"] == 0
