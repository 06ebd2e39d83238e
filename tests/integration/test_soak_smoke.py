"""
A smoke run of issue 25's soak (C{bench/soak.py}) in its tiny form: a real
C{twistd chat} with the line door, IRC (plain and over TLS) and the web
door, history in SQLite, 24 users in 3 rooms, three two-second "minutes"
with users leaving and coming back, and every line checked to arrive
exactly once at every member of its room.  Times are reported, never
asserted.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from bench.soak import DOORS, run, tiny_plan


@pytest.fixture(scope="module")
def soaked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("soak")
    result = run(tiny_plan(3), directory, directory / "soak.json")
    result["out"] = str(directory / "soak.json")
    return result


def test_every_user_of_every_door_joins_its_room(soaked: dict[str, Any]) -> None:
    assert soaked["joined"] == tiny_plan().users
    assert len(DOORS) == 4


def test_every_minute_is_measured(soaked: dict[str, Any]) -> None:
    assert [row["minute"] for row in soaked["rows"]] == [1, 2, 3]
    for row in soaked["rows"]:
        assert row["sent"] > 0
        assert row["delivered"] > 0
        assert row["leaves"] > 0
        assert row["rss"] > 0
        assert row["fds"] > 0
        assert row["p99"] is not None


def test_every_line_arrives_exactly_once_despite_the_churn(
    soaked: dict[str, Any],
) -> None:
    totals = soaked["totals"]
    assert totals["sent"] > 0
    for what in ("lost", "duplicated", "late", "corrupted", "misrouted"):
        assert totals[what] == 0, what
    assert totals["unexpected"] == 0
    assert totals["errors"] == 0
    assert soaked["verdict"]["nothingLost"]


def test_the_server_logs_no_traceback(soaked: dict[str, Any]) -> None:
    assert soaked["tracebacks"] == 0


def test_the_figures_are_kept_in_a_file(soaked: dict[str, Any]) -> None:
    kept = json.loads(Path(soaked["out"]).read_text())
    assert kept["complete"]
    assert [row["minute"] for row in kept["rows"]] == [1, 2, 3]
