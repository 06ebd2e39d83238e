"""
Run a real C{twistd chat} and talk to it over real sockets.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from chatwire import lines

BIN = Path(sys.executable).parent
TWISTD = str(BIN / "twistd")
TIMEOUT = 15.0


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = TIMEOUT
) -> object:
    """
    Poll C{condition} until it returns something true, or fail after
    C{timeout} seconds.  Only for waiting on other processes.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def listening_ports(log: str) -> list[int]:
    """
    @return: The ports a chat server's log says it listens on.
    """
    return [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+)", log)]


def web_ports(log: str) -> list[int]:
    """
    @return: The ports a chat server's log says it serves the web door on
        (C{--web}).
    """
    return [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+) \(web ", log)]


def telnet_ports(log: str) -> list[int]:
    """
    @return: The ports a chat server's log says it listens on for telnet
        (C{--telnet}).
    """
    return [
        int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+) \(telnet ", log)
    ]


def irc_ports(log: str) -> list[int]:
    """
    @return: The ports a chat server's log says it listens on for IRC
        (C{--irc}).
    """
    return [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+) \(irc ", log)]


class ChatServer:
    """
    A C{twistd -n chat} process listening on 127.0.0.1 (on ports the kernel
    picks), logging to a file.
    """

    def __init__(
        self,
        directory: Path,
        *options: str,
        listeners: int = 1,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """
        @param env: Variables to add to the server's environment.
        """
        self.directory = directory
        self.logfile = directory / "twistd.log"
        ports: list[str] = []
        for _ in range(listeners):
            ports += ["--port", "tcp:0:interface=127.0.0.1"]
        self.process = subprocess.Popen(
            [
                TWISTD,
                "-n",
                "--logfile",
                str(self.logfile),
                "--pidfile",
                "",
                "chat",
                *ports,
                *options,
            ],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env} if env is not None else None,
        )
        expected = listeners + list(options).count("--port")
        expected += list(options).count("--telnet")
        expected += list(options).count("--irc")
        expected += list(options).count("--web")
        found = wait_for(
            lambda: self._listening(expected) or self._failed(),
            "the server to listen",
        )
        assert isinstance(found, list), found
        self.ports: list[int] = found
        self.port = found[0]
        self.telnetPorts = telnet_ports(self.log())
        self.ircPorts = irc_ports(self.log())
        self.webPorts = web_ports(self.log())

    def _listening(self, count: int) -> list[int] | None:
        ports = listening_ports(self.log())
        return ports if len(ports) >= count else None

    def _failed(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"twistd exited: {self.log()}")
        return False

    def log(self) -> str:
        try:
            return self.logfile.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern: str) -> None:
        wait_for(lambda: re.search(pattern, self.log()), f"{pattern!r} in the log")

    def stop(self) -> int:
        """
        Stop the server with SIGTERM, as an operator would.

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

    def connect(self, port: int | None = None) -> Client:
        return Client(port or self.port)

    def login(self, name: str) -> Client:
        client = self.connect()
        client.expect(lines.Prompt)
        client.send(name)
        client.expect(lines.Welcome)
        client.expect(lines.UserList)
        return client


class Client:
    """
    A blocking line client on a real socket.
    """

    def __init__(
        self, port: int, receiveBuffer: int | None = None, source: str = ""
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            self.sock.bind((source, 0))  # another loopback address, 127.0.0.2
        if receiveBuffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receiveBuffer)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        self._buffer = b""

    def send(self, text: str | bytes) -> None:
        if isinstance(text, str):
            text = text.encode("utf-8") + b"\r\n"
        self.sock.sendall(text)

    def readline(self) -> bytes:
        """
        @return: The next line, with its line end; C{b""} at end of stream.
        """
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def event(self) -> lines.Event:
        line = self.readline()
        assert line.endswith(b"\r\n"), f"connection closed ({line!r})"
        return lines.parse(line)

    def expect(self, wanted: type | lines.Event) -> lines.Event:
        """
        Read lines until one is C{wanted} (an event, or a kind of event).

        @return: The event read.
        """
        skipped = []
        while True:
            event = self.event()
            if event == wanted or (
                isinstance(wanted, type) and isinstance(event, wanted)
            ):
                return event
            skipped.append(event)
            assert len(skipped) < 10_000, skipped[-5:]

    def events_until_closed(self) -> list[lines.Event]:
        events: list[lines.Event] = []
        while True:
            line = self.readline()
            if not line:
                return events
            events.append(lines.parse(line))

    def close(self) -> None:
        self.sock.close()


def run(
    argv: Sequence[str],
    cwd: Path | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """
    Run a command to its end, with a time limit.

    @param env: The environment; this process's by default.
    """
    return subprocess.run(
        argv,
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**(os.environ if env is None else env), "PYTHONDONTWRITEBYTECODE": "1"},
    )


class Terminal:
    """
    A program running in a detached tmux session on a private tmux server.
    """

    def __init__(self, command: str, utf8: bool = False) -> None:
        """
        @param utf8: Run tmux and C{command} in a UTF-8 locale, so that
            typed non-ASCII characters reach C{command} as UTF-8.
        """
        self.socket = f"chat-test-{os.getpid()}-{id(self)}"
        self._env = (
            {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"} if utf8 else None
        )
        self._utf8 = ["-u"] if utf8 else []
        # The pane outlives the program, so its last words can still be read.
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "50",
            f"{command}; sleep 60",
        )

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *self._utf8, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            env=self._env,
        ).stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)
        self._tmux("send-keys", "-t", "t", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str) -> str:
        found = wait_for(lambda: text in self.screen() and self.screen(), repr(text))
        return str(found)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            capture_output=True,
            check=False,
            timeout=10,
        )


# Rooms and history


def history_page(client: Client, room: str | None = None) -> list[lines.History]:
    """
    Read one page of history: the next lines must be L{lines.History} lines
    and then their L{lines.HistoryEnd}, every one marked with C{room} (or
    none marked, for L{None}).

    @return: The history lines, in the order read.
    """
    kept: list[lines.History] = []
    while True:
        event = client.event()
        if room is not None:
            assert isinstance(event, lines.InRoom), event
            assert event.room == room, event
            event = event.line
        if isinstance(event, lines.HistoryEnd):
            assert event.count == len(kept), (event, kept)
            return kept
        assert isinstance(event, lines.History), event
        kept.append(event)


def pid_alive(pid: int) -> bool:
    """
    @return: Whether the process C{pid} runs (a zombie does not).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
