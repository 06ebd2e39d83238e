"""
The IRC door's factory: one per server, shared by every C{--irc} listener;
it also says how users of every door are shown (C{nick!user@host}, with the
door as the host) and which handler reads each command.
"""

from __future__ import annotations

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.doors.irc import commands, numerics, registration
from chatserver.doors.irc.codec import Codecs
from chatserver.doors.irc.masks import mask_of
from chatserver.doors.irc.message import Message
from chatserver.doors.irc.protocol import IrcProtocol
from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)


class IrcFactory(ServerFactory):
    """
    Builds an L{IrcProtocol} for each IRC connection.

    @ivar server: What every door of the server shares.
    @ivar serverName: The server's name on IRC (the prefix of its messages).
    @ivar codecs: The codecs, one per set of capabilities.
    @ivar pingInterval: Seconds of silence after which a client is pinged.
    @ivar pingTimeout: Seconds a pinged client has to answer.
    """

    noisy = False
    pingInterval = 90.0
    pingTimeout = 60.0

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.serverName = server.config.serverName.replace(" ", "-")
        self.codecs = Codecs(self.serverName, self.mask, server.clock.seconds)

    def buildProtocol(self, addr: IAddress | None) -> IrcProtocol:
        return IrcProtocol(self)

    def mask(self, name: str) -> str:
        """
        @return: The C{nick!user@host} of the user called C{name}.
        """
        user = self.server.realm.get(name)
        if user is None:
            return f"{name}!{name}@chat"
        return mask_of(user)

    def dispatch(self, connection: IrcProtocol, msg: Message) -> None:
        """
        Hand C{msg} to the handler of its command.
        """
        handler = registration.ANYTIME.get(msg.command)
        if handler is not None:
            handler(connection, msg)
            return
        command = commands.COMMANDS.get(msg.command)
        if command is None:
            connection.reply(
                numerics.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command"
            )
            return
        user = connection.user
        if user is None:
            connection.reply(numerics.ERR_NOTREGISTERED, "You have not registered")
            return
        command(connection, user, msg)
