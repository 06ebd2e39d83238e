"""
What moderators set, as data: bans, mutes and klines (L{Ban}), and the
entries of a room's moderation log (L{LogEntry}).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

BAN = "ban"
MUTE = "mute"
KLINE = "kline"


@dataclass(frozen=True, slots=True)
class Ban:
    """
    A ban from a room (C{kind} L{BAN}), a mute in it (L{MUTE}) or a ban
    from the server (L{KLINE}).

    @ivar mask: What it matches, as L{chatserver.core.moderation.masks}
        shows it.
    @ivar setter: Who set it.
    @ivar setAt: When, in POSIX seconds.
    @ivar endsAt: When it ends by itself, or L{None}: when lifted.
    @ivar reason: Why, as the setter said (may be empty).
    """

    kind: str
    mask: str
    setter: str
    setAt: float
    endsAt: float | None = None
    reason: str = ""

    def toJSON(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def fromJSON(cls, text: str) -> Ban:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """
    One moderation action in a room's log (C{/modlog}).

    @ivar action: C{kick}, C{ban}, C{unban}, C{mute}, C{unmute}, C{mode},
        C{op}, C{deop}, C{voice}, C{devoice}, C{invite}, C{expired}.
    @ivar target: Whom or what it was about (a name, a mask, modes).
    @ivar duration: Seconds it lasts, or L{None}.
    """

    time: float
    actor: str
    action: str
    target: str
    reason: str = ""
    duration: float | None = None

    def toJSON(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def fromJSON(cls, text: str) -> LogEntry:
        return cls(**json.loads(text))
