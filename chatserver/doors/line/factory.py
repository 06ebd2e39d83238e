"""
The line door (C{--port}, the default door): its plugin, and its factory,
one per server, shared by every C{--port} listener.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import ServerFactory
from twisted.plugin import IPlugin
from zope.interface import implementer

from chatserver.doors.line.codec import LineCodec
from chatserver.doors.line.protocol import ChatProtocol
from chatserver.doors.plugin import IChatDoor
from chatserver.server import ChatServer
from chatwire import lines

_codecs: WeakKeyDictionary[ChatServer, LineCodec] = WeakKeyDictionary()


def line_codec(server: ChatServer) -> LineCodec:
    """
    @return: The line door's codec for C{server}, one per server: the
        C{--port} and C{--telnet} listeners' users share it, so an event is
        encoded once for all of them (see L{chatserver.core.fanout}).
    """
    codec = _codecs.get(server)
    if codec is None:
        codec = _codecs[server] = LineCodec(server.config.defaultRoom)
    return codec


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
        self.codec = line_codec(server)

    def buildProtocol(self, addr: IAddress | None) -> ChatProtocol:
        return ChatProtocol(self)


def refusal(why: str) -> bytes:
    """
    @return: What a connection to the line door (or its telnet listeners)
        that the admission refuses is told: one error line.
    """
    return lines.encode(lines.Error(why))


@implementer(IPlugin, IChatDoor)
class LineDoor:
    """
    The line door, for nc, scripts and the Tk client: C{--port} (or C{-p}),
    listened on at C{tcp:8123} when no door at all is given.
    """

    name = "port"
    shortName = "p"
    kind = ""
    defaultEndpoint = "tcp:8123"
    description = (
        "Endpoint to listen on, such as tcp:8123:interface=127.0.0.1 or "
        "ssl:8124:privateKey=server.pem."
    )

    refusal = staticmethod(refusal)

    def makeFactory(self, server: ChatServer) -> LineFactory:
        return LineFactory(server)


door = LineDoor()
