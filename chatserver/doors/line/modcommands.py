"""
The line door's moderation commands: C{/oper}, C{/kick}, C{/ban},
C{/unban}, C{/bans}, C{/mute}, C{/unmute}, C{/mode}, C{/op}, C{/deop},
C{/voice}, C{/devoice}, C{/invite}, C{/modlog}, C{/kill}, C{/kline},
C{/unkline} and C{/klines} (see C{docs/moderation.md}).

Each reads its arguments and calls the core
(L{chatserver.core.moderation.actions}), which checks every rule; what
changes reaches the rooms as events, and each command answers its user
with C{-!-} lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatserver.core.moderation.durations import format_duration, looks_like_duration
from chatserver.core.moderation.records import Ban
from chatserver.doors.operlogin import oper
from chatwire import lines
from chatwire.commands import split_first
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.line.protocol import ChatProtocol


def utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


def describe_ban(ban: Ban) -> str:
    """
    @return: One line about C{ban}: its mask, who set it and when, when it
        ends, and why.
    """
    ends = f"until {utc(ban.endsAt)}" if ban.endsAt is not None else "until lifted"
    text = f"{ban.mask} set by {ban.setter} at {utc(ban.setAt)}, {ends}"
    return f"{text}: {ban.reason}" if ban.reason else text


def split_duration(rest: str) -> tuple[str | None, str]:
    """
    Split C{[DURATION] [REASON]}: a first word starting with a digit is a
    duration (and must be a valid one).

    @return: The duration or L{None}, and the reason.
    """
    first, after = split_first(rest)
    if first and looks_like_duration(first):
        return first, after
    return None, rest.strip()


def _usage(connection: ChatProtocol, usage: str) -> None:
    connection.send(lines.Error(f"usage: {usage}"))


def _info(connection: ChatProtocol, text: str) -> None:
    connection.send(lines.Info(text))


def command_oper(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    name, password = split_first(args)
    if not name or not password:
        _usage(connection, "/oper NAME PASSWORD")
        return

    def answer(error: ChatError | None) -> None:
        if error is None:
            _info(connection, lines.OPERATOR_NOW)
        else:
            connection.reject(error.reason)

    oper(connection, user, name, password, answer)


def command_kick(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, rest = split_first(args)
    name, reason = split_first(rest)
    if not room.startswith("#") or not name:
        _usage(connection, "/kick #ROOM NAME [REASON]")
        return
    user.kick(room, name, reason)


def _banlike(kind: str) -> Callable[[ChatProtocol, ChatUser, str], None]:
    usage = f"/{kind} #ROOM {'MASK' if kind == 'ban' else 'NAME'} [DURATION] [REASON]"

    def command(connection: ChatProtocol, user: ChatUser, args: str) -> None:
        room, rest = split_first(args)
        mask, rest = split_first(rest)
        if not room.startswith("#") or not mask:
            _usage(connection, usage)
            return
        duration, reason = split_duration(rest)
        act = user.ban if kind == "ban" else user.mute
        ban = act(room, mask, duration, reason)
        if ban.endsAt is not None:
            _info(
                connection,
                f"{kind} on {ban.mask} for {format_duration(ban.endsAt - ban.setAt)}",
            )
        else:
            _info(connection, f"{kind} on {ban.mask} until lifted")

    return command


def _unbanlike(kind: str) -> Callable[[ChatProtocol, ChatUser, str], None]:
    usage = f"/un{kind} #ROOM {'MASK' if kind == 'ban' else 'NAME'}"

    def command(connection: ChatProtocol, user: ChatUser, args: str) -> None:
        room, mask = split_first(args)
        if not room.startswith("#") or not mask or " " in mask:
            _usage(connection, usage)
            return
        lift = user.unban if kind == "ban" else user.unmute
        ban = lift(room, mask)
        _info(connection, f"{kind} on {ban.mask} lifted")

    return command


def _list(connection: ChatProtocol, title: str, bans: list[Ban]) -> None:
    connection.send(
        lines.Info(f"{title} ({len(bans)}):"),
        *(lines.Info(describe_ban(ban)) for ban in bans),
    )


def command_bans(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, rest = split_first(args)
    if not room.startswith("#") or rest:
        _usage(connection, "/bans #ROOM")
        return
    _list(connection, f"Bans of {room}", user.bans(room))
    _list(connection, f"Mutes of {room}", user.mutes(room))


def command_mode(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, rest = split_first(args)
    if not room.startswith("#"):
        _usage(connection, "/mode #ROOM [+|-]FLAGS [ARGS]")
        return
    if not rest:
        modes = user.modes(room)
        extra = [a for a in (modes.key, str(modes.limit) if modes.limit else "") if a]
        _info(connection, " ".join((f"{room} modes:", modes.flags(), *extra)))
        return
    flags, *arguments = rest.split()
    if user.setModes(room, flags, arguments) is None:
        _info(connection, "no mode changed")


def _role(method: str) -> Callable[[ChatProtocol, ChatUser, str], None]:
    def command(connection: ChatProtocol, user: ChatUser, args: str) -> None:
        room, name = split_first(args)
        if not room.startswith("#") or not name or " " in name:
            _usage(connection, f"/{method} #ROOM NAME")
            return
        if getattr(user, method)(room, name) is None:
            _info(connection, "nothing changed")

    return command


def command_invite(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    name, room = split_first(args)
    if not name or not room.startswith("#") or " " in room:
        _usage(connection, "/invite NAME #ROOM")
        return
    invited = user.invite(name, room)
    _info(connection, f"{invited} is invited to {room}")


def command_modlog(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, rest = split_first(args)
    if not room.startswith("#") or rest:
        _usage(connection, "/modlog #ROOM")
        return
    entries = user.modlog(room)
    out: list[lines.Event] = [lines.Info(f"Moderation log of {room} ({len(entries)}):")]
    for entry in entries:
        text = f"{utc(entry.time)} {entry.actor} {entry.action} {entry.target}"
        if entry.duration:
            text += f" for {format_duration(entry.duration)}"
        if entry.reason:
            text += f": {entry.reason}"
        out.append(lines.Info(text))
    connection.send(*out)


def command_kill(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    name, reason = split_first(args)
    if not name:
        _usage(connection, "/kill NAME [REASON]")
        return
    killed = user.kill(name, reason)
    _info(connection, f"{killed} is disconnected")


def command_kline(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    mask, rest = split_first(args)
    if not mask:
        _usage(connection, "/kline MASK [DURATION] [REASON]")
        return
    duration, reason = split_duration(rest)
    ban, gone = user.kline(mask, duration, reason)
    text = f"kline on {ban.mask} set"
    if gone:
        text += f", disconnected: {', '.join(gone)}"
    _info(connection, text)


def command_unkline(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    if not args or " " in args:
        _usage(connection, "/unkline MASK")
        return
    ban = user.unkline(args)
    _info(connection, f"kline on {ban.mask} lifted")


def command_klines(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    _list(connection, "Klines", user.klines())


COMMANDS: dict[str, Callable[[ChatProtocol, Any, str], None]] = {
    "oper": command_oper,
    "kick": command_kick,
    "ban": _banlike("ban"),
    "unban": _unbanlike("ban"),
    "bans": command_bans,
    "mute": _banlike("mute"),
    "unmute": _unbanlike("mute"),
    "mode": command_mode,
    "op": _role("op"),
    "deop": _role("deop"),
    "voice": _role("voice"),
    "devoice": _role("devoice"),
    "invite": command_invite,
    "modlog": command_modlog,
    "kill": command_kill,
    "kline": command_kline,
    "unkline": command_unkline,
    "klines": command_klines,
}
