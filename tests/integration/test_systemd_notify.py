"""
A real C{twistd chat} tells systemd it is ready and that it stops, through a
C{$NOTIFY_SOCKET} the test made.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from tests.integration.support import TIMEOUT, ChatServer


def test_twistd_chat_sends_ready_then_stopping_after_sigterm(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(path)
        systemd.settimeout(TIMEOUT)
        server = ChatServer(
            tmp_path,
            "--telnet",
            "tcp:0:interface=127.0.0.1",
            env={"NOTIFY_SOCKET": path},
        )
        try:
            assert systemd.recv(4096) == b"READY=1"
        finally:
            # It stops cleanly, then ends with the signal it got, as Twisted does.
            assert server.stop() in (0, -signal.SIGTERM)
        assert systemd.recv(4096) == b"STOPPING=1"
