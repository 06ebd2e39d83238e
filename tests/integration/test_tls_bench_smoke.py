"""
A smoke run of issue 25's TLS benchmark (C{bench/tls.py}) at its smallest
size: each scenario against our server and the C server, over plain TCP and
over TLS, with the compiled load generator, and every line accounted for.
Times and memory are reported, never asserted.
"""

import json
from pathlib import Path

import pytest

from bench.baselines.cbuild import compiler
from bench.tls import HEADING, main

pytestmark = pytest.mark.skipif(
    compiler() is None, reason="no C compiler (cc or $CC) to build the C programs"
)

PARTS = {"ours-plain", "ours-tls", "c-plain", "c-tls"}


def test_the_tls_benchmark_runs_at_its_smallest(tmp_path: Path) -> None:
    out, results = tmp_path / "tls.json", tmp_path / "RESULTS.md"
    assert main(["--quick", "--out", str(out), "--results", str(results)]) == 0
    (run,) = json.loads(out.read_text())["runs"]
    for scenario in ("idle", "storm"):
        assert set(run[scenario]) == PARTS
        for part, crowd in run[scenario].items():
            assert crowd["loggedIn"] == crowd["settled"] == crowd["clients"], part
            assert crowd["probeDelivered"] == crowd["clients"] - 1, part
            assert crowd["probeLost"] == crowd["errors"] == 0, part
            assert (crowd["tls"] is not None) == part.endswith("tls")
    assert set(run["fanout"]) == PARTS
    for part, fanout in run["fanout"].items():
        assert fanout["deliveries"] == fanout["expected"] > 0, part
        assert fanout["lost"] == fanout["corrupted"] == fanout["errors"] == 0, part
        assert (fanout["tls"] is not None) == part.endswith("tls")
    section = results.read_text()
    assert section.startswith(HEADING)
    assert "TLS vs plain" in section
