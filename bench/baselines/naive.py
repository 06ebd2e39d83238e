"""
The naive Twisted chat server, as in Twisted's own howto: a C{LineReceiver},
a dict of users, and C{sendLine} to each recipient with the line formatted
and encoded per recipient.  No limits, no flow control.

It speaks the same lines as C{chatserver}, so the load generator drives it
unchanged.

Run: C{python -m bench.baselines.naive [PORT]}; it prints
C{listening on 127.0.0.1:PORT}.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import reactor
from twisted.internet.protocol import ServerFactory
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure


class Chat(LineReceiver):
    delimiter = b"\n"

    def __init__(self, users: dict[str, Chat]) -> None:
        self.users = users
        self.name = ""

    def connectionMade(self) -> None:
        self.sendLine(b"-!- Welcome to chat. Type /help for help.\r")
        self.sendLine(b">>> name: What's your name?\r")

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self.name in self.users:
            del self.users[self.name]
            for user in self.users.values():
                user.sendLine(f"<-- {self.name} has left\r".encode())

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r")
        if not self.name:
            self.handleName(text.strip())
        else:
            self.handleChat(text)

    def handleName(self, name: str) -> None:
        if not name:
            return
        if name in self.users:
            self.sendLine(f"!!! the name {name} is taken\r".encode())
            return
        self.name = name
        self.users[name] = self
        self.sendLine(f"=== Welcome to chat, {name}!\r".encode())
        names = sorted(self.users, key=str.casefold)
        self.sendLine(f"=== Users online ({len(names)}): {', '.join(names)}\r".encode())
        for user in self.users.values():
            if user is not self:
                user.sendLine(f"--> {name} has joined\r".encode())

    def handleChat(self, text: str) -> None:
        if not text:
            return
        for user in self.users.values():
            if user is not self:
                user.sendLine(f"<{self.name}> {text}\r".encode())


class ChatFactory(ServerFactory):
    noisy = False

    def __init__(self) -> None:
        self.users: dict[str, Chat] = {}

    def buildProtocol(self, addr: object) -> Chat:
        return Chat(self.users)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    listening = reactor.listenTCP(
        port, ChatFactory(), backlog=4096, interface="127.0.0.1"
    )
    host: Any = listening.getHost()
    print(f"listening on 127.0.0.1:{host.port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
