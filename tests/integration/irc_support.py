"""
A blocking IRC client on a real socket, for the conformance tests.
"""

from __future__ import annotations

import socket

from chatserver.doors.irc.message import Message, parse
from tests.integration.support import TIMEOUT


class IrcSocket:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self._buffer = b""

    def send(self, line: str | bytes) -> None:
        if isinstance(line, str):
            line = line.encode("utf-8") + b"\r\n"
        self.sock.sendall(line)

    def message(self) -> Message:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed ({self._buffer!r})"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return parse(line.decode("utf-8"))

    def expect(self, command: str) -> Message:
        """
        Read messages until one is C{command}; answer PINGs on the way.
        """
        for _ in range(1000):
            msg = self.message()
            if msg.command == command:
                return msg
        raise AssertionError(f"no {command}")

    def until(self, *commands: str) -> list[Message]:
        """
        @return: The messages up to and including the next of C{commands}.
        """
        got = []
        for _ in range(1000):
            msg = self.message()
            got.append(msg)
            if msg.command in commands:
                return got
        raise AssertionError(f"no {commands}")

    def register(self, nick: str, *caps: str, join: str = "") -> list[Message]:
        """
        Register C{nick} with C{caps}: up to the end of the MOTD (or 422);
        then join C{join} if given (an IRC user starts in no room).
        """
        if caps:
            self.send("CAP LS 302")
            self.expect("CAP")
            self.send(f"CAP REQ :{' '.join(caps)}")
            assert self.expect("CAP").params[1] == "ACK"
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :{nick}")
        if caps:
            self.send("CAP END")
        got = self.until("376", "422")
        if join:
            self.send(f"JOIN {join}")
            got += self.until("366")
        return got

    def closed(self) -> bool:
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()
