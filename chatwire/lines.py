"""
The wire format of every line the server sends: one small class per kind of
line, with its formatting and its parsing side by side.

This module is the only place that knows the grammar.  The server formats
events with L{encode}; the desktop client reads them back with L{parse}.  The
grammar (also in C{docs/protocol.md}) is chosen to read naturally in telnet
while every kind of line starts with its own sigil, so a program never has to
guess::

    <NAME> TEXT                          Message      a chat line from NAME
    * NAME TEXT                          Action       /me from NAME
    *NAME* TEXT                          PrivateIn    a private message from NAME
    -> *NAME* TEXT                       PrivateOut   your private message to NAME
    --> NAME has joined                  Joined
    <-- NAME has left                    Left         (with no reason)
    <-- NAME has left (REASON)           Left
    <-- NAME has left (kicked by ACTOR: WHY)
                                         Left         (L{Left.kick}, L{Left.kicker})
    --- OLD is now known as NEW          Renamed
    === Users online (N): A, B, C        UserList
    === Welcome to SERVER, NAME!         Welcome      you are logged in as NAME
    >>> FIELD: TEXT                      Prompt       the server asks for FIELD
    -!- ACTOR gave operator (+o) to NAME RoleChanged  (voice: +v)
    -!- ACTOR took voice (-v) from NAME  RoleChanged
    -!- ACTOR banned MASK until WHEN: WHY BanChanged  (muted; "until lifted";
                                         no ": WHY" without a reason)
    -!- ACTOR lifted the ban on MASK     BanChanged   (the mute)
    -!- the ban on MASK ended            BanChanged   (it ended by itself)
    -!- ACTOR set mode +mk-i ARGS        ModeChanged
    -!- TEXT                             Info
    !!! TEXT                             Error
    --- NAME set the topic: TEXT         TopicSet
    --- NAME cleared the topic           TopicSet     (with an empty topic)
    === Topic set by NAME: TEXT          TopicIs      the answer to /topic
    === No topic is set                  TopicIs      (with an empty topic)
    === Rooms (N):                       RoomsHeader  then N RoomEntry lines
    === #ROOM (N users): TOPIC           RoomEntry    (no ": TOPIC" without one)
    === End of history (N lines)         HistoryEnd   after a page of history
    === No more history                  HistoryEnd   (N = 0)
    === Search results (N lines): WORDS  SearchHeader then N lines found, newest first
    === End of search (N lines)          SearchEnd    after them (no older line matches)
    === End of search (N lines; /search for more)
                                         SearchEnd    (older lines may match)
    === No more results                  SearchEnd    (N = 0, no more)
    [YYYY-MM-DD HH:MM:SSZ id N] LINE     History      LINE said at that time (UTC)
    #ROOM LINE                           InRoom       LINE is about #ROOM

A line about a room (what is said in it, its notices, the answers about
it) is marked with its room (L{InRoom}) unless the reader's only room is the
server's default room: a user who never joins another room reads the lines
of a chat without rooms.  A line kept from the past is marked as history
(L{History}) with the time it was said and its id.  Both marks wrap any
other line; when both are present the room comes first.

A member list (L{UserList}) shows a room's operators C{@NAME} and its voiced
members C{+NAME} (L{member}, L{split_member}).

Names never contain spaces, commas, C{<>*!} or control characters (see
L{chatwire.names}), and no text contains a line break or a control
character, which is what keeps each form unambiguous.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

LINE_END = b"\r\n"


class LineFormatError(ValueError):
    """
    A line does not follow the grammar of any server line.
    """


@dataclass(frozen=True, slots=True)
class Message:
    """
    A chat line that C{sender} sent to everyone.
    """

    sender: str
    text: str

    def format(self) -> str:
        return f"<{self.sender}> {self.text}"


@dataclass(frozen=True, slots=True)
class Action:
    """
    An action (C{/me waves}) by C{sender}.
    """

    sender: str
    text: str

    def format(self) -> str:
        return f"* {self.sender} {self.text}"


@dataclass(frozen=True, slots=True)
class PrivateIn:
    """
    A private message that C{sender} sent to the reader of this line.
    """

    sender: str
    text: str

    def format(self) -> str:
        return f"*{self.sender}* {self.text}"


@dataclass(frozen=True, slots=True)
class PrivateOut:
    """
    The confirmation of a private message the reader sent to C{recipient}.
    """

    recipient: str
    text: str

    def format(self) -> str:
        return f"-> *{self.recipient}* {self.text}"


@dataclass(frozen=True, slots=True)
class ReadUpTo:
    """
    The reader's account has read C{target} (a room, or the user of a
    private conversation) up to the line C{id}; C{unread} lines came after
    it.  Every session of the account is told when it moves.
    """

    target: str
    id: int
    unread: int

    def format(self) -> str:
        return f"=== Read {self.target} up to id {self.id} ({self.unread} unread)"


@dataclass(frozen=True, slots=True)
class UnreadFrom:
    """
    In a replay, where the lines the reader's account has not read begin.
    """

    def format(self) -> str:
        return "=== Not read yet:"


@dataclass(frozen=True, slots=True)
class Joined:
    """
    C{name} has logged in.
    """

    name: str

    def format(self) -> str:
        return f"--> {self.name} has joined"


@dataclass(frozen=True, slots=True)
class Left:
    """
    C{name} has gone, for C{reason} (which may be empty).
    """

    name: str
    reason: str = ""

    def format(self) -> str:
        if self.reason:
            return f"<-- {self.name} has left ({self.reason})"
        return f"<-- {self.name} has left"

    @classmethod
    def kick(cls, name: str, actor: str, reason: str = "") -> Left:
        """
        @return: The line that tells that C{actor} kicked C{name} out of a
            room, for C{reason} (which may be empty).
        """
        why = f"kicked by {actor}: {reason}" if reason else f"kicked by {actor}"
        return cls(name, why)

    @property
    def kicker(self) -> tuple[str, str] | None:
        """
        @return: Who kicked C{name} and why (L{kick}), or L{None} if this
            leave was no kick.
        """
        match = _KICK.match(self.reason)
        if match is None:
            return None
        return match[1], match[2] or ""


@dataclass(frozen=True, slots=True)
class Renamed:
    """
    C{old} is now called C{new}.
    """

    old: str
    new: str

    def format(self) -> str:
        return f"--- {self.old} is now known as {self.new}"


@dataclass(frozen=True, slots=True)
class UserList:
    """
    The names of the users online.
    """

    names: tuple[str, ...]

    def format(self) -> str:
        line = f"=== Users online ({len(self.names)}):"
        if self.names:
            line += " " + ", ".join(self.names)
        return line


@dataclass(frozen=True, slots=True)
class Welcome:
    """
    The reader is logged in as C{name} on the server called C{server}.
    """

    server: str
    name: str

    def format(self) -> str:
        return f"=== Welcome to {self.server}, {self.name}!"


@dataclass(frozen=True, slots=True)
class Prompt:
    """
    The server asks for C{field} (C{"name"}, for instance); C{text} is what it
    says to a person.
    """

    NAME: ClassVar[str] = "name"
    PASSWORD: ClassVar[str] = "password"

    field: str
    text: str

    def format(self) -> str:
        return f">>> {self.field}: {self.text}"


OPERATOR_NOW = "you are a server operator now"
"""
The L{Info} text that answers a C{/oper} that succeeded.
"""

ROLE_NAMES = {"o": "operator", "v": "voice"}
"""
The roles a room's member may have, by letter.
"""

ROLE_PREFIXES = {"o": "@", "v": "+"}
"""
How a member with a role is shown in a member list, highest role first.
"""


def member(name: str, roles: str = "") -> str:
    """
    @param roles: The letters of C{name}'s roles in a room (C{"ov"}, C{""}).
    @return: C{name} as a member list shows it: C{@alice}, C{+bob}, C{carol}.
    """
    for letter, prefix in ROLE_PREFIXES.items():
        if letter in roles:
            return prefix + name
    return name


def split_member(shown: str) -> tuple[str, str]:
    """
    Read a name of a member list back (names never start with C{@} or C{+}).

    @return: The name, and the letter of its highest role (C{"o"}, C{"v"}
        or C{""}).
    """
    for letter, prefix in ROLE_PREFIXES.items():
        if shown.startswith(prefix):
            return shown[len(prefix) :], letter
    return shown, ""


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """
    C{actor} gave (C{given}) or took C{role} (C{"o"} or C{"v"}) to or from
    C{name}.
    """

    actor: str
    name: str
    role: str
    given: bool

    def format(self) -> str:
        role = ROLE_NAMES[self.role]
        if self.given:
            return f"-!- {self.actor} gave {role} (+{self.role}) to {self.name}"
        return f"-!- {self.actor} took {role} (-{self.role}) from {self.name}"


@dataclass(frozen=True, slots=True)
class BanChanged:
    """
    C{actor} set (C{added}) or lifted a ban or a mute (C{kind} C{"ban"} or
    C{"mute"}) on C{mask}; C{actor} is empty when it ended by itself.
    C{endsAt} is when it ends (POSIX seconds, shown to the second in UTC),
    L{None} for until lifted.
    """

    actor: str
    kind: str
    mask: str
    added: bool
    endsAt: float | None = None
    reason: str = ""

    def format(self) -> str:
        if not self.added:
            if not self.actor:
                return f"-!- the {self.kind} on {self.mask} ended"
            return f"-!- {self.actor} lifted the {self.kind} on {self.mask}"
        verb = "banned" if self.kind == "ban" else "muted"
        until = "lifted" if self.endsAt is None else _utc(self.endsAt)
        line = f"-!- {self.actor} {verb} {self.mask} until {until}"
        return f"{line}: {self.reason}" if self.reason else line


@dataclass(frozen=True, slots=True)
class ModeChanged:
    """
    C{actor} changed a room's modes: C{changes} as C{+mk-i}, with the
    arguments (a key, a limit) in order.
    """

    actor: str
    changes: str
    arguments: tuple[str, ...] = ()

    def format(self) -> str:
        return " ".join((f"-!- {self.actor} set mode", self.changes, *self.arguments))


@dataclass(frozen=True, slots=True)
class Info:
    """
    Any other information from the server: greetings, the message of the day,
    help, goodbyes.
    """

    text: str

    def format(self) -> str:
        return f"-!- {self.text}"


@dataclass(frozen=True, slots=True)
class Error:
    """
    Something the reader sent was refused, and why.
    """

    text: str

    def format(self) -> str:
        return f"!!! {self.text}"


@dataclass(frozen=True, slots=True)
class TopicSet:
    """
    C{setter} set the topic to C{topic}, or cleared it when C{topic} is
    empty.
    """

    setter: str
    topic: str

    def format(self) -> str:
        if self.topic:
            return f"--- {self.setter} set the topic: {self.topic}"
        return f"--- {self.setter} cleared the topic"


@dataclass(frozen=True, slots=True)
class TopicIs:
    """
    The topic is C{topic}, set by C{setter}; none is set when C{topic} is
    empty.
    """

    topic: str
    setter: str = ""

    def format(self) -> str:
        if self.topic:
            return f"=== Topic set by {self.setter}: {self.topic}"
        return "=== No topic is set"


@dataclass(frozen=True, slots=True)
class RoomsHeader:
    """
    The answer to C{/rooms}: C{count} L{RoomEntry} lines follow.
    """

    count: int

    def format(self) -> str:
        return f"=== Rooms ({self.count}):"


@dataclass(frozen=True, slots=True)
class RoomEntry:
    """
    One room of a room list: its name, how many are in it, its topic.
    """

    room: str
    members: int
    topic: str = ""

    def format(self) -> str:
        users = "user" if self.members == 1 else "users"
        line = f"=== {self.room} ({self.members} {users})"
        return f"{line}: {self.topic}" if self.topic else line


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """
    The end of a page of history: C{count} lines of it came before this one
    (none: there is no more history).
    """

    count: int

    def format(self) -> str:
        if not self.count:
            return "=== No more history"
        lines = "line" if self.count == 1 else "lines"
        return f"=== End of history ({self.count} {lines})"


@dataclass(frozen=True, slots=True)
class SearchHeader:
    """
    The start of a page of search results for C{words}: C{count} lines
    found follow, newest first, each marked with its room and as history.
    """

    count: int
    words: str

    def format(self) -> str:
        lines = "line" if self.count == 1 else "lines"
        return f"=== Search results ({self.count} {lines}): {self.words}"


@dataclass(frozen=True, slots=True)
class SearchEnd:
    """
    The end of a page of search results: C{count} lines of it came before
    this one; C{more} when older lines may match (C{/search} again shows
    them).
    """

    count: int
    more: bool

    def format(self) -> str:
        if not self.count and not self.more:
            return "=== No more results"
        lines = "line" if self.count == 1 else "lines"
        more = "; /search for more" if self.more else ""
        return f"=== End of search ({self.count} {lines}{more})"


Plain: TypeAlias = (
    Message
    | Action
    | PrivateIn
    | PrivateOut
    | Joined
    | Left
    | Renamed
    | UserList
    | Welcome
    | Prompt
    | RoleChanged
    | BanChanged
    | ModeChanged
    | Info
    | Error
    | TopicSet
    | TopicIs
    | RoomsHeader
    | RoomEntry
    | HistoryEnd
    | SearchHeader
    | SearchEnd
    | ReadUpTo
    | UnreadFrom
)


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


@dataclass(frozen=True, slots=True)
class History:
    """
    C{line} was said at C{time} (POSIX seconds, shown to the second in UTC)
    and kept in history as C{id}.
    """

    id: int
    time: float
    line: Plain

    def format(self) -> str:
        return f"[{_utc(self.time)} id {self.id}] {self.line.format()}"


@dataclass(frozen=True, slots=True)
class InRoom:
    """
    C{line} is about C{room}.
    """

    room: str
    line: Plain | History

    def format(self) -> str:
        return f"{self.room} {self.line.format()}"


Event: TypeAlias = Plain | History | InRoom


def encode(event: Event) -> bytes:
    """
    Format C{event} as the bytes of one server line, line end included.

    @param event: Any server event.
    @return: UTF-8 bytes ending in CR LF.
    """
    return event.format().encode("utf-8") + LINE_END


_NAME = r"[^\s<>*!,]+"
_ROOM = r"#[^\s<>*!,]+"
_KICK = re.compile(rf"kicked by ({_NAME})(?:: (.*))?\Z", re.S)
_IN_ROOM = re.compile(rf"({_ROOM}) (.*)\Z", re.S)
_HISTORY = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ) id (\d+)\] (.*)\Z", re.S)


def _seconds(utc: str) -> float:
    return float(calendar.timegm(time.strptime(utc, "%Y-%m-%d %H:%M:%SZ")))


def _role_changed(m: re.Match[str]) -> Plain:
    given = m[2] == "gave"
    if ROLE_NAMES[m[5]] != m[3] or (m[4] == "+") != given or (m[6] == "to") != given:
        return Info(m[0][len("-!- ") :])
    return RoleChanged(m[1], m[7], m[5], given)


_PATTERNS: Sequence[tuple[re.Pattern[str], Callable[[re.Match[str]], Plain]]] = (
    (
        re.compile(rf"<-- ({_NAME}) has left(?: \((.*)\))?\Z", re.S),
        lambda m: Left(m[1], m[2] or ""),
    ),
    (re.compile(rf"<({_NAME})> (.*)\Z", re.S), lambda m: Message(m[1], m[2])),
    (re.compile(rf"\* ({_NAME}) (.*)\Z", re.S), lambda m: Action(m[1], m[2])),
    (re.compile(rf"\*({_NAME})\* (.*)\Z", re.S), lambda m: PrivateIn(m[1], m[2])),
    (
        re.compile(rf"-> \*({_NAME})\* (.*)\Z", re.S),
        lambda m: PrivateOut(m[1], m[2]),
    ),
    (re.compile(rf"--> ({_NAME}) has joined\Z"), lambda m: Joined(m[1])),
    (
        re.compile(rf"--- ({_NAME}) is now known as ({_NAME})\Z"),
        lambda m: Renamed(m[1], m[2]),
    ),
    (
        re.compile(r"=== Users online \((\d+)\):(?: (.*))?\Z", re.S),
        lambda m: _user_list(int(m[1]), m[2]),
    ),
    (
        re.compile(rf"=== Welcome to (.*), ({_NAME})!\Z", re.S),
        lambda m: Welcome(m[1], m[2]),
    ),
    (re.compile(r">>> ([a-z]+): (.*)\Z", re.S), lambda m: Prompt(m[1], m[2])),
    (
        re.compile(rf"--- ({_NAME}) set the topic: (.*)\Z", re.S),
        lambda m: TopicSet(m[1], m[2]),
    ),
    (re.compile(rf"--- ({_NAME}) cleared the topic\Z"), lambda m: TopicSet(m[1], "")),
    (
        re.compile(rf"=== Topic set by ({_NAME}): (.*)\Z", re.S),
        lambda m: TopicIs(m[2], m[1]),
    ),
    (re.compile(r"=== No topic is set\Z"), lambda m: TopicIs("")),
    (re.compile(r"=== Rooms \((\d+)\):\Z"), lambda m: RoomsHeader(int(m[1]))),
    (
        re.compile(rf"=== ({_ROOM}) \((\d+) users?\)(?:: (.*))?\Z", re.S),
        lambda m: RoomEntry(m[1], int(m[2]), m[3] or ""),
    ),
    (
        re.compile(r"=== End of history \((\d+) lines?\)\Z"),
        lambda m: HistoryEnd(int(m[1])),
    ),
    (re.compile(r"=== No more history\Z"), lambda m: HistoryEnd(0)),
    (
        re.compile(r"=== Search results \((\d+) lines?\): (.*)\Z", re.S),
        lambda m: SearchHeader(int(m[1]), m[2]),
    ),
    (
        re.compile(r"=== End of search \((\d+) lines?(; /search for more)?\)\Z"),
        lambda m: SearchEnd(int(m[1]), bool(m[2])),
    ),
    (re.compile(r"=== No more results\Z"), lambda m: SearchEnd(0, False)),
    (
        re.compile(rf"=== Read ({_ROOM}|{_NAME}) up to id (\d+) \((\d+) unread\)\Z"),
        lambda m: ReadUpTo(m[1], int(m[2]), int(m[3])),
    ),
    (re.compile(r"=== Not read yet:\Z"), lambda m: UnreadFrom()),
    (
        re.compile(
            rf"-!- ({_NAME}) (gave|took) (operator|voice) \(([+-])([ov])\) "
            rf"(to|from) ({_NAME})\Z"
        ),
        _role_changed,
    ),
    (
        re.compile(
            rf"-!- ({_NAME}) (banned|muted) (\S+) until "
            r"(lifted|\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)(?:: (.*))?\Z",
            re.S,
        ),
        lambda m: BanChanged(
            m[1],
            "ban" if m[2] == "banned" else "mute",
            m[3],
            True,
            None if m[4] == "lifted" else _seconds(m[4]),
            m[5] or "",
        ),
    ),
    (
        re.compile(rf"-!- ({_NAME}) lifted the (ban|mute) on (\S+)\Z"),
        lambda m: BanChanged(m[1], m[2], m[3], False),
    ),
    (
        re.compile(r"-!- the (ban|mute) on (\S+) ended\Z"),
        lambda m: BanChanged("", m[1], m[2], False),
    ),
    (
        re.compile(rf"-!- ({_NAME}) set mode ([+-][a-z+-]*)((?: \S+)*)\Z"),
        lambda m: ModeChanged(m[1], m[2], tuple(m[3].split())),
    ),
    (re.compile(r"-!- (.*)\Z", re.S), lambda m: Info(m[1])),
    (re.compile(r"!!! (.*)\Z", re.S), lambda m: Error(m[1])),
)


def _user_list(count: int, names: str | None) -> UserList:
    listed = tuple(names.split(", ")) if names else ()
    if len(listed) != count:
        raise LineFormatError(f"user list says {count} but names {len(listed)}")
    return UserList(listed)


def parse(line: str | bytes) -> Event:
    """
    Parse one server line back into the event it was formatted from.

    @param line: The line, as text or as UTF-8 bytes, with or without its line
        end.
    @return: The event, equal to the one that was formatted.
    @raise LineFormatError: If the line is not a server line.
    """
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise LineFormatError(f"not UTF-8: {e}") from None
    line = line.removesuffix("\n").removesuffix("\r")
    match = _IN_ROOM.match(line)
    if match is not None:
        return InRoom(match[1], _parse_kept(match[2]))
    return _parse_kept(line)


def _parse_kept(line: str) -> Plain | History:
    match = _HISTORY.match(line)
    if match is not None:
        return History(int(match[2]), _seconds(match[1]), _parse_plain(match[3]))
    return _parse_plain(line)


def _parse_plain(line: str) -> Plain:
    for pattern, build in _PATTERNS:
        match = pattern.match(line)
        if match is not None:
            return build(match)
    raise LineFormatError(f"not a server line: {line!r}")
