"""
How a refusal reads on IRC: a L{ChatError} of the chat core becomes its
numeric here, and only here, whichever command met it; what no numeric
describes comes as the IRCv3 standard reply C{FAIL <command> REFUSED}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.core.moderation.errors import ModerationError
from chatserver.doors.irc import numerics
from chatwire.errors import (
    AlreadyCalled,
    ChatError,
    InvalidName,
    InvalidRoomName,
    NamesAreAccounts,
    NameTaken,
    NoSuchRoom,
    NoSuchUser,
    NotInRoom,
    TooManyRooms,
)

if TYPE_CHECKING:
    from chatserver.doors.irc.protocol import IrcProtocol

SPEAKING = frozenset({"PRIVMSG", "NOTICE", "TAGMSG"})
"""
The commands that say something in a room: one not in the room cannot send
to it (404) rather than not being on it (442).
"""


ABOUT_ROOM = {
    "chanop-needed": numerics.ERR_CHANOPRIVSNEEDED,
    "key-set": numerics.ERR_KEYSET,
    "room-full": numerics.ERR_CHANNELISFULL,
    "invite-only": numerics.ERR_INVITEONLYCHAN,
    "banned": numerics.ERR_BANNEDFROMCHAN,
    "bad-key": numerics.ERR_BADCHANNELKEY,
    "cannot-speak": numerics.ERR_CANNOTSENDTOCHAN,
}
"""
The moderation refusals about one channel (C{<client> <channel> :why}), by
the core's code (L{ModerationError.code}).
"""

ABOUT_MEMBER = {
    "user-not-in-room": numerics.ERR_USERNOTINCHANNEL,
    "user-in-room": numerics.ERR_USERONCHANNEL,
}
"""
The moderation refusals about a user and a channel (C{<client> <nick>
<channel> :why}).
"""

ABOUT_CLIENT = {
    "no-privileges": numerics.ERR_NOPRIVILEGES,
    "klined": numerics.ERR_YOUREBANNEDCREEP,
    "oper-refused": numerics.ERR_PASSWDMISMATCH,
}
"""
The moderation refusals about the client itself (C{<client> :why}).
"""


def need_more_params(connection: IrcProtocol, command: str) -> None:
    """
    Answer C{command} with 461 C{ERR_NEEDMOREPARAMS}.
    """
    connection.reply(numerics.ERR_NEEDMOREPARAMS, command, "Not enough parameters")


def refuse(
    connection: IrcProtocol, command: str, target: str, error: ChatError
) -> None:
    """
    Answer C{command}, refused by the chat core with C{error}, with the
    numeric that says why.

    @param command: The IRC command refused (C{NICK}: C{target} is the name
        the client asked for itself; C{PRIVMSG}, C{NOTICE}, C{TAGMSG}: the
        client wanted to speak in C{target}).
    @param target: The nick or room the refusal is about, as the client
        wrote it.
    @param error: Why the core refused.
    """
    if isinstance(error, AlreadyCalled):
        return  # a rename to one's own name changes nothing: no answer
    if isinstance(error, ModerationError) and _moderation(connection, error):
        return
    if isinstance(error, NameTaken):
        connection.reply(
            numerics.ERR_NICKNAMEINUSE, target, "Nickname is already in use"
        )
    elif isinstance(error, InvalidName) and command == "NICK":
        connection.reply(
            numerics.ERR_ERRONEUSNICKNAME, target, f"Erroneous nickname: {error.why}"
        )
    elif isinstance(error, NamesAreAccounts):
        connection.reply(numerics.ERR_ERRONEUSNICKNAME, target, error.reason)
    elif isinstance(error, (NoSuchUser, InvalidName)):
        # A name nobody may have names nobody.
        connection.reply(numerics.ERR_NOSUCHNICK, target, "No such nick/channel")
    elif isinstance(error, (NoSuchRoom, InvalidRoomName)):
        connection.reply(numerics.ERR_NOSUCHCHANNEL, target, "No such channel")
    elif isinstance(error, NotInRoom):
        if connection.server.realm.getRoom(target) is None:
            connection.reply(numerics.ERR_NOSUCHCHANNEL, target, "No such channel")
        elif command in SPEAKING:
            connection.reply(
                numerics.ERR_CANNOTSENDTOCHAN,
                target,
                "Cannot send to channel (you are not in it)",
            )
        else:
            connection.reply(
                numerics.ERR_NOTONCHANNEL, target, "You're not on that channel"
            )
    elif isinstance(error, TooManyRooms):
        connection.reply(numerics.ERR_TOOMANYCHANNELS, target, error.reason)
    else:
        connection.fail(command, "REFUSED", error.reason)


def _moderation(connection: IrcProtocol, error: ModerationError) -> bool:
    """
    Answer a moderation refusal with its numeric, the core's reason as its
    text.

    @return: Whether C{error} has a numeric (else it is a C{FAIL}).
    """
    code = error.code
    if code in ABOUT_ROOM:
        connection.reply(ABOUT_ROOM[code], getattr(error, "room", "*"), error.reason)
    elif code == "user-not-in-room" and (
        connection.server.realm.lookup(getattr(error, "name", "")) is None
    ):
        # Nobody has that nick: no such nick (Modern), not "not on channel".
        connection.reply(
            numerics.ERR_NOSUCHNICK, getattr(error, "name", "*"), "No such nick"
        )
    elif code in ABOUT_MEMBER:
        connection.reply(
            ABOUT_MEMBER[code],
            getattr(error, "name", "*"),
            getattr(error, "room", "*"),
            error.reason,
        )
    elif code in ABOUT_CLIENT:
        connection.reply(ABOUT_CLIENT[code], error.reason)
    else:
        return False
    return True
