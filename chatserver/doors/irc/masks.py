"""
How users of every door are shown on IRC: C{nick!user@host}, with the door
they came through as the host (C{bob!bob@line}, C{alice!~alice@irc}).
"""

from __future__ import annotations

from chatserver.core.users import ChatUser


def door_of(user: ChatUser) -> str:
    """
    @return: The door C{user} came through (C{irc}, C{line}, C{telnet}).
    """
    return str(getattr(user.mind, "door", "chat"))


def ident_of(user: ChatUser) -> str:
    """
    @return: The user part of C{user}'s mask: C{~} and what C{USER} said
        for IRC users, the name for the others.
    """
    ident = getattr(user.mind, "ident", "")
    return f"~{ident}" if ident else user.name


def realname_of(user: ChatUser) -> str:
    realname = getattr(user.mind, "realname", "")
    return str(realname) if realname else f"{door_of(user)} user"


def mask_of(user: ChatUser) -> str:
    return f"{user.name}!{ident_of(user)}@{door_of(user)}"
