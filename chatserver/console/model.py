"""
What the server console window shows, computed without Tk.

The console is fed by one stream: the server's own L{twisted.logger} events
(namespace C{chatserver}, each with a C{chat_event} key).  This module turns
those events into log lines, keeps a bounded number of them, and turns the
factory's open connections into the rows of the user list.  The Tk window in
L{chatserver.console.service} only draws what this module computes.
"""

from __future__ import annotations

import functools
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.logger import LogLevel, formatEvent
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.core.names import name_key

RUNNING = "Running"
STOPPING = "Stopping\N{HORIZONTAL ELLIPSIS}"
RUNNING_COLOUR = "#1a7f37"
STOPPING_COLOUR = "#b35900"

DEFAULT_MAX_LINES = 1000

USER_EVENTS = frozenset({"connect", "login", "rename", "leave", "disconnect"})
"""
The C{chat_event}s after which the user list may have changed.
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


class Connection(Protocol):
    """
    What the console reads of a connection (a L{ChatProtocol}).
    """

    @property
    def name(self) -> str: ...

    @property
    def loggedIn(self) -> bool: ...

    @property
    def peer(self) -> str: ...

    @property
    def connectedAt(self) -> float: ...


@dataclass(frozen=True)
class UserRow:
    """
    One row of the user list.

    @ivar key: Identifies the connection across refreshes and renames.
    @ivar connection: The connection itself, to kick it.
    """

    key: str
    name: str
    peer: str
    since: str
    connection: Connection = field(compare=False, repr=False)


def format_since(connectedAt: float, now: float) -> str:
    """
    @return: The local time of C{connectedAt}: C{HH:MM:SS} when it is the
        same day as C{now}, C{YYYY-MM-DD HH:MM} otherwise.
    """
    return _since(connectedAt, time.localtime(now)[:3])


@functools.lru_cache(maxsize=4096)
def _since(connectedAt: float, today: tuple[int, ...]) -> str:
    then = time.localtime(connectedAt)
    if then[:3] == today:
        return time.strftime("%H:%M:%S", then)
    return time.strftime("%Y-%m-%d %H:%M", then)


def connection_key(connection: object) -> str:
    return f"c{id(connection):x}"


def user_rows(connections: Iterable[Connection], now: float) -> list[UserRow]:
    """
    @return: A row for each logged-in connection, sorted by name regardless
        of case.
    """
    users = sorted(
        (c for c in connections if c.loggedIn), key=lambda c: name_key(c.name)
    )
    today = time.localtime(now)[:3]
    return [
        UserRow(connection_key(c), c.name, c.peer, _since(c.connectedAt, today), c)
        for c in users
    ]


def count_text(connections: Iterable[Connection]) -> str:
    """
    @return: How many users are online, and how many connections are still
        choosing a name, if any: C{"2 users online, 1 connecting"}.
    """
    users = pending = 0
    for c in connections:
        if c.loggedIn:
            users += 1
        else:
            pending += 1
    text = f"{users} user{'' if users == 1 else 's'} online"
    if pending:
        text += f", {pending} connecting"
    return text


def status(stopping: bool, addresses: Iterable[str]) -> tuple[str, str, str]:
    """
    @return: The status word, its colour, and the listening addresses as one
        line.
    """
    listening = ", ".join(addresses)
    where = f"listening on {listening}" if listening else "not listening"
    if stopping:
        return STOPPING, STOPPING_COLOUR, where
    return RUNNING, RUNNING_COLOUR, where
