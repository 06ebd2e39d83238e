"""
The IRC door (C{--irc}): its plugin, and its factory, one per server,
shared by every C{--irc} listener;
it also says how users of every door are shown (C{nick!user@host}, with the
door as the host) and which handler reads each command.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from twisted.plugin import IPlugin
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.core.users import ChatUser
from chatserver.doors.irc import message, table
from chatserver.doors.irc.codec import Codecs
from chatserver.doors.irc.masks import mask_of
from chatserver.doors.irc.message import Message
from chatserver.doors.irc.protocol import IrcProtocol
from chatserver.doors.plugin import IChatDoor
from chatserver.server import ChatServer
from chatwire.names import name_key

log = Logger(namespace=LOG_NAMESPACE)


def refusal(why: str) -> bytes:
    """
    @return: What a connection to the IRC door that the admission refuses
        is told: C{ERROR}, as a closing link.
    """
    return message.encode("ERROR", f"Closing link: {why}")


@implementer(IPlugin, IChatDoor)
class IrcDoor:
    """
    The IRC door: C{--irc}.
    """

    name = "irc"
    description = (
        "Endpoint to listen on for IRC clients, such as tcp:6667 or "
        "ssl:6697:privateKey=server.pem: the same chat, over IRC (RFC 1459 "
        "and 2812, with IRCv3)."
    )

    refusal = staticmethod(refusal)

    def makeFactory(self, server: ChatServer) -> IrcFactory:
        return IrcFactory(server)


door = IrcDoor()


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
    maxMasks = 4096
    """
    How many masks of users IRC clients were shown are remembered, for
    those users' C{QUIT} and C{NICK}, sent when they are gone (or renamed)
    from the realm.
    """

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self._masks: OrderedDict[str, str] = OrderedDict()
        self.serverName = server.config.serverName.replace(" ", "-")
        self.codecs = Codecs(
            self.serverName,
            self.mask,
            server.clock.seconds,
            account=self.account,
            realname=self.realname,
        )

    def buildProtocol(self, addr: IAddress | None) -> IrcProtocol:
        return IrcProtocol(self)

    def account(self, name: str) -> str | None:
        """
        @return: The account of the user called C{name}, or L{None} for a
            guest or a user not online (a user of another node has the
            account it logged in to).
        """
        user = self.server.realm.lookup(name)
        return None if user is None else user.account

    def realname(self, name: str) -> str:
        """
        @return: The real name of the user called C{name} (its name, for a
            user of another door or node).
        """
        user = self.server.realm.get(name)
        if user is None or not user.mind.realname:
            return name
        return str(user.mind.realname)

    def mask(self, name: str) -> str:
        """
        @return: The C{nick!user@host} of the user called C{name}.
        """
        key = name_key(name)
        user = self.server.realm.get(name)
        if user is None:
            # Gone (a QUIT) or renamed (a NICK): as it was last shown.
            known = self._masks.get(key)
            return known if known is not None else f"{name}!{name}@chat"
        mask = mask_of(user)
        self._keep(key, mask)
        return mask

    def remember(self, users: Iterable[ChatUser]) -> None:
        """
        Remember the masks of C{users}, shown to an IRC client in a NAMES
        reply, for when they are gone.
        """
        for user in users:
            self._keep(user.key, mask_of(user))

    def _keep(self, key: str, mask: str) -> None:
        masks = self._masks
        masks[key] = mask
        masks.move_to_end(key)
        while len(masks) > self.maxMasks:
            masks.popitem(last=False)

    def dispatch(self, connection: IrcProtocol, msg: Message) -> None:
        """
        Hand C{msg} to the handler of its command (L{table.dispatch}).
        """
        table.dispatch(connection, msg)
