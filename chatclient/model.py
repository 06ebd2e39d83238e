"""
What the window shows, without Tk: the chat lines (styled, stamped, capped),
who is online, the status line, the title with its unread count.

Lines reach the view in batches: the first line after a quiet spell
schedules one flush for the next turn of the reactor, and a flood is handed
over a batch at a time, each batch in its own reactor turn so that Tk keeps
drawing and answering in between.  Lines that would fall off the top of the
scrollback before they are even shown are dropped unseen, so a burst costs
neither unbounded memory nor unbounded Tk work.
"""

from __future__ import annotations

import re
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from zope.interface import Interface

from chatserver.core.names import name_key
from chatserver.doors.line import lines

#: Name colours, readable on a white background; each name always gets the
#: same one (see L{colourIndex}).
PALETTE = (
    "#c0392b",  # red
    "#2471a3",  # blue
    "#1e8449",  # green
    "#8e44ad",  # purple
    "#d35400",  # orange
    "#117a65",  # teal
    "#9a7d0a",  # mustard
    "#1a5276",  # navy
    "#c2185b",  # pink
    "#6d4c41",  # brown
    "#00838f",  # cyan
    "#5d6d7e",  # slate
)

#: The kinds of line, each styled on its own.
KINDS = (
    "message",
    "own",
    "action",
    "private",
    "join",
    "leave",
    "rename",
    "info",
    "error",
    "notice",
)


def colourIndex(name: str) -> int:
    """
    @return: The index in L{PALETTE} of C{name}'s colour: the same for the
        same name (in any case) in every run.
    """
    return zlib.adler32(name_key(name).encode("utf-8")) % len(PALETTE)


@dataclass(frozen=True, slots=True)
class Part:
    """
    A piece of a line; C{name} is set when the piece is a user's name, to
    be shown in that name's colour.
    """

    text: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class ViewLine:
    """
    One line of the chat view.

    @ivar time: When it arrived, as C{HH:MM}.
    @ivar kind: One of L{KINDS}.
    @ivar parts: The text, in pieces.
    @ivar mention: Whether someone else mentions the reader's name in it.
    """

    time: str
    kind: str
    parts: tuple[Part, ...]
    mention: bool = False

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


def render(event: lines.Event, own: bool = False) -> tuple[str, tuple[Part, ...]]:
    """
    Split a server event into styled pieces that read exactly as the server
    line does (C{event.format()}), with the names picked out.

    @param own: Whether the event is the reader's own chat line.
    @return: The kind of line (one of L{KINDS}) and its pieces.
    """
    match event:
        case lines.Message(sender, text):
            return ("own" if own else "message"), (
                Part("<"),
                Part(sender, sender),
                Part(f"> {text}"),
            )
        case lines.Action(sender, text):
            return "action", (Part("* "), Part(sender, sender), Part(f" {text}"))
        case lines.PrivateIn(sender, text):
            return "private", (Part("*"), Part(sender, sender), Part(f"* {text}"))
        case lines.PrivateOut(recipient, text):
            return "private", (
                Part("-> *"),
                Part(recipient, recipient),
                Part(f"* {text}"),
            )
        case lines.Joined(name):
            return "join", (Part("--> "), Part(name, name), Part(" has joined"))
        case lines.Left(name, reason):
            rest = f" has left ({reason})" if reason else " has left"
            return "leave", (Part("<-- "), Part(name, name), Part(rest))
        case lines.Renamed(old, new):
            return "rename", (
                Part("--- "),
                Part(old, old),
                Part(" is now known as "),
                Part(new, new),
            )
        case lines.Error():
            return "error", (Part(event.format()),)
        case _:
            return "info", (Part(event.format()),)


def mentionPattern(name: str) -> re.Pattern[str]:
    """
    @return: A pattern that finds C{name} as a word of its own, in any case.
    """
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-]|\.\w)", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """
    @return: Whether C{text} mentions C{name} as a word of its own, in any
        case.
    """
    return bool(name) and mentionPattern(name).search(text) is not None


@dataclass(frozen=True, slots=True)
class Status:
    """
    The status line.

    @ivar level: C{"info"}, C{"ok"}, C{"warning"} or C{"error"}.
    @ivar canReconnect: Whether a "Reconnect now" button makes sense.
    """

    text: str
    level: str = "info"
    canReconnect: bool = False


_CHAT = (lines.Message, lines.Action, lines.PrivateIn)
_MEMBERSHIP = (lines.UserList, lines.Joined, lines.Left, lines.Renamed)


class IChatView(Interface):
    """
    What the model asks of the window.
    """

    def appendLines(batch: Sequence[ViewLine], trim: int) -> None:
        """
        Add C{batch} at the bottom, then remove the C{trim} oldest lines.
        """

    def showUsers(names: Sequence[str]) -> None:
        """
        Show who is online.
        """

    def showTitle(title: str) -> None:
        """
        Set the window's title.
        """

    def showStatus(status: Status) -> None:
        """
        Set the status line.
        """

    def showPassword(name: str) -> None:
        """
        Show the connect form with its password field, asking for the
        password of C{name}.
        """

    def showLogin(error: str, field: str = "name") -> None:
        """
        Show the connect form, with C{error} beside C{field} (C{"name"},
        C{"password"} or C{"tls"}).
        """

    def showChat() -> None:
        """
        Show the chat (the user is logged in).
        """


class ChatModel:
    """
    Everything the window shows, kept current from server events.

    @ivar ownName: The name the reader is logged in as, or C{""}.
    @ivar server: The server's address, for the title.
    @ivar lines: The lines the view holds (at most C{scrollback}).
    @ivar pending: Lines waiting for the next flush.
    @ivar unread: Lines that arrived while the window was not focused.
    """

    def __init__(
        self,
        clock: IReactorTime,
        scrollback: int = 5000,
        batchSize: int = 250,
        localtime: Callable[[float], time.struct_time] = time.localtime,
    ) -> None:
        """
        @param clock: Schedules the flushes and stamps the lines.
        @param scrollback: How many lines the view keeps at most.
        @param batchSize: How many lines one flush hands to the view.
        @param localtime: Turns the clock's seconds into a local time.
        """
        if scrollback < 1 or batchSize < 1:
            raise ValueError("scrollback and batchSize must be positive")
        self.clock = clock
        self.scrollback = scrollback
        self.batchSize = batchSize
        self._localtime = localtime
        self.view: IChatView | None = None
        self._ownName = ""
        self._ownKey = ""
        self._mention: re.Pattern[str] | None = None
        self._stamp = (-1, "")
        self.server = ""
        self.users: dict[str, str] = {}
        self.lines: deque[ViewLine] = deque(maxlen=scrollback)
        self.pending: deque[ViewLine] = deque()
        self.unread = 0
        self.focused = True
        self.status = Status("Not connected.")
        self._flushCall: IDelayedCall | None = None
        self._usersChanged = False
        self._titleChanged = False
        self._viewCount = 0

    def attach(self, view: IChatView) -> None:
        """
        Show everything in C{view} from now on.
        """
        self.view = view
        view.showStatus(self.status)
        view.showTitle(self.title)
        view.showUsers(self.userNames())

    @property
    def ownName(self) -> str:
        """
        The name the reader is logged in as, or C{""}.
        """
        return self._ownName

    @ownName.setter
    def ownName(self, name: str) -> None:
        self._ownName = name
        self._ownKey = name_key(name) if name else ""
        self._mention = mentionPattern(name) if name else None
        self._changeTitle()

    # What is shown

    @property
    def title(self) -> str:
        """
        The window title: who, where, and the unread count.
        """
        title = "Chat"
        if self.ownName:
            title = f"{self.ownName} on {self.server} - Chat"
        elif self.server:
            title = f"{self.server} - Chat"
        if self.unread:
            title = f"({self.unread}) {title}"
        return title

    def userNames(self) -> list[str]:
        """
        @return: Who is online, sorted without regard to case.
        """
        return sorted(self.users.values(), key=lambda n: (name_key(n), n))

    def stamp(self) -> str:
        """
        @return: The time now, as lines show it.
        """
        minute = int(self.clock.seconds() // 60)
        if minute != self._stamp[0]:
            stamp = time.strftime("%H:%M", self._localtime(minute * 60))
            self._stamp = (minute, stamp)
        return self._stamp[1]

    # Changes

    def setStatus(self, status: Status) -> None:
        """
        Show C{status} in the status line.
        """
        self.status = status
        if self.view is not None:
            self.view.showStatus(status)

    def setServer(self, server: str) -> None:
        """
        Name the server (its address) in the title.
        """
        self.server = server
        self._changeTitle()

    def loggedIn(self, name: str) -> None:
        """
        The reader is now logged in as C{name}.
        """
        self.ownName = name
        if self.view is not None:
            self.view.showChat()

    def loginFailed(self, reason: str, field: str = "name") -> None:
        """
        The server refused the login; C{reason} is its word for why, to be
        shown beside C{field} of the connect form (C{"name"}, C{"password"}
        or C{"tls"}).
        """
        if self.view is not None:
            self.view.showLogin(reason, field)

    def askPassword(self, name: str) -> None:
        """
        The server asks for the password of C{name}.
        """
        if self.view is not None:
            self.view.showPassword(name)

    def showLogin(self) -> None:
        """
        Show the connect form with no error.
        """
        if self.view is not None:
            self.view.showLogin("")

    def disconnected(self) -> None:
        """
        The connection is gone: nobody is known to be online any more.
        """
        self.users.clear()
        self._usersChanged = True
        self._schedule()

    def setFocused(self, focused: bool) -> None:
        """
        The window gained or lost the keyboard focus; gaining it reads all.
        """
        self.focused = focused
        if focused and self.unread:
            self.unread = 0
            self._changeTitle()

    def addEvent(self, event: lines.Event) -> None:
        """
        Show a server event and keep the user list current with it.
        """
        own = mention = False
        if isinstance(event, _CHAT):
            own = name_key(event.sender) == self._ownKey
            if not own and self._mention is not None:
                mention = self._mention.search(event.text) is not None
        elif isinstance(event, _MEMBERSHIP):
            self._track(event)
        kind, parts = render(event, own)
        self._add(ViewLine(self.stamp(), kind, parts, mention), counts=not own)

    def addNotice(self, text: str, kind: str = "notice") -> None:
        """
        Show a line of the client's own (not from the server).
        """
        self._add(ViewLine(self.stamp(), kind, (Part(text),)), counts=False)

    def _track(
        self, event: lines.UserList | lines.Joined | lines.Left | lines.Renamed
    ) -> None:
        match event:
            case lines.UserList(names):
                self.users = {name_key(n): n for n in names}
            case lines.Joined(name):
                self.users[name_key(name)] = name
            case lines.Left(name):
                self.users.pop(name_key(name), None)
            case lines.Renamed(old, new):
                self.users.pop(name_key(old), None)
                self.users[name_key(new)] = new
                if name_key(old) == self._ownKey:
                    self.ownName = new
            case _:
                return
        self._usersChanged = True
        self._schedule()

    def _add(self, line: ViewLine, counts: bool) -> None:
        self.pending.append(line)
        if counts and not self.focused:
            self.unread += 1
            self._titleChanged = True
        self._schedule()

    def _changeTitle(self) -> None:
        self._titleChanged = True
        self._schedule()

    # Flushing

    def _schedule(self) -> None:
        if self._flushCall is None:
            self._flushCall = self.clock.callLater(0, self.flush)

    def flush(self) -> None:
        """
        Hand the view the next batch of lines and any other change; schedule
        the next flush if lines are left.
        """
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        excess = len(self.pending) - self.scrollback
        for _ in range(excess):
            self.pending.popleft()
        batch = [
            self.pending.popleft()
            for _ in range(min(self.batchSize, len(self.pending)))
        ]
        self.lines.extend(batch)
        total = self._viewCount + len(batch)
        trim = max(0, total - self.scrollback)
        self._viewCount = total - trim
        view = self.view
        if view is not None:
            if batch:
                view.appendLines(batch, trim)
            if self._usersChanged:
                view.showUsers(self.userNames())
            if self._titleChanged:
                view.showTitle(self.title)
        self._usersChanged = self._titleChanged = False
        if self.pending:
            self._schedule()

    def cancel(self) -> None:
        """
        Stop any scheduled flush (before the window goes away).
        """
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
