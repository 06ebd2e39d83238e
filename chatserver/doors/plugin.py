"""
Doors as plugins: a door is an object providing L{IChatDoor}, found with
L{twisted.plugin.getPlugins} in the C{twisted/plugins/} folder of any
installed package (or any folder on C{sys.path}), as twistd finds its
L{twisted.application.service.IServiceMaker}s.  The line, telnet, IRC and
web doors are such plugins themselves (C{twisted/plugins/chat_doors_*.py});
see C{docs/doors.md}.

C{twistd chat} gives every door found an option C{--NAME ENDPOINT},
repeatable, and listens on each endpoint given with the door's factory
behind the server's admission (L{chatserver.limits.gate}): every door shares
the chat and its limits, and none can forget them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from twisted.plugin import getPlugins
from zope.interface import Attribute, Interface

from chatserver import LOG_NAMESPACE
from chatserver.limits.gate import no_refusal

if TYPE_CHECKING:
    from twisted.internet.interfaces import IProtocolFactory

    from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)

DOOR_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
"""
What a door's name may be: it is its option, C{--NAME}.
"""


class IChatDoor(Interface):
    """
    A way into the chat: a wire protocol and its listeners.

    A plugin object provides this and L{twisted.plugin.IPlugin}.  Besides
    the three members below, it may have these, each optional (read only by
    L{refusal_of}, L{options_of}, L{default_endpoint_of}, L{kind_of} and
    L{short_name_of}):

      - C{refusal(why: str) -> bytes}: what a connection the admission
        refuses (server full, stopping, address over its limits) is told, in
        the door's words, before it is closed; by default nothing.
      - C{options}: a sequence of L{DoorOption}, extra options of
        C{twistd chat} for this door alone (the web door's
        C{--web-origin}); their values reach the door as
        C{server.doorOptions[NAME]}.
      - C{defaultEndpoint}: an endpoint listened on when no door at all is
        given on the command line (the line door's C{tcp:8123}).
      - C{kind}: the word the log puts before each listener's endpoint
        (C{Chat server listening on ADDRESS (KIND DESCRIPTION)}); the name
        by default, empty for none.
      - C{shortName}: a one-letter option for C{--NAME} (the line door's
        C{-p}).
    """

    name = Attribute(
        "The door's name, lower case letters, digits and '-': its option "
        "--NAME ENDPOINT, repeatable."
    )
    description = Attribute("One line saying what the door is, for --help.")

    def makeFactory(server: ChatServer) -> IProtocolFactory:
        """
        Make the factory of this door's connections.  It is called once per
        server when the door is given, and the factory is shared by every
        endpoint the door listens on, each behind the server's admission.

        @param server: What every door shares: the chat (C{server.realm},
            C{server.portal}), the settings (C{server.config}), the clock
            and the limits (C{server.bucket}, C{server.loginThrottle}).
        """


@dataclass(frozen=True)
class DoorOption:
    """
    An option of C{twistd chat} that a door adds for itself.

    @ivar name: The option, C{--NAME}.
    @ivar help: What it does, for C{--help}.
    @ivar default: Its value when not given; a repeatable option's is the
        empty list.
    @ivar coerce: Turns the text given into the value, or raises
        L{ValueError} saying why the text is wrong (shown as
        C{--NAME 'TEXT': WHY}).
    @ivar repeatable: Whether the option may be given many times: its
        value is then the list of the values given.
    """

    name: str
    help: str
    default: Any = None
    coerce: Callable[[str], Any] = str
    repeatable: bool = False


def refusal_of(door: IChatDoor) -> Callable[[str], bytes]:
    """
    @return: How a refusal reads on C{door}'s wire (its C{refusal}), or
        nothing.
    """
    refusal: Callable[[str], bytes] = getattr(door, "refusal", no_refusal)
    return refusal


def options_of(door: IChatDoor) -> Sequence[DoorOption]:
    """
    @return: The options C{door} adds to C{twistd chat}.
    """
    return tuple(getattr(door, "options", ()))


def default_endpoint_of(door: IChatDoor) -> str | None:
    """
    @return: The endpoint C{door} listens on when no door is given, if any.
    """
    default: str | None = getattr(door, "defaultEndpoint", None)
    return default


def kind_of(door: IChatDoor) -> str:
    """
    @return: What the log puts before the endpoints of C{door}.
    """
    return str(getattr(door, "kind", door.name))


def short_name_of(door: IChatDoor) -> str | None:
    """
    @return: C{door}'s one-letter option, if it has one.
    """
    short: str | None = getattr(door, "shortName", None)
    return short


def find_doors() -> list[IChatDoor]:
    """
    Find every door installed: the objects providing L{IChatDoor} in the
    C{twisted/plugins/} folders on C{sys.path}.  A door whose name is not
    an option name, or is another door's already, is left out with a
    warning.

    @return: The doors, those with a default endpoint first, then by name.
    """
    doors: dict[str, IChatDoor] = {}
    for door in getPlugins(IChatDoor):
        name = getattr(door, "name", None)
        if not isinstance(name, str) or not DOOR_NAME.fullmatch(name):
            log.warn("Door {door!r} left out: bad name {name!r}", door=door, name=name)
        elif name in doors:
            if doors[name] is not door:
                log.warn(
                    "Door {door!r} left out: --{name} is taken", door=door, name=name
                )
        else:
            doors[name] = door
    return sorted(
        doors.values(),
        key=lambda door: (default_endpoint_of(door) is None, door.name),
    )
