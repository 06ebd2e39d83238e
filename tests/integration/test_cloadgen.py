"""
The compiled load generator of the benchmark (C{bench/cloadgen.c}): it
builds with the system C compiler under C{-Wall -Wextra -Werror}, counts
every line exactly once against the C epoll server, and gives the verdicts
of the Python generator (C{bench/loadgen.py}) on duplicated, lost,
corrupted, history and error lines sent by a scripted server.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
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


@pytest.fixture
def cepoll(tmp_path: Path) -> Iterator[int]:
    server = cbuild.build(tmp_path)
    log = tmp_path / "cepoll.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(server), "0"], stdout=out, stderr=subprocess.STDOUT
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
    finally:
        proc.kill()
        proc.wait()


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
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    done = threading.Event()
    thread = threading.Thread(
        target=scripted_server, args=(listener, extra, done), daemon=True
    )
    thread.start()
    try:
        _settled, result = run(
            binary,
            listener.getsockname()[1],
            *("--clients", "2", "--senders", "1", "--duration", "1"),
            *("--rate", "100", "--lines", "3", "--drain-timeout", "1"),
        )
    finally:
        done.set()
        thread.join(5)
        listener.close()
    assert result["sent"] == {"s0": 3}
    assert result["expected"] == 3
    assert result["delivered"] == 3  # seq 0 twice, seq 2
    assert result["duplicated"] == 1
    assert result["lost"] == 1  # seq 1
    assert result["corrupted"] == 2
    assert result["history"] == 1
    assert result["errorCount"] == 1
