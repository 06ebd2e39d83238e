"""
Room modes: C{+m} moderated (only voice and operators speak), C{+i}
invite-only, C{+s} secret (not listed, nor its members shown, to who is
not in it), C{+k KEY} a key to join, C{+l N} a member limit, C{+t} the
topic set by operators only, C{+n} no lines from outside (on in every new
room: only members speak; C{-n} lets who is not in the room say lines to
it); and the changes C{/mode #room +mk KEY} asks
for, which may also give and take roles (C{+o NAME}, C{-v NAME}).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.core.moderation.errors import InvalidMode
from chatserver.core.moderation.roles import ROLES
from chatwire.errors import InvalidText
from chatwire.text import check_text

FLAGS = "imnst"
"""
The modes without an argument.
"""

MAX_KEY_LENGTH = 32
MAX_LIMIT = 100000
MODE_USAGE = (
    "usage: /mode #ROOM [+|-]FLAGS [ARGS]: flags i m n s t, k KEY, l N, o NAME, v NAME"
)


@dataclass(slots=True)
class RoomModes:
    """
    The modes of one room.

    @ivar key: The key to join, empty for none.
    @ivar limit: The most members, 0 for no limit.
    @ivar noExternal: Whether only members may say lines to the room
        (C{+n}, the default).
    @ivar secret: Whether the room is hidden from who is not in it
        (C{+s}).
    """

    moderated: bool = False
    inviteOnly: bool = False
    topicLocked: bool = False
    key: str = ""
    limit: int = 0
    noExternal: bool = True
    secret: bool = False

    def flags(self) -> str:
        """
        @return: The modes set, as C{+imnstkl} (C{+} alone when none).
        """
        letters = "".join(
            letter
            for letter, on in (
                ("i", self.inviteOnly),
                ("m", self.moderated),
                ("n", self.noExternal),
                ("s", self.secret),
                ("t", self.topicLocked),
                ("k", bool(self.key)),
                ("l", bool(self.limit)),
            )
            if on
        )
        return "+" + letters

    def isDefault(self) -> bool:
        return self == RoomModes()

    def asDict(self) -> dict[str, object]:
        return {
            "moderated": self.moderated,
            "inviteOnly": self.inviteOnly,
            "topicLocked": self.topicLocked,
            "key": self.key,
            "limit": self.limit,
            "noExternal": self.noExternal,
            "secret": self.secret,
        }


@dataclass(frozen=True, slots=True)
class ModeChange:
    """
    One change of C{/mode}: C{+} or C{-} (C{adding}), a letter, and its
    argument (a key, a limit, a name) or C{""}.
    """

    adding: bool
    letter: str
    argument: str = ""

    def text(self) -> str:
        return ("+" if self.adding else "-") + self.letter


def check_key(key: str) -> str:
    """
    @return: C{key}, a valid room key.
    @raise InvalidMode: If it is empty, too long, or holds a blank, a comma
        or a control character.
    """
    if not key or len(key) > MAX_KEY_LENGTH or any(c in " ,:" for c in key):
        raise InvalidMode(
            f"a key is 1 to {MAX_KEY_LENGTH} characters, without blanks, "
            "commas or colons"
        )
    try:
        check_text(key)
    except InvalidText as e:
        raise InvalidMode(f"invalid key: {e.reason}") from None
    return key


def parse_modes(flags: str, arguments: list[str]) -> list[ModeChange]:
    """
    Read the changes of C{/mode #room FLAGS ARGS...}.

    @param flags: C{+mk-i}: signs and letters (a first letter without a
        sign is added).
    @param arguments: The arguments the letters that take one take, in
        order: C{k} and C{l} when added, C{o} and C{v} always.
    @raise InvalidMode: If a letter is unknown, an argument missing or
        invalid, or arguments are left over.
    """
    changes: list[ModeChange] = []
    adding = True
    remaining = list(arguments)
    for letter in flags:
        if letter in "+-":
            adding = letter == "+"
            continue
        if (
            letter in FLAGS
            or (letter == "k" and not adding)
            or (letter == "l" and not adding)
        ):
            changes.append(ModeChange(adding, letter))
            continue
        if letter in "kl" or letter in ROLES:
            if not remaining:
                raise InvalidMode(f"{'+' if adding else '-'}{letter} needs an argument")
            argument = remaining.pop(0)
            if letter == "k":
                check_key(argument)
            elif letter == "l":
                if not argument.isascii() or not argument.isdigit():
                    raise InvalidMode(f"+l needs a number of members, not {argument!r}")
                if not 1 <= int(argument) <= MAX_LIMIT:
                    raise InvalidMode(f"+l is from 1 to {MAX_LIMIT}")
                argument = str(int(argument))
            changes.append(ModeChange(adding, letter, argument))
            continue
        raise InvalidMode(f"unknown mode {letter!r}: {MODE_USAGE}")
    if not changes:
        raise InvalidMode(MODE_USAGE)
    if remaining:
        raise InvalidMode(f"too many arguments for {flags}: {MODE_USAGE}")
    return changes
