"""
Why a moderation rule refused something: one L{ChatError} subclass per
reason, each with a stable L{ModerationError.code} a door maps to its own
error (the IRC door to a numeric) without reading the words.

    code                  class               IRC numeric
    no-privileges         NotServerOperator   481
    chanop-needed         NotRoomOperator     482
    user-not-in-room      TargetNotInRoom     441
    user-in-room          AlreadyInRoom       443
    key-set               KeySet              467
    room-full             RoomFull            471
    invite-only           InviteOnly          473
    banned                BannedFromRoom      474
    bad-key               BadKey              475
    cannot-speak          CannotSpeak         404
    klined                Klined              465
    oper-refused          OperRefused         464
    bad-duration          InvalidDuration     (461/472: a bad argument)
    bad-mask              InvalidMask
    bad-mode              InvalidMode         472
    no-such-ban           NoSuchBan

(C{NotInRoom}, 442, is the core's own, in L{chatwire.errors}.)
"""

from __future__ import annotations

from typing import ClassVar

from chatwire.errors import ChatError


class ModerationError(ChatError):
    """
    A moderation rule refused an operation.

    @cvar code: What was refused, stable for doors to map.
    """

    code: ClassVar[str] = "moderation"


class NotServerOperator(ModerationError):
    code = "no-privileges"

    def __init__(self, what: str) -> None:
        super().__init__(f"only server operators may {what}: /oper first")


class NotRoomOperator(ModerationError):
    code = "chanop-needed"

    def __init__(self, room: str, what: str = "do that") -> None:
        super().__init__(f"you are not an operator of {room}: you cannot {what}")
        self.room = room


class TargetNotInRoom(ModerationError):
    code = "user-not-in-room"

    def __init__(self, name: str, room: str) -> None:
        super().__init__(f"{name} is not in {room}")
        self.name = name
        self.room = room


class AlreadyInRoom(ModerationError):
    code = "user-in-room"

    def __init__(self, name: str, room: str) -> None:
        super().__init__(f"{name} is already in {room}")
        self.name = name
        self.room = room


class KeySet(ModerationError):
    code = "key-set"

    def __init__(self, room: str) -> None:
        super().__init__(f"{room} has a key already: -k it first")
        self.room = room


class RoomFull(ModerationError):
    code = "room-full"

    def __init__(self, room: str, limit: int) -> None:
        super().__init__(f"cannot join {room}: it is full ({limit} members, +l)")
        self.room = room


class InviteOnly(ModerationError):
    code = "invite-only"

    def __init__(self, room: str) -> None:
        super().__init__(f"cannot join {room}: it is invite-only (+i)")
        self.room = room


class BannedFromRoom(ModerationError):
    code = "banned"

    def __init__(self, room: str) -> None:
        super().__init__(f"cannot join {room}: you are banned from it")
        self.room = room


class BadKey(ModerationError):
    code = "bad-key"

    def __init__(self, room: str) -> None:
        super().__init__(f"cannot join {room}: wrong or missing key (+k)")
        self.room = room


class CannotSpeak(ModerationError):
    code = "cannot-speak"

    def __init__(self, room: str, why: str) -> None:
        super().__init__(f"cannot speak in {room}: {why}")
        self.room = room
        self.why = why


class Klined(ModerationError):
    code = "klined"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"you are banned from this server: {reason}"
            if reason
            else "you are banned from this server"
        )


class OperRefused(ModerationError):
    code = "oper-refused"

    def __init__(self) -> None:
        super().__init__("wrong operator name or password")


class InvalidDuration(ModerationError):
    code = "bad-duration"


class InvalidMask(ModerationError):
    code = "bad-mask"


class InvalidMode(ModerationError):
    code = "bad-mode"


class NoSuchBan(ModerationError):
    code = "no-such-ban"

    def __init__(self, what: str, mask: str, where: str) -> None:
        super().__init__(f"no {what} on {mask} in {where}")
        self.mask = mask
