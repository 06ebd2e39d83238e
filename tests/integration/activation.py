"""
Run a real C{twistd chat} under C{systemd-socket-activate}: it listens on
sockets made before it starts and is handed them as systemd would, and tells
systemd how it is doing through a C{$NOTIFY_SOCKET} the test made.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

from tests.integration.support import TIMEOUT, TWISTD, wait_for


def free_port() -> int:
    """
    @return: A port of 127.0.0.1 nobody listens on now
        (C{systemd-socket-activate} takes no port 0).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ActivatedServer:
    """
    C{systemd-socket-activate -l 127.0.0.1:PORT ... --fdname=NAME:...
    twistd -n chat OPTIONS}: one socket a name, started (and C{twistd}
    run) at the first connection to any of them.

    @ivar ports: The port of each socket, by its name.
    @ivar notifications: The socket C{$NOTIFY_SOCKET} names.
    """

    def __init__(self, directory: Path, names: list[str], *options: str) -> None:
        self.directory = directory
        self.logfile = directory / "twistd.log"
        self.ports = {name: free_port() for name in names}
        path = str(directory / "notify")
        self.notifications = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notifications.bind(path)
        self.notifications.settimeout(TIMEOUT)
        listen = [f"--listen=127.0.0.1:{port}" for port in self.ports.values()]
        self.process = subprocess.Popen(
            [
                "systemd-socket-activate",
                *listen,
                f"--fdname={':'.join(names)}",
                f"--setenv=NOTIFY_SOCKET={path}",
                TWISTD,
                "-n",
                "--logfile",
                str(self.logfile),
                "--pidfile",
                "",
                "chat",
                *options,
            ],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        for _ in names:
            line = self.process.stdout.readline()
            assert line.startswith(b"Listening on "), line

    def notification(self) -> bytes:
        """
        @return: The next notification the server sent.
        """
        return self.notifications.recv(4096)

    def log(self) -> str:
        try:
            return self.logfile.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, text: str) -> None:
        wait_for(lambda: text in self.log(), f"{text!r} in the log")

    def stop(self) -> int:
        """
        Stop the server with SIGTERM, as systemd would.

        @return: Its exit status.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.notifications.close()
