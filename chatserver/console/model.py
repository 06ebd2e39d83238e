"""
What the server console window shows, computed without Tk.

The console is fed by one stream: the server's own L{twisted.logger} events
(namespace C{chatserver}, each with a C{chat_event} key).  This module turns
those events into log lines, keeps a bounded number of them, and turns the
chat's users (L{chatserver.core.users.ChatUser}) and rooms into the rows of
the user and room lists.  The Tk window in
L{chatserver.console.service} only draws what this module computes.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.logger import LogLevel, formatEvent
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.core.moderation.records import BAN, KLINE, MUTE
from chatserver.core.moderation.state import Moderation
from chatserver.core.remote import RemoteUser
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser
from chatserver.metrics import figures
from chatserver.metrics.doors import door_of
from chatserver.server import ChatServer

RUNNING = "Running"
STOPPING = "Stopping\N{HORIZONTAL ELLIPSIS}"
#: The status line's level (a colour of the theme's status colours) while
#: running, and while stopping.
RUNNING_LEVEL = "ok"
STOPPING_LEVEL = "warning"

DEFAULT_MAX_LINES = 1000

USER_EVENTS = frozenset(
    {"connect", "login", "rename", "leave", "disconnect", "join", "part", "peers"}
)
"""
The C{chat_event}s after which the user list (or its count) may have
changed.
"""

ROOM_EVENTS = frozenset({"login", "leave", "join", "part", "topic", "peers"})
"""
The C{chat_event}s after which the room list may have changed.
"""

ERROR = "error"
"""
The kind of a log line for an error logged outside the chat server's own
events (an unhandled error in a Deferred, for instance).
"""


@dataclass(frozen=True, slots=True)
class LogLine:
    """
    One line of the console's log view.

    @ivar time: The local time of the event, C{HH:MM:SS}.
    @ivar kind: The event's C{chat_event} (C{"login"}, C{"leave"}, ...) or
        L{ERROR}; the window colours lines by kind.
    @ivar text: What happened, in words.
    """

    time: str
    kind: str
    text: str

    def render(self) -> str:
        return f"{self.time}  {self.text}"


def _clock_time(seconds: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(seconds))


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).replace("\r", "")


def describe_event(event: Mapping[str, Any]) -> LogLine | None:
    """
    Turn one log event into a console line.

    @return: A line for each chat server event (any C{chat_event} in the
        C{chatserver} namespace) and for any error logged elsewhere; L{None}
        for every other event.
    """
    kind = event.get("chat_event")
    if event.get("log_namespace") == LOG_NAMESPACE and isinstance(kind, str):
        text = formatEvent(dict(event))
    else:
        if event.get("log_level") not in (LogLevel.error, LogLevel.critical):
            return None
        kind = ERROR
        text = formatEvent(dict(event))
        failure = event.get("log_failure")
        if isinstance(failure, Failure):
            problem = failure.getErrorMessage()
            if failure.type is not None:
                problem = f"{failure.type.__name__}: {problem}"
            text = f"{text}: {problem}" if text else problem
    stamp = event.get("log_time")
    if not isinstance(stamp, (int, float)):
        stamp = time.time()
    return LogLine(_clock_time(stamp), kind, _one_line(text))


class ConsoleLog:
    """
    The last L{maxLines} console lines.
    """

    def __init__(self, maxLines: int = DEFAULT_MAX_LINES) -> None:
        if maxLines < 1:
            raise ValueError("a console log holds at least one line")
        self.maxLines = maxLines
        self.lines: deque[LogLine] = deque(maxlen=maxLines)

    def add(self, event: Mapping[str, Any]) -> LogLine | None:
        """
        Record C{event}, dropping the oldest line when full.

        @return: The new line, or L{None} if the event is not shown.
        """
        line = describe_event(event)
        if line is not None:
            self.lines.append(line)
        return line


def changes_users(event: Mapping[str, Any]) -> bool:
    """
    @return: Whether the user list may have changed with C{event}.
    """
    return (
        event.get("log_namespace") == LOG_NAMESPACE
        and event.get("chat_event") in USER_EVENTS
    )


def changes_bans(event: Mapping[str, Any]) -> bool:
    """
    @return: Whether the bans, mutes or klines may have changed with
        C{event} (a moderation action, or one that ended).
    """
    return (
        event.get("log_namespace") == LOG_NAMESPACE
        and event.get("chat_event") == "moderation"
    )


def changes_rooms(event: Mapping[str, Any]) -> bool:
    """
    @return: Whether the room list may have changed with C{event}.
    """
    return (
        event.get("log_namespace") == LOG_NAMESPACE
        and event.get("chat_event") in ROOM_EVENTS
    )


@dataclass(frozen=True)
class UserRow:
    """
    One row of the user list.

    @ivar key: Identifies the user across refreshes and renames.
    @ivar door: The door the user came through (C{line}, C{irc}, C{web}),
        or C{node NAME} for a user of another node of the cluster.
    @ivar peer: Where the user comes from, or C{node NAME} for a user of
        another node of the cluster.
    @ivar idle: How long since the user last sent something (since logging
        in, for a door that does not tell), as L{format_idle} says it; empty
        for a user of another node.
    @ivar rooms: The user's rooms, in the order joined (C{#lobby, #dev}).
    @ivar user: The user itself, to kick it.
    """

    key: str
    name: str
    door: str
    peer: str
    since: str
    idle: str
    rooms: str
    user: ChatUser | RemoteUser = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RoomRow:
    """
    One row of the room list.

    @ivar key: Identifies the room across refreshes (its name's key).
    @ivar members: How many users are in it.
    @ivar topic: Its topic, empty when none is set.
    """

    key: str
    name: str
    members: int
    topic: str


@dataclass(frozen=True, slots=True)
class BanRow:
    """
    One row of the moderation panel: a ban or a mute in a room, or a
    kline.

    @ivar key: Identifies it across refreshes.
    @ivar room: The room's name, or C{""} for a kline.
    @ivar kind: C{ban}, C{mute} or C{kline}.
    """

    key: str
    room: str
    kind: str
    mask: str
    setter: str
    setAt: str
    ends: str
    reason: str


def ban_rows(
    moderation: Moderation, rooms: Mapping[str, Room], now: float
) -> list[BanRow]:
    """
    @param rooms: The rooms that exist, by key (for the spelling of their
        names; a room without members shows as its key).
    @return: The klines, then the bans and mutes of every room by room,
        each oldest first.
    """
    scopes = [("", KLINE)] + [
        (key, kind) for key in sorted(moderation.rooms) for kind in (BAN, MUTE)
    ]
    rows = []
    for scope, kind in scopes:
        room = rooms[scope].name if scope in rooms else scope
        for ban in moderation.bans(scope, kind):
            ends = "until lifted"
            if ban.endsAt is not None:
                ends = format_since(ban.endsAt, now)
            rows.append(
                BanRow(
                    f"b{kind}:{scope}:{ban.mask}",
                    room,
                    kind,
                    ban.mask,
                    ban.setter,
                    format_since(ban.setAt, now),
                    ends,
                    ban.reason,
                )
            )
    return rows


def format_since(since: float, now: float) -> str:
    """
    @return: The local time of C{since}: C{HH:MM:SS} when it is the same day
        as C{now}, C{YYYY-MM-DD HH:MM} otherwise.
    """
    return _since(since, time.localtime(now)[:3])


@functools.lru_cache(maxsize=4096)
def _since(since: float, today: tuple[int, ...]) -> str:
    then = time.localtime(since)
    if then[:3] == today:
        return time.strftime("%H:%M:%S", then)
    return time.strftime("%Y-%m-%d %H:%M", then)


def user_key(user: ChatUser | RemoteUser) -> str:
    """
    @return: What identifies C{user} in the user list: the same for as long
        as it is logged in, whatever it is called.
    """
    return f"u{id(user):x}"


def room_names(rooms: Iterable[Room]) -> str:
    """
    @return: The names of C{rooms}, in order: C{"#lobby, #dev"}.
    """
    return ", ".join(room.name for room in rooms)


def user_rows(
    users: Iterable[ChatUser | RemoteUser],
    now: float,
    rooms: Mapping[str, Room] | None = None,
) -> list[UserRow]:
    """
    @param users: The users online, of this node and (in a cluster) of the
        others.
    @param rooms: The rooms by key, to name the rooms of users of other
        nodes.
    @return: A row for each user online, sorted by name regardless of case.
    """
    today = time.localtime(now)[:3]
    rows = []
    for user in sorted(users, key=lambda user: user.key):
        if isinstance(user, RemoteUser):
            known = rooms or {}
            where = [known[key] for key in user.rooms if key in known]
            peer = door = f"node {user.node}"
            idle = ""
        elif user.online:
            where, peer = list(user.rooms), user.mind.peer
            door = door_of(user.mind)
            idle = format_idle(now - max(user.mind.lastActive, user.since))
        else:
            continue
        rows.append(
            UserRow(
                user_key(user),
                user.name,
                door,
                peer,
                _since(user.since, today),
                idle,
                room_names(where),
                user,
            )
        )
    return rows


def format_idle(seconds: float) -> str:
    """
    @return: C{seconds} of idleness, short: C{"12s"}, C{"4m"}, C{"1h 05m"},
        C{"2d 3h"}.
    """
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 24:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{hours // 24}d {hours % 24}h"


#: The kinds of log line the log view can be narrowed to, by what an
#: operator looks for.
LOG_GROUPS: dict[str, frozenset[str] | None] = {
    "Everything": None,
    "Connections": frozenset({"listening", "connect", "disconnect", "refused"}),
    "Logins and leaves": frozenset({"login", "leave", "rename"}),
    "Rooms": frozenset({"join", "part", "topic"}),
    "Messages": frozenset({"message"}),
    "Problems": frozenset({ERROR, "rejected", "refused", "timeout"}),
}


def shows(line: LogLine, words: str, group: str = "Everything") -> bool:
    """
    @param words: What the line must hold, in any case (C{""}: anything);
        each word must be there.
    @param group: One of L{LOG_GROUPS}: the kinds of line shown.
    @return: Whether the filtered log view shows C{line}.
    """
    kinds = LOG_GROUPS.get(group)
    if kinds is not None and line.kind not in kinds:
        return False
    text = line.render().casefold()
    return all(word in text for word in words.casefold().split())


@dataclass(frozen=True, slots=True)
class Counters:
    """
    What the chat has counted so far, read at one time: the counters
    C{/metrics} serves (see L{chatserver.metrics.figures}).

    @ivar when: When they were read.
    @ivar users: Logged-in users of this node, by door.
    @ivar lines: Lines received, by door.
    @ivar deliveries: Writes handed to recipients, by door.
    @ivar drops: Connections refused or dropped by a limit, by limit.
    """

    when: float
    users: Mapping[str, int]
    lines: Mapping[str, int]
    deliveries: Mapping[str, int]
    drops: Mapping[str, int]


def read_counters(server: ChatServer) -> Counters:
    """
    @return: The chat's counters now, read where C{/metrics} reads them.
    """
    realm = server.realm
    return Counters(
        realm.now(),
        figures.users_by_door(realm.users()),
        _lines_by_door(realm.received),
        figures.deliveries_by_door(realm.fanout.deliveries),
        dict(server.counts.drops),
    )


def _lines_by_door(received: dict[tuple[str, type], int]) -> dict[str, int]:
    return figures.summed(figures.lines_by_kind_and_door(received), lambda key: key[1])


def _by_door_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{door} {number}" for door, number in sorted(counts.items()))


def _rate(before: Mapping[str, int], after: Mapping[str, int], seconds: float) -> float:
    if seconds <= 0:
        return 0.0
    return max(0, sum(after.values()) - sum(before.values())) / seconds


def figures_text(before: Counters | None, now: Counters) -> dict[str, str]:
    """
    The figures at a glance, as C{/metrics} would give them.

    @param before: The counters read a moment ago, or L{None} at first.
    @return: The text of each figure: C{"users"} (by door), C{"lines"} and
        C{"deliveries"} (a second, since C{before}), C{"drops"} (in all,
        by limit).
    """
    users = sum(now.users.values())
    byDoor = _by_door_text(now.users)
    seconds = now.when - before.when if before is not None else 0.0
    previous = before or now
    drops = sum(now.drops.values())
    dropText = f"{drops}"
    if drops:
        dropText += f" ({_by_door_text(now.drops)})"
    return {
        "users": f"{users}" + (f" ({byDoor})" if byDoor else ""),
        "lines": f"{_rate(previous.lines, now.lines, seconds):.1f}/s",
        "deliveries": f"{_rate(previous.deliveries, now.deliveries, seconds):.1f}/s",
        "drops": dropText,
    }


def room_rows(rooms: Iterable[Room]) -> list[RoomRow]:
    """
    @return: A row for each room, sorted by name regardless of case.
    """
    return [
        RoomRow(room.key, room.name, len(room), _one_line(room.topic))
        for room in sorted(rooms, key=lambda room: room.key)
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def count_text(users: int, connections: int, rooms: int) -> str:
    """
    @param users: How many users are online.
    @param connections: How many connections are open, logged in or not.
    @param rooms: How many rooms exist.
    @return: How many users are online, how many connections are still
        choosing a name (if any), and how many rooms exist:
        C{"3 users online, 1 connecting, 2 rooms"}.
    """
    pending = max(0, connections - users)
    text = f"{_plural(users, 'user')} online"
    if pending:
        text += f", {pending} connecting"
    return f"{text}, {_plural(rooms, 'room')}"


def status(
    stopping: bool, addresses: Iterable[str], cluster: str = ""
) -> tuple[str, str, str]:
    """
    @param cluster: How this node stands in its cluster, if it is in one
        (C{node a of redis://127.0.0.1:6379/0}).
    @return: The status word, its level (L{RUNNING_LEVEL} or
        L{STOPPING_LEVEL}), and the listening addresses (and the cluster) as
        one line.
    """
    listening = ", ".join(addresses)
    where = f"listening on {listening}" if listening else "not listening"
    if cluster:
        where = f"{where}; {cluster}"
    if stopping:
        return STOPPING, STOPPING_LEVEL, where
    return RUNNING, RUNNING_LEVEL, where
