"""
How users of every door are shown on IRC: C{nick!user@host}, with the door
they came through as the host (C{bob!bob@line}, C{alice!~alice@irc}).
"""

from __future__ import annotations

from chatserver.core.remote import RemoteUser
from chatserver.core.users import ChatUser
from chatserver.core.wildcard import Mask

Someone = ChatUser | RemoteUser
"""
A user of this node or (in a cluster) of another: a remote user carries what
its node told of its door.
"""


def door_of(user: Someone) -> str:
    """
    @return: The door C{user} came through (C{irc}, C{line}, C{telnet}).
    """
    door = user.mind.door if isinstance(user, ChatUser) else user.door
    return str(door) or "chat"


def ident_of(user: Someone) -> str:
    """
    @return: The user part of C{user}'s mask: C{~} and what C{USER} said
        for IRC users, the name for the others.
    """
    ident = user.mind.ident if isinstance(user, ChatUser) else user.ident
    return f"~{ident}" if ident else user.name


def realname_of(user: Someone) -> str:
    realname = user.mind.realname if isinstance(user, ChatUser) else user.realname
    return str(realname) if realname else f"{door_of(user)} user"


def mask_of(user: Someone) -> str:
    return f"{user.name}!{ident_of(user)}@{door_of(user)}"


def who_matches(mask: Mask, user: Someone) -> bool:
    """
    @return: Whether a C{WHO} mask matches C{user}'s nick, user, host,
        full mask or real name (RFC 2812 3.6.1).
    """
    fields = (
        user.name,
        ident_of(user),
        door_of(user),
        mask_of(user),
        realname_of(user),
    )
    return any(mask.matches(field) for field in fields)
