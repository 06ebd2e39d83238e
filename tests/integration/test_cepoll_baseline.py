"""
The C epoll reference server of the benchmark (C{bench/baselines/cepoll.c}):
it builds with the system C compiler under C{-Wall -Wextra -Werror}, and the
load generator's smoke check passes against it.
"""

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.baselines.cbuild import build, compiler
from bench.loadgen import smoke

pytestmark = pytest.mark.skipif(
    compiler() is None, reason="no C compiler (cc or $CC) to build cepoll.c"
)


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    """
    Build the server into C{tmp_path}, start it on a free port of
    127.0.0.1, and kill it at the end.
    """
    binary = build(tmp_path)
    log = tmp_path / "cepoll.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "0"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            match = re.search(rb"listening on 127\.0\.0\.1:(\d+)", log.read_bytes())
            if match:
                break
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "cepoll did not start"
            time.sleep(0.02)
        yield int(match[1])
        assert proc.poll() is None, "cepoll exited during the test"
    finally:
        proc.kill()
        proc.wait()


def test_every_line_arrives_exactly_once(port: int) -> None:
    result = smoke(port, clients=6, senders=2, lines_each=20)
    assert result["loggedIn"] == 6
    assert set(result["sent"]) == {"s0", "s1"}
    assert all(count >= 10 for count in result["sent"].values())
    assert result["expected"] == 5 * sum(result["sent"].values())
    assert result["delivered"] == result["expected"]
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["reordered"] == 0
    assert result["corrupted"] == 0
    assert result["errorCount"] == 0
