"""
Fixtures starting real servers for the integration tests.
"""

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.support import ChatServer


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ChatServer]]:
    """
    A function starting a C{twistd -n chat} with the given options; every
    server started is stopped at the end of the test.
    """
    servers: list[ChatServer] = []

    def start(*options: str, listeners: int = 1) -> ChatServer:
        directory = tmp_path / f"server{len(servers)}"
        directory.mkdir()
        server = ChatServer(directory, *options, listeners=listeners)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., ChatServer]) -> ChatServer:
    """
    A server with the default options, but no rate limit.
    """
    return start_server("--rate", "0")


@pytest.fixture
def cepoll(tmp_path: Path) -> Iterator[int]:
    """
    The benchmark's C epoll server, built into C{tmp_path} and started on a
    free port of 127.0.0.1 (given), killed at the end: it must not have
    exited before.
    """
    from bench.baselines.cbuild import build

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
