"""
The line door's factory: one per server, shared by every C{--port} (and
C{--telnet}) listener.
"""

from __future__ import annotations

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import ServerFactory

from chatserver.doors.line.codec import LineCodec
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.server import ChatServer
from chatwire import lines


class LineFactory(ServerFactory):
    """
    Builds a L{ChatProtocol} for each connection of the line door.

    @ivar server: What every door of the server shares.
    @ivar codec: How the chat's events are written as server lines.
    """

    protocol = ChatProtocol
    noisy = False

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.codec = LineCodec(server.config.defaultRoom)

    def buildProtocol(self, addr: IAddress | None) -> ChatProtocol:
        return ChatProtocol(self)


def refusal(why: str) -> bytes:
    """
    @return: What a connection to the line door (or its telnet listeners)
        that the admission refuses is told: one error line.
    """
    return lines.encode(lines.Error(why))
