"""
What happens in the chat, as data: the events the core hands to the doors.

A door turns each event into its own wire format (the line door into server
lines, the IRC door into IRC messages); the core never formats text.  Room
events name their room; the fan-out (L{chatserver.core.fanout}) delivers
each to the members of that room, encoded once per door and form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias
from uuid import uuid4

from chatserver.history.store import ACTION, TOPIC, HistoryEntry

Tags: TypeAlias = tuple[tuple[str, str], ...]
"""
Client-only message tags, as (name, value) pairs.
"""


@dataclass(frozen=True, slots=True)
class Said:
    """
    C{sender} said C{text} in C{room}; kept in its history as C{id}.

    @ivar notice: Whether it was said as a notice (IRC's C{NOTICE}: a
        message no program should answer automatically).
    @ivar tags: Client-only tags (IRCv3 C{+name}, value) the sender's door
        attached, for doors that show them; never kept.
    """

    room: str
    sender: str
    text: str
    id: int
    time: float
    notice: bool = False
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class Acted:
    """
    C{sender} did C{text} (C{/me waves}) in C{room}; kept as C{id}.

    @ivar tags: See L{Said.tags}.
    """

    room: str
    sender: str
    text: str
    id: int
    time: float
    tags: Tags = ()


@dataclass(frozen=True, slots=True)
class TopicChanged:
    """
    C{setter} set the topic of C{room} to C{topic} (cleared it, when
    empty); kept as C{id}.
    """

    room: str
    setter: str
    topic: str
    id: int
    time: float


@dataclass(frozen=True, slots=True)
class Joined:
    """
    C{name} has joined C{room}.
    """

    room: str
    name: str


@dataclass(frozen=True, slots=True)
class Parted:
    """
    C{name} has left C{room}, for C{reason} (C{Part}, C{Part: REASON}).
    """

    room: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Quit:
    """
    C{name} has left the chat, for C{reason}; each user who shared a room
    with them gets it once.
    """

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Renamed:
    """
    C{old} is now called C{new}; each user who shares a room with them gets
    it once, and so do they.
    """

    old: str
    new: str


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """
    C{name} logged in to the account C{account} (registered it), or out of
    its account (C{account} empty: gave it up); each user who shares a room
    with them gets it once, and so do they.
    """

    name: str
    account: str


def private_msgid() -> str:
    """
    @return: A new id for a private line: C{p} and a random UUID's 32 hex
        digits, unique across nodes and restarts without a shared counter,
        and never one of the history's ids (numbers), so that no client
        takes it for a place in a room's history.
    """
    return "p" + uuid4().hex


@dataclass(frozen=True, slots=True)
class Whispered:
    """
    A private message from C{sender} to C{recipient}; never kept.

    @ivar notice: Whether it was sent as a notice (see L{Said.notice}).
    @ivar action: Whether it is an action (C{/me waves} to one user): the
        text is then what the sender does (C{waves}).
    @ivar tags: See L{Said.tags}.
    @ivar msgid: The line's own id, unique across nodes and restarts
        (C{p} and 32 hex digits, never a history id, which is a number);
        C{""} when it came from a node that gave none.
    @ivar echo: Whether this copy goes to the sender's own sessions (its
        other devices, or its own when its door echoes): a door that shows
        a private line by who it is from shows it as sent to C{recipient}.
    @ivar id: Its id in the history, when it was kept (a line between two
        accounts on a single node); C{0} when not.
    """

    sender: str
    recipient: str
    text: str
    time: float
    notice: bool = False
    action: bool = False
    tags: Tags = ()
    msgid: str = ""
    echo: bool = False
    id: int = 0


@dataclass(frozen=True, slots=True)
class Replayed:
    """
    A page of C{room}'s history for one user, oldest first: on joining (the
    most recent lines) or asked for (older lines).

    @ivar more: Whether older lines may exist before these (L{False} once
        the start of the room's history has been reached).
    @ivar unreadFrom: The id of the first line the user has not read (by
        its account's read marker), where a door shows a separator; L{None}
        when every line replayed was read, or the user has no marker.
    """

    room: str
    entries: tuple[HistoryEntry, ...]
    more: bool
    unreadFrom: int | None = None


@dataclass(frozen=True, slots=True)
class ReadMarked:
    """
    The read marker of C{target} (a room, or the user of a private
    conversation) is at the time C{stamp} (milliseconds since the epoch),
    after the line C{id} (L{None} for no line then); C{unread} lines were
    said after it (L{MAX_PAGE} at most are counted).  C{stamp} is L{None}
    when there is no marker.  Sent to every session of the account when the
    marker moves (to the session itself for a guest's), and to one that
    asks.
    """

    target: str
    id: int | None
    stamp: int | None
    unread: int


@dataclass(frozen=True, slots=True)
class SearchResults:
    """
    A page of the lines one user searched for, in the rooms it is in,
    newest first (see L{chatserver.core.users.ChatUser.search}).

    @ivar words: The words searched for, as the user gave them.
    @ivar entries: The lines found, newest first, each naming its room.
    @ivar next: Where the next page starts (the C{beforeId} of the next
        search), or L{None} when no older line can match.
    """

    words: str
    entries: tuple[HistoryEntry, ...]
    next: int | None

    @property
    def more(self) -> bool:
        """
        Whether older lines may match.
        """
        return self.next is not None


@dataclass(frozen=True, slots=True)
class Kicked:
    """
    C{actor} kicked C{name} out of C{room}, for C{reason}; every member,
    C{name} included, is told, then C{name} is out.
    """

    room: str
    actor: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """
    C{actor} gave C{name} the role C{role} in C{room} (took it, unless
    C{given}): C{o} operator, C{v} voice.
    """

    room: str
    actor: str
    name: str
    role: str
    given: bool


@dataclass(frozen=True, slots=True)
class BanChanged:
    """
    C{actor} set (C{added}) or lifted a ban (C{kind} C{ban}) or a mute
    (C{mute}) on C{mask} in C{room}.  An C{actor} of C{""} means it ended
    by itself.

    @ivar endsAt: When it ends, in POSIX seconds, or L{None}: when lifted.
    """

    room: str
    actor: str
    kind: str
    mask: str
    added: bool
    endsAt: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ModeChanged:
    """
    C{actor} changed the modes of C{room}: C{changes} as C{+mk-i}, with
    the C{arguments} of the letters that take one, in order (the key of
    C{+k} is not shown: C{*}).
    """

    room: str
    actor: str
    changes: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Invited:
    """
    C{actor} invited C{name}, the one user told, to C{room}.
    """

    room: str
    actor: str
    name: str


RoomEvent: TypeAlias = (
    Said
    | Acted
    | TopicChanged
    | Joined
    | Parted
    | Kicked
    | RoleChanged
    | BanChanged
    | ModeChanged
)
ChatEvent: TypeAlias = (
    RoomEvent
    | Quit
    | Renamed
    | AccountChanged
    | Whispered
    | Replayed
    | SearchResults
    | Invited
    | ReadMarked
)


def room_event(entry: HistoryEntry) -> Said | Acted | TopicChanged:
    """
    @return: The event a history entry was kept from.
    """
    if entry.kind == ACTION:
        return Acted(entry.room, entry.sender, entry.text, entry.id, entry.time)
    if entry.kind == TOPIC:
        return TopicChanged(entry.room, entry.sender, entry.text, entry.id, entry.time)
    return Said(entry.room, entry.sender, entry.text, entry.id, entry.time)
