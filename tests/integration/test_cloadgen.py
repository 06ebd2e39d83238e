"""
The compiled load generator of the benchmark (C{bench/cloadgen.c}): it
builds with the system C compiler under C{-Wall -Wextra -Werror}, counts
every line exactly once against the C epoll server, and gives the verdicts
of the Python generator (C{bench/loadgen.py}) on duplicated, lost,
corrupted, history and error lines sent by a scripted server.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench.baselines import cbuild
from bench.cloadgen import build
from bench.loadgen import CORRUPT, ERROR, HISTORY, classify

pytestmark = pytest.mark.skipif(
    cbuild.compiler() is None, reason="no C compiler (cc or $CC) to build cloadgen.c"
)


def run(binary: Path, port: int, *args: str) -> list[dict[str, Any]]:
    """
    Run the generator to the end (with no pause before sending).

    @return: Its JSON lines: the settle phase's, then the result.
    """
    done = subprocess.run(
        [str(binary), "--port", str(port), "--time-limit", "30", *args],
        capture_output=True,
        text=True,
        timeout=40,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    return build(tmp_path)


@contextmanager
def scripted(
    target: Callable[[socket.socket, Any, threading.Event], None], script: Any
) -> Iterator[int]:
    """
    Run C{target} (a scripted server taking the listening socket, its
    C{script} and an event set when the test is done) in a thread, on a
    free port of 127.0.0.1 (given).
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    done = threading.Event()
    thread = threading.Thread(target=target, args=(listener, script, done), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        listener.close()


def test_binary_cached_by_source_hash(binary: Path, tmp_path: Path) -> None:
    assert binary.parent == tmp_path
    assert build(tmp_path) == binary


def test_every_line_exactly_once(binary: Path, cepoll: int) -> None:
    settled, result = run(
        binary,
        cepoll,
        *("--clients", "6", "--senders", "2", "--duration", "1", "--rate", "20"),
    )
    assert settled["loggedIn"] == 6
    assert settled["settled"] == 6
    assert result["sent"] == {"s0": 20, "s1": 20}
    assert result["expected"] == 5 * 40
    assert result["delivered"] == result["expected"]
    for key in ("lost", "duplicated", "reordered", "corrupted", "errorCount"):
        assert result[key] == 0, key
    assert result["p50"] is not None


def test_window_mode_and_source_addresses(binary: Path, cepoll: int) -> None:
    settled, result = run(
        binary,
        cepoll,
        *("--clients", "20", "--senders", "4", "--duration", "0.5"),
        *("--rate", "0", "--window", "10", "--sources", "3"),
    )
    assert settled["loggedIn"] == 20
    assert result["delivered"] == result["expected"] > 0
    assert result["lost"] == result["duplicated"] == result["corrupted"] == 0


def scripted_server(
    listener: socket.socket, extra: list[bytes], done: threading.Event
) -> None:
    """
    Log in two clients (C{s0} and C{u0}) with a user list of 20,000 names
    (a line of about 160 KB, more than one read); pass C{s0}'s first line to
    C{u0} twice, then C{extra}, skip the second, pass the third.
    """
    names = ", ".join(["s0", "u0", *(f"n{i}" for i in range(19_998))])
    conns: dict[str, socket.socket] = {}
    for _ in range(2):
        conn, _address = listener.accept()
        conn.sendall(b">>> name: What's your name?\r\n")
        name = conn.recv(100).strip().decode()
        conn.sendall(
            f"=== Welcome to chat, {name}!\r\n"
            f"=== Users online (20000): {names}\r\n".encode()
        )
        conns[name] = conn
    data = b""
    conns["s0"].settimeout(10)
    while data.count(b"\n") < 3:
        chunk = conns["s0"].recv(4096)
        if not chunk:
            break
        data += chunk
    first, _second, third = data.split(b"\n")[:3]
    line = b"<s0> " + first + b"\r\n"
    conns["u0"].sendall(line + line + b"".join(extra) + b"<s0> " + third + b"\r\n")
    done.wait(20)
    for conn in conns.values():
        conn.close()


def test_verdicts_as_the_python_generator(binary: Path) -> None:
    corrupt = b"<s0> 0 1 yy 00000000"
    extra = [
        corrupt + b"\r\n",
        b"<s0> \xff\xfe\r\n",
        b"[2026-12-01 10:00:00Z id 5] <s0> said before\r\n",
        b"!!! something went wrong\r\n",
    ]
    verdicts = [classify(e.rstrip(b"\r\n"))[0] for e in extra]
    assert verdicts == [CORRUPT, CORRUPT, HISTORY, ERROR]
    with scripted(scripted_server, extra) as port:
        _settled, result = run(
            binary,
            port,
            *("--clients", "2", "--senders", "1", "--duration", "1"),
            *("--rate", "100", "--lines", "3", "--drain-timeout", "1"),
        )
    assert result["sent"] == {"s0": 3}
    assert result["expected"] == 3
    assert result["delivered"] == 3  # seq 0 twice, seq 2
    assert result["duplicated"] == 1
    assert result["lost"] == 1  # seq 1
    assert result["corrupted"] == 2
    assert result["history"] == 1
    assert result["errorCount"] == 1


def test_counting_receivers_count_exactly(binary: Path, cepoll: int) -> None:
    """
    With C{--check-every 4}, the senders, the acknowledger and every 4th
    receiver check every line; the others count bytes, and every line
    still counts once.
    """
    settled, result = run(
        binary,
        cepoll,
        *("--clients", "20", "--senders", "2", "--duration", "1", "--rate", "30"),
        *("--check-every", "4", "--check-all-below", "0", "--rcvlowat", "4096"),
    )
    assert settled["loggedIn"] == 20
    # s0, s1, then receivers 0, 4, 8, 12 and 16 of 18 (u0 acknowledges).
    assert (result["checking"], result["counting"]) == (7, 13)
    assert result["checkEvery"] == 4
    sent = sum(result["sent"].values())
    assert sent == 60
    assert result["countedDeliveries"] == 13 * sent
    assert result["checkedDeliveries"] == 5 * sent + 2 * 30
    assert result["delivered"] == result["expected"] == 19 * sent
    # "<s0> " + 8 + " " + 13 + " " + 20 + " " + 8 + "\r\n"
    assert result["lineBytes"] == 5 + 8 + 1 + 13 + 1 + 20 + 1 + 8 + 2
    for key in ("lost", "duplicated", "corrupted", "countMismatch", "errorCount"):
        assert result[key] == 0, key
    assert result["p50"] is not None


def test_everyone_checks_in_small_runs(binary: Path, cepoll: int) -> None:
    _settled, result = run(
        binary,
        cepoll,
        *("--clients", "10", "--senders", "2", "--duration", "0.5", "--rate", "20"),
        *("--check-every", "4", "--check-all-below", "64"),
    )
    assert (result["checking"], result["counting"]) == (10, 0)
    assert result["checkEvery"] == 1
    assert result["delivered"] == result["expected"] > 0


def counting_server(
    listener: socket.socket,
    relay: Callable[[list[bytes]], bytes],
    done: threading.Event,
) -> None:
    """
    Log in C{s0}, C{u0} and C{u1}; pass C{s0}'s three lines to C{u0} (which
    checks) as they are, and to C{u1} (which counts) what C{relay} makes of
    them.
    """
    conns: dict[str, socket.socket] = {}
    for _ in range(3):
        conn, _address = listener.accept()
        conn.sendall(b">>> name: What's your name?\r\n")
        name = conn.recv(100).strip().decode()
        conn.sendall(
            f"=== Welcome to chat, {name}!\r\n"
            f"=== Users online (3): s0, u0, u1\r\n".encode()
        )
        conns[name] = conn
    data = b""
    conns["s0"].settimeout(10)
    while data.count(b"\n") < 3:
        chunk = conns["s0"].recv(4096)
        if not chunk:
            break
        data += chunk
    lines = [b"<s0> " + line + b"\r\n" for line in data.split(b"\n")[:3]]
    conns["u0"].sendall(b"".join(lines))
    conns["u1"].sendall(relay(lines))
    done.wait(20)
    for conn in conns.values():
        conn.close()


@pytest.mark.parametrize(
    "relay, verdict",
    [
        (b"".join, {"countMismatch": 0}),
        (lambda lines: b"".join(lines[:2]), {"lost": 1}),
        (lambda lines: b"".join([*lines, lines[1]]), {"duplicated": 1}),
        (
            lambda lines: b"".join([*lines[:2], b"--> n1 has joined\r\n"]),
            {"lost": 1, "corrupted": 1},
        ),
    ],
    ids=["exact", "one-short", "one-extra", "wrong-bytes"],
)
def test_counting_receiver_mismatch(
    binary: Path, relay: Callable[[list[bytes]], bytes], verdict: dict[str, int]
) -> None:
    """
    A counting receiver that does not end with exactly one copy of every
    line, by its byte count, is an error (a mismatch), and what it lacks or
    has too much counts as lost, duplicated or corrupted.
    """
    with scripted(counting_server, relay) as port:
        _settled, result = run(
            binary,
            port,
            *("--clients", "3", "--senders", "1", "--duration", "1"),
            *("--rate", "100", "--lines", "3", "--drain-timeout", "1"),
            *("--check-every", "2", "--check-all-below", "0"),
        )
    assert (result["checking"], result["counting"]) == (2, 1)
    assert result["expected"] == 6
    assert result["checkedDeliveries"] == 3
    exact = verdict == {"countMismatch": 0}
    assert result["countMismatch"] == (0 if exact else 1)
    assert result["errorCount"] == (0 if exact else 1)
    if not exact:
        assert "u1: counted" in result["errors"][0]
    for key in ("lost", "duplicated", "corrupted"):
        assert result[key] == verdict.get(key, 0), key
    assert result["delivered"] == 6 - verdict.get("lost", 0)
