"""
Fixtures starting real servers for the integration tests.
"""

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
