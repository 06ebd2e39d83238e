"""
The C epoll reference server of the benchmark (C{bench/baselines/cepoll.c}):
it builds with the system C compiler under C{-Wall -Wextra -Werror}, and the
load generator's smoke check passes against it.
"""

import pytest

from bench.baselines.cbuild import compiler
from bench.loadgen import smoke

pytestmark = pytest.mark.skipif(
    compiler() is None, reason="no C compiler (cc or $CC) to build cepoll.c"
)


def test_every_line_arrives_exactly_once(cepoll: int) -> None:
    result = smoke(cepoll, clients=6, senders=2, lines_each=20)
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
