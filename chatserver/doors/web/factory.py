"""
The web door (C{--web}): its plugin.  Its factory is the twisted.web site
of L{chatserver.doors.web.resource}, imported only when the door is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.plugin import IPlugin
from zope.interface import implementer

from chatserver.doors.plugin import DoorOption, IChatDoor

if TYPE_CHECKING:
    from chatserver.doors.web.resource import ChatSite
    from chatserver.server import ChatServer

ORIGIN = "web-origin"


def check_origin(origin: str) -> str:
    """
    @return: C{origin}, an origin whose pages may use the WebSocket.
    @raise ValueError: If it is not one.
    """
    if "://" not in origin:
        raise ValueError("an origin is SCHEME://HOST[:PORT]")
    return origin


@implementer(IPlugin, IChatDoor)
class WebDoor:
    """
    The web door: C{--web}, the chat page and its WebSocket, with its own
    option C{--web-origin}.
    """

    name = "web"
    description = (
        "Endpoint to serve the chat page (/) and its WebSocket (/ws) on, "
        "such as tcp:8080 or ssl:8443:privateKey=server.pem."
    )
    options = (
        DoorOption(
            ORIGIN,
            "An origin (https://chat.example.org) whose pages may use the "
            "WebSocket; repeatable [default: the page's own origin].",
            coerce=check_origin,
            repeatable=True,
        ),
    )

    def makeFactory(self, server: ChatServer) -> ChatSite:
        from chatserver.doors.web.resource import web_site

        return web_site(server, list(server.doorOptions.get(ORIGIN, ())))

    def refusal(self, why: str) -> bytes:
        from chatserver.doors.web.resource import refusal

        return refusal(why)


door = WebDoor()
