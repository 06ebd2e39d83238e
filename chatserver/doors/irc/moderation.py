"""
Moderation through the IRC door: C{OPER}, C{KILL}, C{KICK}, C{INVITE},
C{KLINE}, C{UNKLINE}, and the channel modes of C{MODE} (C{+o}/C{+v}, C{+b}
with the C{m:} mute extban, C{+i +m +t +k +l}).  Each is a call of the
chat core's moderation (L{chatserver.core.moderation.actions}) and its
refusals are numerics (L{refusals.refuse}); what the others are told (a
C{KICK}, a C{MODE}, an C{INVITE}) comes back as the core's events, encoded
by L{chatserver.doors.irc.codec}.  The rules are the core's: the door only
knows which letters IRC has and which of them take a parameter.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chatserver.core.moderation.durations import parse_duration
from chatserver.core.moderation.errors import (
    InvalidDuration,
    InvalidMask,
    InvalidMode,
    NoSuchBan,
    NotRoomOperator,
)
from chatserver.core.moderation.modes import FLAGS as ROOM_FLAGS
from chatserver.core.moderation.modes import parse_modes
from chatserver.doors import operlogin
from chatserver.doors.irc import message, numerics
from chatserver.doors.irc.codec import MUTE_EXTBAN
from chatserver.doors.irc.refusals import need_more_params, refuse
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.moderation.records import Ban
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

LISTS = "b"
"""
The list modes (ISUPPORT C{CHANMODES} type A): C{+b MASK}, C{-b MASK}, and
C{b} alone for the list.
"""

ALWAYS_PARAMETER = "kov"
"""
The modes with a parameter both ways (type B, and the prefixes); the
parameter of C{-k} is read and not needed.
"""

SET_PARAMETER = "l"
"""
The modes with a parameter when set only (type C).
"""

FLAGS = ROOM_FLAGS
"""
The modes without a parameter (type D).
"""


def _notice(connection: IrcProtocol, text: str) -> None:
    connection.send(
        message.encode("NOTICE", connection.target, text, prefix=connection.serverName)
    )


def _when(moment: float | None) -> str:
    if moment is None:
        return "until lifted"
    return "until " + datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# Server operators


def oper(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{OPER NAME PASSWORD}: 381 and user mode C{+o}; 464 for a wrong name
    or password (after the login throttle's delay, the client's next
    commands held until then), 491 when the server has no operators at
    all.
    """
    name, password = msg.params[0], msg.params[1]
    # What the client sends next waits for the answer, as after a login.
    connection.session.hold("oper")

    def answer(error: ChatError | None) -> None:
        if error is None:
            connection.reply(numerics.RPL_YOUREOPER, "You are now an IRC operator")
            connection.send(
                message.encode("MODE", user.name, "+o", prefix=connection.serverName)
            )
        elif not connection.server.realm.moderation.operCheckers:
            connection.reply(numerics.ERR_NOOPERHOST, "No O-lines for your host")
        else:
            refuse(connection, "OPER", name, error)
        connection.session.release("oper")

    operlogin.oper(connection, user, name, password, answer)


def kill(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{KILL NICK [REASON]}: the user is disconnected (C{ERROR}), the others
    see it quit with C{Killed by ...}; 481 for who is not an operator.
    """
    name = msg.params[0]
    reason = msg.params[1] if len(msg.params) > 1 else ""
    try:
        user.kill(name, reason)
    except ChatError as e:
        refuse(connection, "KILL", name, e)


def kline(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{KLINE [ANDKILL] [DURATION] MASK [REASON]}, as Ergo's (who matches is
    disconnected whether C{ANDKILL} is given or not), and C{KLINE LIST}.
    """
    params = list(msg.params)
    if params[0].upper() == "LIST" and len(params) == 1:
        _klines(connection, user)
        return
    if params[0].upper() == "ANDKILL":
        params.pop(0)
    duration: str | None = None
    if len(params) > 1:
        try:
            parse_duration(params[0])
        except InvalidDuration:
            pass
        else:
            duration = params.pop(0)
    if not params:
        need_more_params(connection, "KLINE")
        return
    mask, reason = params[0], " ".join(params[1:])
    try:
        ban, gone = user.kline(mask, duration, reason)
    except ChatError as e:
        refuse(connection, "KLINE", mask, e)
        return
    text = f"K-line on {ban.mask} set {_when(ban.endsAt)}"
    if gone:
        text += ": disconnected " + ", ".join(gone)
    _notice(connection, text)


def unkline(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{UNKLINE MASK}.
    """
    try:
        ban = user.unkline(msg.params[0])
    except ChatError as e:
        refuse(connection, "UNKLINE", msg.params[0], e)
        return
    _notice(connection, f"K-line on {ban.mask} lifted")


def _klines(connection: IrcProtocol, user: ChatUser) -> None:
    try:
        klines = user.klines()
    except ChatError as e:
        refuse(connection, "KLINE", "LIST", e)
        return
    for ban in klines:
        reason = f": {ban.reason}" if ban.reason else ""
        _notice(
            connection,
            f"K-line on {ban.mask} by {ban.setter} {_when(ban.endsAt)}{reason}",
        )
    _notice(connection, f"End of K-lines ({len(klines)})")


# Channel operators


def kick(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{KICK #ROOM NICK[,NICK...] [REASON]}, or as many rooms as nicks, in
    pairs; every member, the kicked included, gets the C{KICK}.
    """
    rooms, names = message.items(msg.params[0]), message.items(msg.params[1])
    reason = msg.params[2] if len(msg.params) > 2 else ""
    if len(rooms) == 1:
        rooms = rooms * len(names)
    if not names or len(rooms) != len(names):
        need_more_params(connection, "KICK")
        return
    for room, name in zip(rooms, names, strict=True):
        try:
            user.kick(room, name, reason)
        except ChatError as e:
            refuse(connection, "KICK", room, e)


def invite(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{INVITE NICK #ROOM}: 341 to the inviter, C{INVITE} to the invited.
    """
    name, room = msg.params[0], msg.params[1]
    try:
        invited = user.invite(name, room)
    except ChatError as e:
        refuse(connection, "INVITE", room if room.startswith("#") else name, e)
        return
    connection.reply(numerics.RPL_INVITING, invited, user.room(room).name)


def join_keys(msg: Message) -> list[str]:
    """
    @return: The keys of C{JOIN #a,#b KEY1,KEY2}, one a channel in order
        (empty for none).
    """
    return msg.params[1].split(",") if len(msg.params) > 1 else []


# Channel modes


def show_modes(connection: IrcProtocol, user: ChatUser, room: Room) -> None:
    """
    324 C{RPL_CHANNELMODEIS} (the key C{*} for who is not a member) and 329
    C{RPL_CREATIONTIME}.
    """
    modes = user.modes(room.name)
    letters = sorted(set(modes.flags()[1:]) - set(ALWAYS_PARAMETER + SET_PARAMETER))
    text = "+" + "".join(letters)
    arguments: list[str] = []
    if modes.key:
        text += "k"
        arguments.append(modes.key)
    if modes.limit:
        text += "l"
        arguments.append(str(modes.limit))
    connection.reply(numerics.RPL_CHANNELMODEIS, room.name, text, *arguments)
    connection.reply(numerics.RPL_CREATIONTIME, room.name, str(int(room.createdAt)))


def room_mode(
    connection: IrcProtocol, user: ChatUser, room: Room, params: tuple[str, ...]
) -> None:
    """
    C{MODE #ROOM [CHANGES [PARAMETERS...]]}: the modes (324, 329), the ban
    list (367, 368), or changes.  Bans and mutes (C{+b m:MASK}) and roles
    are changed one by one, the other modes together; an unknown letter is
    472, a bad parameter 696, and the first refusal for not being an
    operator (482) ends the changes.
    """
    if not params:
        show_modes(connection, user, room)
        return
    arguments = list(params[1:])
    flags = ""
    flagArguments: list[str] = []
    adding = True
    listed = False
    for letter in params[0]:
        if letter in "+-":
            adding = letter == "+"
            continue
        sign = "+" if adding else "-"
        if letter in LISTS and not arguments:
            if not listed:
                listed = True
                _ban_list(connection, user, room)
            continue
        if letter in LISTS + ALWAYS_PARAMETER or (letter in SET_PARAMETER and adding):
            if not arguments:
                continue  # a parameter missing: the letter is ignored
            argument = arguments.pop(0)
        elif letter in FLAGS + SET_PARAMETER:
            argument = ""
        else:
            connection.reply(
                numerics.ERR_UNKNOWNMODE, letter, "is an unknown mode char to me"
            )
            continue
        try:
            if letter in LISTS:
                _ban(user, room, adding, argument)
            elif letter in "ov":
                user.setRole(room.name, argument, letter, adding)
            else:
                given = [argument] if adding and letter in "kl" else []
                parse_modes(sign + letter, given)
                flags += sign + letter
                flagArguments.extend(given)
        except (InvalidMode, InvalidMask) as e:
            shown = argument if argument and letter in LISTS + SET_PARAMETER else "*"
            connection.reply(
                numerics.ERR_INVALIDMODEPARAM, room.name, letter, shown, e.reason
            )
        except ChatError as e:
            refuse(connection, "MODE", argument or room.name, e)
            if isinstance(e, NotRoomOperator):
                return
    if flags:
        try:
            user.setModes(room.name, flags, flagArguments)
        except ChatError as e:
            refuse(connection, "MODE", room.name, e)


def _ban(user: ChatUser, room: Room, adding: bool, mask: str) -> None:
    """
    C{+b MASK}, C{-b MASK}; C{m:MASK} is a mute.  Lifting a ban there is
    not is no change, and no answer.
    """
    mute = mask.startswith(MUTE_EXTBAN)
    if mute:
        mask = mask.removeprefix(MUTE_EXTBAN)
    if adding:
        (user.mute if mute else user.ban)(room.name, mask)
        return
    with suppress(NoSuchBan):
        (user.unmute if mute else user.unban)(room.name, mask)


def _ban_list(connection: IrcProtocol, user: ChatUser, room: Room) -> None:
    """
    367 C{RPL_BANLIST} for each ban (mask, setter, when), then each mute
    (as C{m:MASK}); 368.
    """
    shown: list[tuple[str, Ban]] = [("", ban) for ban in user.bans(room.name)]
    shown += [(MUTE_EXTBAN, ban) for ban in user.mutes(room.name)]
    for extban, ban in shown:
        connection.reply(
            numerics.RPL_BANLIST,
            room.name,
            extban + ban.mask,
            ban.setter,
            str(int(ban.setAt)),
        )
    connection.reply(numerics.RPL_ENDOFBANLIST, room.name, "End of channel ban list")
