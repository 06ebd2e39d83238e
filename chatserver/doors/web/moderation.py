"""
The web door's moderation messages (C{oper}, C{kick}, C{ban}, C{unban},
C{bans}, C{mute}, C{unmute}, C{mode}, C{op}, C{deop}, C{voice},
C{devoice}, C{invite}, C{modlog}, C{kill}, C{kline}, C{unkline},
C{klines}; see C{docs/web.md}): each calls the core, which checks every
rule; a refusal is an C{error} message with the refusal's C{code}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatserver.core.moderation.records import Ban
from chatserver.doors.operlogin import oper
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.web.protocol import WebSession

Handler = Callable[["WebSession", "ChatUser", dict[str, Any]], None]


def ban_message(ban: Ban) -> dict[str, Any]:
    """
    @return: C{ban} as the C{bans}, C{klines} replies list it.
    """
    return {
        "mask": ban.mask,
        "by": ban.setter,
        "set": ban.setAt,
        "ends": ban.endsAt,
        "reason": ban.reason,
    }


def _oper(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    def answer(error: ChatError | None) -> None:
        if error is None:
            session.send({"type": "oper", "name": user.name})
        else:
            session.reject(error.reason, "oper")

    oper(session, user, m["name"], m["password"], answer)


def _kick(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.kick(m["room"], m["name"], m.get("reason", ""))


def _ban(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.ban(m["room"], m["mask"], m.get("duration") or None, m.get("reason", ""))


def _unban(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.unban(m["room"], m["mask"])


def _bans(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    session.send(
        {
            "type": "bans",
            "room": m["room"],
            "bans": [ban_message(ban) for ban in user.bans(m["room"])],
            "mutes": [ban_message(ban) for ban in user.mutes(m["room"])],
        }
    )


def _mute(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.mute(m["room"], m["name"], m.get("duration") or None, m.get("reason", ""))


def _unmute(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.unmute(m["room"], m["name"])


def _mode(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    changes = m.get("changes", "").split()
    if changes:
        user.setModes(m["room"], changes[0], changes[1:])
        return
    modes = user.modes(m["room"])
    session.send(
        {"type": "modes", "room": m["room"], "modes": modes.flags(), **modes.asDict()}
    )


def _role(method: str) -> Handler:
    def handler(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
        getattr(user, method)(m["room"], m["name"])

    return handler


def _invite(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.invite(m["name"], m["room"])


def _modlog(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    session.send(
        {
            "type": "modlog",
            "room": m["room"],
            "entries": [
                {
                    "time": entry.time,
                    "by": entry.actor,
                    "action": entry.action,
                    "target": entry.target,
                    "reason": entry.reason,
                    "duration": entry.duration,
                }
                for entry in user.modlog(m["room"])
            ],
        }
    )


def _kill(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.kill(m["name"], m.get("reason", ""))


def _kline(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    ban, gone = user.kline(m["mask"], m.get("duration") or None, m.get("reason", ""))
    session.send({"type": "kline", **ban_message(ban), "disconnected": gone})


def _unkline(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    user.unkline(m["mask"])


def _klines(session: WebSession, user: ChatUser, m: dict[str, Any]) -> None:
    session.send(
        {"type": "klines", "klines": [ban_message(ban) for ban in user.klines()]}
    )


COMMANDS: dict[str, Handler] = {
    "oper": _oper,
    "kick": _kick,
    "ban": _ban,
    "unban": _unban,
    "bans": _bans,
    "mute": _mute,
    "unmute": _unmute,
    "mode": _mode,
    "op": _role("op"),
    "deop": _role("deop"),
    "voice": _role("voice"),
    "devoice": _role("devoice"),
    "invite": _invite,
    "modlog": _modlog,
    "kill": _kill,
    "kline": _kline,
    "unkline": _unkline,
    "klines": _klines,
}
