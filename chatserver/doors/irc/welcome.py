"""
What a client is sent once registered: 001 to 005 (with ISUPPORT), the
MOTD.  Unlike the other doors' users, an IRC user starts in no room: it
joins channels itself, as on any IRC server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.core.events import Joined, ReadMarked
from chatserver.core.moderation.modes import FLAGS
from chatserver.core.moderation.roles import PREFIXES, ROLES
from chatserver.doors.irc import caps, numerics
from chatwire.names import MAX_NAME_LENGTH, MAX_ROOM_NAME_LENGTH, name_key
from chatwire.text import MAX_REASON_LENGTH, MAX_TOPIC_LENGTH

if TYPE_CHECKING:
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.protocol import IrcProtocol

VERSION = "chatserver-irc-1"
CHATHISTORY_MAX = 100
"""
The most messages one C{CHATHISTORY} request returns.
"""


USER_MODES = "io"
CHANNEL_MODES = "biklmnostv"


def isupport(connection: IrcProtocol) -> list[str]:
    config = connection.config
    return [
        f"AWAYLEN={MAX_REASON_LENGTH}",
        "CASEMAPPING=rfc8265",
        f"CHANLIMIT=#:{config.maxRoomsPerUser}",
        # b lists bans (and m: mutes), k takes a key, l a limit when set.
        f"CHANMODES=b,k,l,{FLAGS}",
        f"CHANNELLEN={MAX_ROOM_NAME_LENGTH + 1}",
        "CHANTYPES=#",
        f"CHATHISTORY={CHATHISTORY_MAX}",
        "ELIST=MNU",
        "EXTBAN=,m",
        "MSGREFTYPES=msgid,timestamp",
        f"NETWORK={connection.serverName}",
        "MODES=6",
        f"NICKLEN={MAX_NAME_LENGTH}",
        "PREFIX=(ov)@+",
        "SAFELIST",
        # The commands that take a comma-separated list, with no other limit
        # than the line's length.
        "TARGMAX=JOIN:,KICK:,NAMES:,NOTICE:,PART:,PRIVMSG:,TAGMSG:,WHOIS:",
        f"TOPICLEN={MAX_TOPIC_LENGTH}",
        "UTF8ONLY",
    ]


def greet(connection: IrcProtocol, user: ChatUser) -> None:
    name, server = user.name, connection.serverName
    reply = connection.reply
    reply(numerics.RPL_WELCOME, f"Welcome to the {server} IRC network, {name}")
    reply(numerics.RPL_YOURHOST, f"Your host is {server}, running version {VERSION}")
    reply(numerics.RPL_CREATED, "This server was created for a group chat")
    reply(numerics.RPL_MYINFO, server, VERSION, USER_MODES, CHANNEL_MODES, "bklov")
    tokens = isupport(connection)
    for start in range(0, len(tokens), 12):
        reply(
            numerics.RPL_ISUPPORT,
            *tokens[start : start + 12],
            "are supported by this server",
        )
    motd(connection)
    # An IRC user joins no room at login (IrcProtocol.joinsDefaultRoom);
    # should a realm put it in some, the client hears of them as joins.
    for room in user.rooms:
        connection.send(connection.codec.encode(Joined(room.name, name), None))
        show_room(connection, room, user)
        replay(connection, user, room)


def motd(connection: IrcProtocol) -> None:
    text = connection.config.motd
    if not text:
        connection.reply(numerics.ERR_NOMOTD, "MOTD File is missing")
        return
    connection.reply(
        numerics.RPL_MOTDSTART, f"- {connection.serverName} Message of the day - "
    )
    for line in text.splitlines():
        connection.reply(numerics.RPL_MOTD, f"- {line}")
    connection.reply(numerics.RPL_ENDOFMOTD, "End of /MOTD command.")


def topic(connection: IrcProtocol, room: Room, always: bool = True) -> None:
    """
    Send C{room}'s topic (332 and 333), or 331 when it has none and
    C{always}.
    """
    if room.topic:
        connection.reply(numerics.RPL_TOPIC, room.name, room.topic)
        connection.reply(
            numerics.RPL_TOPICWHOTIME,
            room.name,
            connection.ircFactory.mask(room.topicSetter),
            str(int(room.topicTime)),
        )
    elif always:
        connection.reply(numerics.RPL_NOTOPIC, room.name, "No topic is set")


def names(connection: IrcProtocol, room: Room, end: bool = True) -> None:
    """
    Send C{room}'s members (353, in lines within 512 bytes, marked C{@} for
    a secret room, C{=} for another, as RFC 2812 3.2.5) and, if C{end},
    366.
    """
    connection.ircFactory.remember(room.members.values())
    members = marked_names(connection, room)
    user = connection.user
    symbol = "@" if user is not None and user.isSecret(room) else "="
    head = f":{connection.serverName} 353 {connection.target} {symbol} {room.name} :"
    room_left = 510 - len(head.encode())
    line: list[str] = []
    size = 0
    for member in members:
        length = len(member.encode()) + 1
        if line and size + length > room_left:
            connection.reply(numerics.RPL_NAMREPLY, symbol, room.name, " ".join(line))
            line, size = [], 0
        line.append(member)
        size += length
    if line:
        connection.reply(numerics.RPL_NAMREPLY, symbol, room.name, " ".join(line))
    if end:
        connection.reply(numerics.RPL_ENDOFNAMES, room.name, "End of /NAMES list.")


def member_marks(connection: IrcProtocol, room: Room) -> dict[str, str]:
    """
    @return: The members of C{room} with a role, by name, each with the
        prefix of its highest role (C{@}, C{+}), or of every role it has for
        a client with C{multi-prefix} (C{@+}).
    """
    user = connection.user
    if user is None:
        return {}
    if caps.MULTI_PREFIX not in connection.caps:
        return user.memberRoles(room)
    moderation = connection.server.realm.moderation
    marks = {
        member: all_prefixes(moderation.roles(room.key, name_key(member)))
        for member in room.names()
    }
    return {member: mark for member, mark in marks.items() if mark}


def marked_names(connection: IrcProtocol, room: Room) -> list[str]:
    """
    @return: C{room}'s members, each after its marks (L{member_marks}):
        by nick, or with C{userhost-in-names} by C{nick!user@host}.
    """
    marks = member_marks(connection, room)
    names = room.names()
    if caps.USERHOST_IN_NAMES in connection.caps:
        mask = connection.ircFactory.mask
        return [marks.get(member, "") + mask(member) for member in names]
    return [marks.get(member, "") + member for member in names]


def all_prefixes(roles: str) -> str:
    """
    @return: The prefixes of every role in C{roles}, highest first.
    """
    return "".join(PREFIXES[role] for role in ROLES if role in roles)


def show_room(connection: IrcProtocol, room: Room, user: ChatUser) -> None:
    """
    What follows the echo of a C{JOIN}: the topic (if any), the names, and
    with C{draft/read-marker} the account's read marker before their end.
    """
    topic(connection, room, always=False)
    names(connection, room, end=False)
    read_marker(connection, user, room)
    connection.reply(numerics.RPL_ENDOFNAMES, room.name, "End of /NAMES list.")


def read_marker(connection: IrcProtocol, user: ChatUser | None, room: Room) -> None:
    """
    Tell a client with C{draft/read-marker} where its marker of C{room},
    just joined, is (its account's, or a guest's own; C{*} for none): the
    specification has it sent after every C{JOIN}.
    """
    if user is None or caps.READ_MARKER not in connection.caps:
        return
    marker = user.readMarker(room.name)
    event = (
        ReadMarked(room.name, marker.id, marker.stamp, 0)
        if marker
        else ReadMarked(room.name, None, None, 0)
    )
    connection.send(connection.codec.markread(event))


def replay(connection: IrcProtocol, user: ChatUser, room: Room) -> None:
    """
    The room's recent history, unless the client reads it with
    C{CHATHISTORY} itself.
    """
    if caps.CHATHISTORY not in connection.caps:
        user.replay(room)
