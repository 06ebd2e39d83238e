"""
A real C{redis-server} on 127.0.0.1, on a port of its own, for the cluster's
tests: started and stopped by PID, restartable on the same port.
"""

from __future__ import annotations

import shutil
import signal
import socket
import ssl
import subprocess
from pathlib import Path
from typing import BinaryIO

from tests.integration.support import TIMEOUT, wait_for


def free_port() -> int:
    """
    @return: A TCP port on 127.0.0.1 that nothing listens on now.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """
    A C{redis-server} process without persistence, as the cluster's tests
    start it.

    @ivar url: The C{--cluster} URL that reaches it.
    """

    def __init__(
        self,
        directory: Path,
        *options: str,
        password: str | None = None,
        tls: tuple[Path, Path, Path] | None = None,
        port: int | None = None,
    ) -> None:
        """
        @param port: Its port; a free one by default.
        @param password: The password it asks for (C{requirepass}).
        @param tls: Its key, its certificate, and the certificate clients
            are to trust: it then speaks TLS only (C{rediss://}).
        """
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed (scripts/test does)"
        self.binary = binary
        self.directory = directory
        self.password = password
        self.tls = tls
        self.port = free_port() if port is None else port
        self.options = list(options)
        auth = ""
        if password is not None:
            self.options += ["--requirepass", password]
            auth = f":{password}@"
        self.url = f"redis://{auth}127.0.0.1:{self.port}"
        if tls is not None:
            key, certificate, trusted = tls
            self.options += [
                "--tls-port",
                str(self.port),
                "--tls-key-file",
                str(key),
                "--tls-cert-file",
                str(certificate),
                "--tls-auth-clients",
                "no",
            ]
            self.url = f"rediss://{auth}127.0.0.1:{self.port}?ca={trusted}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        """
        Start it (again), on its port, empty.
        """
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                "0" if self.tls is not None else str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, "redis-server to answer")

    def answers(self) -> bool:
        """
        @return: Whether it answers a PING.
        """
        try:
            if self.password is not None:
                return self.command("AUTH", self.password, "PING") == b"+OK"
            return self.command("PING") == b"+PONG"
        except OSError:
            return False

    def command(self, *words: str) -> bytes:
        """
        Send one command and return the first line of its reply (for
        inspecting the cluster's keys); C{"AUTH", PASSWORD, ...} first
        authenticates.
        """
        request = b""
        if words[0] == "AUTH":
            request = _command(words[:2])
            words = words[2:]
        request += _command(words)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as plain:
            sock = plain
            if self.tls is not None:
                context = ssl.create_default_context(cafile=str(self.tls[2]))
                sock = context.wrap_socket(plain, server_hostname="127.0.0.1")
            sock.sendall(request)
            reply = b""
            while b"\r\n" not in reply:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0]

    def call(self, *words: object) -> object:
        """
        Send one command (plain Redis only) and return its whole reply:
        C{str}, C{int}, L{None} or a list of them; an error reply raises
        L{RedisReplyError}.
        """
        request = _command(tuple(str(word) for word in words))
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            if self.password is not None:
                sock.sendall(_command(("AUTH", self.password)))
                _read_reply(sock.makefile("rb"))
            sock.sendall(request)
            return _read_reply(sock.makefile("rb"))

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """
        Stop it, by its PID.
        """
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.process = None


def _command(words: tuple[str, ...]) -> bytes:
    request = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        request += b"$%d\r\n%s\r\n" % (len(data), data)
    return request


class RedisReplyError(Exception):
    """
    Redis answered with an error.
    """


def _read_reply(reader: BinaryIO) -> object:
    line = reader.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RedisReplyError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        if int(rest) < 0:
            return None
        data = reader.read(int(rest) + 2)[:-2]
        return data.decode()
    if kind == b"*":
        if int(rest) < 0:
            return None
        return [_read_reply(reader) for _ in range(int(rest))]
    raise AssertionError(f"not a Redis reply: {line!r}")
