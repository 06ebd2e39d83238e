"""
Who the console acts as: a server operator called C{console}, logged in
nowhere, so that what the console does goes through the core's own
operations (their checks, their log lines, what the rooms are told).
"""

from __future__ import annotations

from zope.interface import implementer

from chatserver.core.minds import IMind
from chatserver.core.realm import ChatRealm
from chatserver.core.users import ChatUser

NAME = "console"
"""
The name the console's actions are logged and told under.
"""


@implementer(IMind)
class ConsoleMind:
    """
    The console's side of its actor: it is in no room, so nothing is ever
    delivered to it.
    """

    codec = None
    door = ""
    ident = ""
    realname = ""
    echoes = False
    joinsDefaultRoom = False
    lastActive = 0.0
    closing = False
    peer = "the console"

    def deliver(self, data: bytes) -> None:
        pass

    def disconnect(self, reason: str) -> None:
        pass


def console_actor(realm: ChatRealm) -> ChatUser:
    """
    @return: A server operator called L{NAME} of C{realm}, not logged in
        (nobody sees it online).
    """
    actor = ChatUser(realm, NAME, ConsoleMind(), realm.now())
    actor.serverOperator = True
    return actor
