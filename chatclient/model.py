"""
What the window shows, without Tk: a conversation per room the reader is in
and per private conversation, each with its chat lines (styled, stamped,
capped), its members, its unread count and mention mark and its topic; the
rooms list, the status line, the title with the unread count.

Room lines come marked with their room (L{lines.InRoom}), except while the
reader's only room is the server's default room: unmarked room lines are about
the default room (the "home" conversation, named once C{/where} says which
room it is).  History (L{lines.History}) is shown muted with its own time,
followed by a separator where live lines begin; lines already shown (by
history id, or live lines matched by sender, text and time) are never shown
twice, after a reconnection or when paging back.

Lines reach the view in batches: the first line after a quiet spell
schedules one flush for the next turn of the reactor, and a flood is handed
over a batch at a time, each batch in its own reactor turn so that Tk keeps
drawing and answering in between.  Lines that would fall off the top of the
scrollback before they are even shown are dropped unseen, so a burst costs
neither unbounded memory nor unbounded Tk work.

On an account, what the reader sees is read: the conversation shown in a
focused window has its new lines reported to the server (C{/read}), which
moves the account's read marker for every device.  The reports are coalesced:
one per conversation for a burst of lines, L{READ_DELAY} seconds after the
first.
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

from chatclient.search import Hit, Search
from chatwire import lines
from chatwire.errors import NoSuchUser
from chatwire.names import name_key, room_key

#: Seconds between a conversation being read (shown in a focused window) and
#: the report to the server: a burst of lines in that time is one C{/read}.
READ_DELAY = 1.0

#: How the server refuses a C{/read} that the client sent by itself (a
#: private conversation with a guest, who has no kept lines): not shown.
_READ_REFUSALS = (
    "there is no line to mark read in ",
    "read markers and private history are kept for accounts only",
)

#: Name colours, readable on a white background; each name always gets the
#: same one (see L{colour_index}).
PALETTE = (
    "#c0392b",  # red
    "#2471a3",  # blue
    "#1e8449",  # green
    "#8e44ad",  # purple
    "#b84a00",  # orange
    "#117a65",  # teal
    "#8a6f08",  # mustard
    "#1a5276",  # navy
    "#c2185b",  # pink
    "#6d4c41",  # brown
    "#00767f",  # cyan
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
    "separator",
)


def colour_index(name: str) -> int:
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
    link: bool = False


#: An http or https URL in a line: nothing else is ever a link.
_URL = re.compile(r"(?<![\w/.+-])https?://[^\s<>\"'`]+", re.IGNORECASE)

#: What a URL in prose does not end with.
_TRAILING = ".,;:!?'\")]}"


def find_links(text: str) -> list[tuple[int, int]]:
    """
    Find the http and https URLs in C{text}, without the punctuation that
    ends the sentence around them (a closing bracket is kept when the URL
    opened one).

    @return: The start and end of each, in order.
    """
    found = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            closing = text[end - 1]
            opening = {")": "(", "]": "[", "}": "{"}.get(closing)
            url = text[start:end]
            if opening is not None and url.count(opening) >= url.count(closing):
                break
            end -= 1
        if text.find("://", start) + 3 < end:
            found.append((start, end))
    return found


def linked(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """
    @return: C{parts} with each URL in a piece of text (not a name) cut out
        as a piece of its own, marked as a link.
    """
    result: list[Part] = []
    for part in parts:
        spans = [] if part.name else find_links(part.text)
        if not spans:
            result.append(part)
            continue
        position = 0
        for start, end in spans:
            if start > position:
                result.append(Part(part.text[position:start]))
            result.append(Part(part.text[start:end], link=True))
            position = end
        if position < len(part.text):
            result.append(Part(part.text[position:]))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class ViewLine:
    """
    One line of the chat view.

    @ivar time: When it arrived, as C{HH:MM}.
    @ivar kind: One of L{KINDS}.
    @ivar parts: The text, in pieces.
    @ivar mention: Whether someone else mentions the reader's name in it.
    @ivar history: Whether it was said before the reader came (replayed
        history, shown muted with its original time).
    """

    time: str
    kind: str
    parts: tuple[Part, ...]
    mention: bool = False
    history: bool = False

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)


def render(event: lines.Event, own: bool = False) -> tuple[str, tuple[Part, ...]]:
    """
    Split a server event into styled pieces that read exactly as the server
    line does (C{event.format()}), with the names and the links picked out.

    @param own: Whether the event is the reader's own chat line.
    @return: The kind of line (one of L{KINDS}) and its pieces.
    """
    kind, parts = _render(event, own)
    return kind, linked(parts)


def _render(event: lines.Event, own: bool) -> tuple[str, tuple[Part, ...]]:
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


def mention_pattern(name: str) -> re.Pattern[str]:
    """
    @return: A pattern that finds C{name} as a word of its own, in any case.
    """
    return re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-]|\.\w)", re.IGNORECASE)


def mentions(text: str, name: str) -> bool:
    """
    @return: Whether C{text} mentions C{name} as a word of its own, in any
        case.
    """
    return bool(name) and mention_pattern(name).search(text) is not None


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
_KEPT = (lines.Message, lines.Action, lines.TopicSet)
_ROOM_LINES = (
    lines.Message,
    lines.Action,
    lines.Joined,
    lines.Left,
    lines.TopicSet,
    lines.TopicIs,
    lines.UserList,
)

#: Seconds between a live line's arrival and its history entry's time
#: within which the two are taken to be the same line (clock skew, delays).
OVERLAP = 120.0

#: Lines a page of older history asks for.
PAGE = 50

#: Pages asked for at most to fill the gap left by a disconnection.
GAP_PAGES = 8

#: Pages of older history asked for at most to reach a search result in
#: its tab.
SEEK_PAGES = 10

ROOM = "room"
PRIVATE = "private"


def _kept_key(line: lines.Plain) -> tuple[str, str, str] | None:
    """
    @return: What identifies a kept line (a message, an action, a topic
        change) apart from its time, or L{None} for a line history never
        keeps.
    """
    match line:
        case lines.Message(sender, text):
            return ("m", name_key(sender), text)
        case lines.Action(sender, text):
            return ("a", name_key(sender), text)
        case lines.TopicSet(setter, topic):
            return ("t", name_key(setter), topic)
    return None


class Conversation:
    """
    One tab: a room the reader is in, or a private conversation.

    @ivar key: The room's key (L{room_key}) or the other user's (L{name_key}).
    @ivar name: As shown.
    @ivar kind: L{ROOM} or L{PRIVATE}.
    @ivar lines: The lines the view holds, oldest first (capped).
    @ivar pending: Lines waiting for the next flush.
    @ivar members: The room's members, by key.
    @ivar roles: The letters of the members' roles (C{"o"} operator,
        C{"v"} voice), by key; a member without a role is not in it.
    @ivar unread: Chat lines not read yet.
    @ivar mention: Whether one of them mentions the reader.
    @ivar topic: The room's topic.
    @ivar hidden: A closed private conversation (it opens again with the
        next message).
    @ivar shownIds: The history ids shown.
    @ivar live: Recent live kept lines: their key and when they arrived.
    @ivar exhausted: Whether the server has no older history.
    @ivar newestId: The id of the newest history line shown, if any.
    @ivar liveAfter: Whether a live chat line (whose id the client does not
        know) was shown after it.
    @ivar unreported: Whether lines were shown (read) since the server was
        last told (C{/read}).
    """

    def __init__(self, key: str, name: str, kind: str, scrollback: int) -> None:
        self.key = key
        self.name = name
        self.kind = kind
        self.lines: deque[ViewLine] = deque()
        self.pending: deque[ViewLine] = deque()
        # Lines kept at most: the scrollback, and the pages read back.
        self.cap = scrollback
        self.scrollback = scrollback
        self.members: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.unread = 0
        self.mention = False
        self.topic = ""
        self.hidden = False
        self.joined = kind == PRIVATE
        self.shownIds: set[int] = set()
        self.live: deque[tuple[tuple[str, str, str], float]] = deque(maxlen=2000)
        self.exhausted = False
        self.newestId: int | None = None
        self.liveAfter = False
        self.unreported = False
        # History being received: a join replay, or pages asked for.
        self.replay: list[lines.History] = []
        self.requests: deque[str] = deque()  # "older" or "gap", in order
        self.gapAt: int | None = None
        self.gapPages = 0
        self.hadLines = False

    def __repr__(self) -> str:
        return f"<Conversation {self.name or '(home)'}>"

    @property
    def label(self) -> str:
        """
        The tab's label: the name, the unread count, a mark for a mention.
        """
        label = self.name or "…"
        if self.unread:
            label += f" ({self.unread})"
        if self.mention:
            label = "@ " + label
        return label

    def memberNames(self) -> list[str]:
        return sorted(self.members.values(), key=lambda n: (name_key(n), n))

    def shownMembers(self) -> list[str]:
        """
        @return: The members as the member list shows them (C{@alice},
            C{+bob}, C{carol}): operators first, then voiced members, then
            the others, each group by name.
        """
        shown = []
        for key, name in self.members.items():
            roles = self.roles.get(key, "")
            rank = 0 if "o" in roles else 1 if "v" in roles else 2
            shown.append((rank, key, name, lines.member(name, roles)))
        return [entry[3] for entry in sorted(shown)]

    def role(self, name: str) -> str:
        """
        @return: The letters of C{name}'s roles here (C{""} for none).
        """
        return self.roles.get(name_key(name), "")

    def setMembers(self, shown: Sequence[str], complete: bool) -> None:
        """
        The members are C{shown}, as a member list shows them.

        @param complete: Whether the list shows every role (the answer to
            C{/who}); a list without any prefix that is not (the answer to
            C{/join} or C{/where}) keeps the roles known.
        """
        members: dict[str, str] = {}
        highest: dict[str, str] = {}
        for entry in shown:
            name, letter = lines.split_member(entry)
            members[name_key(name)] = name
            if letter:
                highest[name_key(name)] = letter
        old = self.roles
        if complete or highest:
            # A list shows the highest role only: an operator known to
            # have voice keeps it.
            self.roles = {
                key: "ov" if letter == "o" and "v" in old.get(key, "") else letter
                for key, letter in highest.items()
            }
        else:
            self.roles = {k: v for k, v in old.items() if k in members}
        self.members = members

    def known(self, entry: lines.History) -> bool:
        """
        Whether C{entry} has been shown already: by its id, or as a live line
        with the same sender and text that arrived near its time (which is
        then used up, so a line said twice is matched once per showing).
        """
        if entry.id in self.shownIds:
            return True
        key = _kept_key(entry.line)
        if key is None:
            return False
        for index, (liveKey, when) in enumerate(self.live):
            if liveKey == key and abs(when - entry.time) <= OVERLAP:
                del self.live[index]
                self.shownIds.add(entry.id)
                return True
        return False


class IChatView(Interface):
    """
    What the model asks of the window.
    """

    def appendLines(
        batch: Sequence[ViewLine], trim: int, conversation: Conversation
    ) -> None:
        """
        Add C{batch} at the bottom of C{conversation}'s view, then remove
        the C{trim} oldest lines.
        """

    def insertLines(
        batch: Sequence[ViewLine], index: int, conversation: Conversation
    ) -> None:
        """
        Insert C{batch} before line C{index} (0: at the top) of
        C{conversation}'s view, without moving what the reader sees.
        """

    def showConversations(
        conversations: Sequence[Conversation], selected: Conversation | None
    ) -> None:
        """
        Show a tab per conversation (labels, order), C{selected} chosen.
        """

    def showUsers(names: Sequence[str]) -> None:
        """
        Show the members of the selected conversation.
        """

    def showTopic(conversation: Conversation) -> None:
        """
        Show C{conversation}'s topic above its view.
        """

    def showRooms(rooms: Sequence[lines.RoomEntry]) -> None:
        """
        Show the server's rooms in the rooms panel.
        """

    def showSearch(search: Search) -> None:
        """
        Show the results of the reader's search (a page of them arrived).
        """

    def showHit(conversation: Conversation, hit: Hit) -> None:
        """
        Show the line of C{hit} in C{conversation}'s view (selected), if
        the view holds it.
        """

    def showTitle(title: str) -> None:
        """
        Set the window's title.
        """

    def attention(conversation: Conversation, line: ViewLine) -> None:
        """
        Ask for the reader's attention (the window is not focused): C{line}
        in C{conversation} mentions the reader or is a private line.
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
    @ivar home: The conversation of the default room (unmarked room lines),
        which also holds what comes before logging in.
    @ivar conversations: Every tab, in order.
    @ivar selected: The tab the input goes to.
    @ivar current: The key of the server's current room for us (where a
        plain line goes), or C{""}.
    @ivar rooms: The last room list (C{/rooms}).
    @ivar send: Sends a command line to the server (set by the session).
    """

    def __init__(
        self,
        clock: IReactorTime,
        scrollback: int = 5000,
        batchSize: int = 250,
        localtime: Callable[[float], time.struct_time] = time.localtime,
    ) -> None:
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
        self.focused = True
        self.status = Status("Not connected.")
        self.home = Conversation("", "", ROOM, scrollback)
        self.conversations: dict[str, Conversation] = {"": self.home}
        self.selected: Conversation = self.home
        self.current = ""
        self.rooms: list[lines.RoomEntry] = []
        self._roomsExpected = 0
        self._roomsIncoming: list[lines.RoomEntry] = []
        self._swallow: dict[str, int] = {}
        self._whereExpected = False
        # /who asked for by the model itself, to learn a room's roles: its
        # answer is not shown.
        self._rolesAsked: dict[str, int] = {}
        self.serverOperator = False
        # Logged in again: the greeting (welcome, message of the day, who
        # is here) was shown the first time and is not shown again.
        self._greeting = self._everLoggedIn = False
        self._roomsChanged = False
        # Private lines sent and not yet confirmed by the server: the key
        # and name of the recipient, and the text.
        self._privateSent: deque[tuple[str, str, str]] = deque(maxlen=100)
        self.search = Search()
        self._seeking: tuple[Conversation, Hit, int] | None = None
        self.send: Callable[[str], object] = lambda line: None
        # Logged in to an account (whose read marker the client moves).
        self.account = False
        self._readCall: IDelayedCall | None = None
        self._toReport: dict[str, Conversation] = {}
        self._readsSent = 0
        self.onHome: Callable[[], object] = lambda: None
        self._flushCall: IDelayedCall | None = None
        self._tabsChanged = False
        self._usersChanged = False
        self._titleChanged = False

    def attach(self, view: IChatView) -> None:
        """
        Show everything in C{view} from now on.
        """
        self.view = view
        view.showStatus(self.status)
        view.showTitle(self.title)
        view.showConversations(self.tabs(), self.selected)
        view.showUsers(self.shownUsers())

    @property
    def ownName(self) -> str:
        return self._ownName

    @ownName.setter
    def ownName(self, name: str) -> None:
        self._ownName = name
        self._ownKey = name_key(name) if name else ""
        self._mention = mention_pattern(name) if name else None
        self._changeTitle()

    # What is shown

    def tabs(self) -> list[Conversation]:
        """
        @return: The conversations that have a tab, in order.
        """
        return [c for c in self.conversations.values() if not c.hidden]

    @property
    def pending(self) -> int:
        """
        How many lines wait for a flush, in every conversation.
        """
        return sum(len(c.pending) for c in self.conversations.values())

    @property
    def users(self) -> dict[str, str]:
        """
        The members of the selected conversation.
        """
        return self.selected.members

    @property
    def unread(self) -> int:
        """
        The unread chat lines of every conversation.
        """
        return sum(c.unread for c in self.conversations.values())

    @property
    def title(self) -> str:
        """
        The window title: who, where, and (while the window is not focused)
        the unread count.
        """
        title = "Chat"
        if self.ownName:
            title = f"{self.ownName} on {self.server} - Chat"
        elif self.server:
            title = f"{self.server} - Chat"
        unread = self.unread
        if unread and not self.focused:
            title = f"({unread}) {title}"
        return title

    def userNames(self) -> list[str]:
        """
        @return: The selected conversation's members, sorted.
        """
        if self.selected.kind == PRIVATE:
            return sorted({self.selected.name, self.ownName} - {""})
        return self.selected.memberNames()

    def shownUsers(self) -> list[str]:
        """
        @return: The selected conversation's members as the member list
            shows them (L{Conversation.shownMembers}).
        """
        if self.selected.kind == PRIVATE:
            return self.userNames()
        return self.selected.shownMembers()

    def roomNames(self) -> list[str]:
        """
        @return: The rooms the reader is in, in tab order.
        """
        return [c.name for c in self.tabs() if c.kind == ROOM and c.name]

    def conversation(self, name: str) -> Conversation | None:
        """
        @return: The conversation with the room or user C{name}, if any.
        """
        return self.conversations.get(_key(name))

    def stamp(self, when: float | None = None) -> str:
        """
        @return: The time now (or C{when}), as lines show it.
        """
        if when is not None:
            now = self.clock.seconds()
            pattern = "%H:%M" if abs(now - when) < 43200 else "%d %b %H:%M"
            return time.strftime(pattern, self._localtime(when))
        minute = int(self.clock.seconds() // 60)
        if minute != self._stamp[0]:
            stamp = time.strftime("%H:%M", self._localtime(minute * 60))
            self._stamp = (minute, stamp)
        return self._stamp[1]

    # Changes from the window

    def select(self, conversation: Conversation) -> None:
        """
        The reader chose C{conversation}'s tab: it is read.
        """
        self.selected = conversation
        conversation.hidden = False
        if self.focused:
            self._read(conversation)
            self._report(conversation)
        self._tabsChanged = self._usersChanged = True
        if self.view is not None:
            self.view.showTopic(conversation)
        self._schedule()

    def _read(self, conversation: Conversation) -> None:
        if conversation.unread or conversation.mention:
            conversation.unread = 0
            conversation.mention = False
            self._tabsChanged = self._titleChanged = True

    def openPrivate(self, name: str) -> Conversation:
        """
        Open (or show again) the private conversation with C{name}.
        """
        conversation = self._conversation(name, PRIVATE)
        if conversation.hidden:
            conversation.hidden = False
            self._tabsChanged = True
            self._schedule()
        return conversation

    def close(self, conversation: Conversation) -> None:
        """
        The reader closed C{conversation}'s tab: a room is parted (its tab
        goes once the server says so), a private conversation is hidden.
        """
        if conversation.kind == PRIVATE:
            conversation.hidden = True
            if self.selected is conversation:
                self._selectAnother(conversation)
            self._tabsChanged = True
            self._schedule()
        elif conversation.name:
            self.send(f"/part {conversation.name}")

    def olderHistory(self, conversation: Conversation) -> bool:
        """
        The reader scrolled to the top of C{conversation}: ask for the page
        of history before it, unless one is on its way or there is none.

        @return: Whether a page was asked for.
        """
        if (
            conversation.kind != ROOM
            or not conversation.joined
            or conversation.exhausted
            or conversation.requests
            or not conversation.name
        ):
            return False
        conversation.requests.append("older")
        self.send(f"/history {conversation.name} {PAGE}")
        return True

    def searchFor(self, text: str) -> None:
        """
        Search the history of the reader's rooms for C{text} (in the
        C{/search} syntax).
        """
        if text.strip():
            self.send(self.search.ask(text))

    def searchOlder(self) -> bool:
        """
        Ask for the next page of the search, if older lines may match.

        @return: Whether it was asked for.
        """
        command = self.search.older()
        if command is None:
            return False
        self.send(command)
        return True

    def jumpTo(self, hit: Hit) -> Conversation | None:
        """
        Show the tab of the room C{hit} was said in, and the line there:
        if the tab does not reach back to it, older pages of history are
        asked for (at most L{SEEK_PAGES}) and shown in place, as scrolling
        up would; then the view is asked to show the line.

        @return: Its conversation, or L{None} if the reader is not in that
            room any more (which is said in the selected tab).
        """
        conversation = self.conversations.get(room_key(hit.room))
        if conversation is None or not conversation.joined:
            self.addNotice(f"You are not in {hit.room} now.", "error")
            return None
        self.select(conversation)
        self._seeking = None
        self._seek(conversation, hit, 0)
        return conversation

    def _seek(self, conversation: Conversation, hit: Hit, pages: int) -> None:
        """
        Page back in C{conversation} until it holds C{hit}'s line, or cannot
        go further; then show it.
        """
        shown = conversation.shownIds
        reached = conversation.known(hit.entry) or (
            bool(shown) and min(shown) < hit.entry.id
        )
        if not reached and pages < SEEK_PAGES and self.olderHistory(conversation):
            self._seeking = (conversation, hit, pages + 1)
            return
        self._seeking = None
        self._flushAll(conversation)
        if self.view is not None:
            self.view.showHit(conversation, hit)

    def expectWhere(self) -> None:
        """
        The session asked C{/where}: its first line names the home room.
        """
        self._whereExpected = True

    def switchTo(self, conversation: Conversation) -> None:
        """
        The session made C{conversation} the server's current room (with
        C{/join}): its "is your current room now" answer is not shown.
        """
        self.current = conversation.key
        self._swallow[conversation.key] = self._swallow.get(conversation.key, 0) + 1

    # Changes from the session

    def setStatus(self, status: Status) -> None:
        self.status = status
        if self.view is not None:
            self.view.showStatus(status)

    def setServer(self, server: str) -> None:
        self.server = server
        self._changeTitle()

    def loggedIn(self, name: str) -> None:
        """
        The reader is now logged in as C{name}, in the default room (the
        home conversation) only.
        """
        self.ownName = name
        self._whereExpected = False
        self._rolesAsked.clear()
        self.serverOperator = False
        self._greeting, self._everLoggedIn = self._everLoggedIn, True
        self._privateSent.clear()
        self._swallow.clear()
        self._roomsExpected = 0
        for conversation in self.conversations.values():
            if conversation.kind == ROOM:
                conversation.joined = False
                conversation.requests.clear()
                conversation.replay.clear()
        self.home.joined = True
        self.home.hidden = False
        self.home.hadLines = bool(self.home.lines or self.home.pending)
        self.current = self.home.key
        self._tabsChanged = True
        self._schedule()
        if self.view is not None:
            self.view.showChat()

    def loginFailed(self, reason: str, field: str = "name") -> None:
        if self.view is not None:
            self.view.showLogin(reason, field)

    def askPassword(self, name: str) -> None:
        if self.view is not None:
            self.view.showPassword(name)

    def showLogin(self) -> None:
        """
        Show the connect form (the reader left, or has not logged in yet):
        the next login is a new one, greeted in full.
        """
        self._everLoggedIn = False
        if self.view is not None:
            self.view.showLogin("")

    def disconnected(self) -> None:
        """
        The connection is gone: nobody is known to be online any more.
        """
        for conversation in self.conversations.values():
            if conversation.kind == ROOM and conversation.members:
                conversation.members.clear()
                conversation.roles.clear()
                self._usersChanged = True
        self._schedule()

    def setFocused(self, focused: bool) -> None:
        """
        The window gained or lost the keyboard focus; gaining it reads the
        selected conversation.
        """
        self.focused = focused
        if focused:
            self._read(self.selected)
            self._report(self.selected)
        self._changeTitle()

    def _report(self, conversation: Conversation) -> None:
        """
        C{conversation} is read (shown in the focused window): tell the
        server, if lines were shown since it was last told, after
        L{READ_DELAY} seconds with whatever else is read meanwhile.
        """
        if not (self.account and conversation.unreported and conversation.name):
            return
        self._toReport[conversation.key] = conversation
        if self._readCall is None:
            self._readCall = self.clock.callLater(READ_DELAY, self._sendReads)

    def _sendReads(self) -> None:
        """
        Move the account's read marker of each conversation read to the last
        line shown: its history id, or the newest line when live lines (with
        no id known here) came after it.
        """
        self._readCall = None
        conversations, self._toReport = self._toReport, {}
        for conversation in conversations.values():
            if not (
                conversation.unreported
                and self.account
                and self.conversations.get(conversation.key) is conversation
            ):
                continue
            conversation.unreported = False
            target = conversation.name
            if not conversation.liveAfter and conversation.newestId is not None:
                target = f"{target} {conversation.newestId}"
            self._readsSent += 1
            self.send(f"/read {target}")

    def _accountAnswer(self, event: lines.Event) -> bool:
        """
        Follow the answers that make the name an account or a guest
        (C{/register}, C{/unregister}) and the answers to the client's own
        C{/read}.

        @return: Whether C{event} is a refusal of a C{/read} the client
            sent by itself, which is not shown.
        """
        match event:
            case lines.Info(text) if text.startswith("the account "):
                if " is registered" in text:
                    self.account = True
                elif text.endswith("you are a guest now"):
                    self.account = False
            case lines.ReadUpTo():
                self._readsSent = max(0, self._readsSent - 1)
            case lines.Error(text) if self._readsSent and text.startswith(
                _READ_REFUSALS
            ):
                self._readsSent -= 1
                return True
        return False

    def addNotice(self, text: str, kind: str = "notice") -> None:
        """
        Show a line of the client's own in the selected conversation.
        """
        self._add(self.selected, ViewLine(self.stamp(), kind, (Part(text),)), False)

    def echo(self, event: lines.Message | lines.Action) -> None:
        """
        Show the reader's own chat line (the server sends no copy) in the
        selected conversation.
        """
        self._live(self.selected, event)

    # Server events

    def addEvent(self, event: lines.Event) -> None:
        """
        Show a server event in the conversation it is about, and keep the
        conversations current with it.
        """
        if self.search.take(event):
            if self.search.complete and self.view is not None:
                self.view.showSearch(self.search)
            return
        if isinstance(event, lines.InRoom):
            conversation = self._room(event.room)
            if self._whereExpected and isinstance(event.line, lines.UserList):
                self._whereAnswered(event.room, event.line)
                return
            self._inRoom(conversation, event.line)
            return
        if self._greeted(event) or self._privateAnswer(event):
            return
        if self._accountAnswer(event):
            return
        match event:
            case lines.History() | lines.HistoryEnd():
                self._inRoom(self.home, event)
            case lines.ReadUpTo(target, _, unread):
                self._readElsewhere(target, unread)
            case lines.UnreadFrom():
                pass  # where the unread lines of a replay begin: not shown
            case lines.PrivateIn(sender):
                conversation = self.openPrivate(sender)
                self._live(conversation, event)
            case lines.Renamed(old, new):
                self._renamed(old, new, event)
            case lines.Left(name) if (
                self.home.joined and name_key(name) != self._ownKey
            ):
                self._quit(name, event)
            case lines.RoomsHeader(count):
                self._roomsExpected, self._roomsIncoming = count, []
                if not count:
                    self._showRooms()
            case lines.RoomEntry() if self._roomsExpected:
                self._roomsIncoming.append(event)
                if len(self._roomsIncoming) >= self._roomsExpected:
                    self._showRooms()
            case lines.Info() if self._swallowed(self.home):
                pass
            case lines.Info(text) if text == lines.OPERATOR_NOW:
                self.serverOperator = True
                self._add(self.selected, self._line(event), False)
            case lines.RoleChanged() | lines.BanChanged() | lines.ModeChanged():
                self._inRoom(self.home, event)
            case lines.Welcome() | lines.Joined() | lines.Left() | lines.UserList():
                self._inRoom(self.home, event)
            case lines.Message() | lines.Action() | lines.TopicSet() | lines.TopicIs():
                self._inRoom(self.home, event)
            case lines.Info() | lines.Error() | lines.Prompt():
                self._add(self.selected, self._line(event), False)
            case _:
                self._add(self.selected, self._line(event), False)

    def _readElsewhere(self, target: str, unread: int) -> None:
        """
        The account's read marker of C{target} moved (on this device or
        another): its unread count is what the server counts after it.
        """
        conversation = self.conversations.get(_key(target))
        if conversation is None:
            return
        if not unread:
            conversation.unreported = False
        if conversation is self.selected and self.focused:
            # What the window shows is read; lines the server has past the
            # marker are on their way, and are reported once shown.
            unread = 0
        if conversation.unread == unread:
            return
        conversation.unread = unread
        if not unread:
            conversation.mention = False
        self._tabsChanged = self._titleChanged = True
        self._schedule()

    def _whereAnswered(self, room: str, line: lines.UserList) -> None:
        """
        The first line of the answer to C{/where} names the home room.
        """
        self._whereExpected = False
        conversation = self._nameHome(room)
        conversation.setMembers(line.names, False)
        self._membersChanged(conversation)
        self._roomMembers(conversation)
        self._askRoles(conversation)
        if self._greeting:
            self._greeting = False
            self._add(
                conversation,
                ViewLine(self.stamp(), "notice", (Part("Reconnected."),)),
                False,
            )
        self.onHome()

    def _greeted(self, event: lines.Event) -> bool:
        """
        Whether C{event} is part of the greeting of a login again, which
        is not shown again (what it says is kept).
        """
        if not self._greeting:
            return False
        match event:
            case lines.Welcome() | lines.Info():
                return True
            case lines.UserList(names):
                self.home.setMembers(names, False)
                self._membersChanged(self.home)
                return True
            case lines.TopicIs(topic):
                self.home.topic = topic
                if self.view is not None:
                    self.view.showTopic(self.home)
                return True
        return False

    def _privateAnswer(self, event: lines.Event) -> bool:
        """
        Whether C{event} answers a private line the reader sent (its copy,
        or that nobody of that name is online), now shown.
        """
        match event:
            case lines.PrivateOut(recipient):
                self._delivered(recipient)
                self._live(self.openPrivate(recipient), event)
                return True
            case lines.Error(text):
                return self._undelivered(text)
        return False

    def _showRooms(self) -> None:
        self.rooms, self._roomsExpected = self._roomsIncoming, 0
        self._roomsIncoming = []
        self._roomsChanged = False
        if self.view is not None:
            self.view.showRooms(self.rooms)

    def _roomMembers(self, conversation: Conversation, count: int = -1) -> None:
        """
        The members (or topic) of a room the reader is in changed: its row
        in the rooms panel follows, without asking the server.

        @param count: How many are in it, if not its members (C{0}: the
            row goes).
        """
        if conversation.kind != ROOM or not conversation.name:
            return
        if count < 0:
            count = len(conversation.members)
        rows = [r for r in self.rooms if room_key(r.room) != conversation.key]
        if count:
            row = lines.RoomEntry(conversation.name, count, conversation.topic)
            rows.append(row)
        rows.sort(key=lambda r: room_key(r.room))
        if rows != self.rooms:
            self.rooms = rows
            self._roomsChanged = True
            self._schedule()

    def sentPrivate(self, name: str, text: str) -> None:
        """
        The session sent C{text} to C{name} privately: the server confirms
        it with the line as sent, or says there is no such user.
        """
        self._privateSent.append((name_key(name), name, text))

    def _delivered(self, recipient: str) -> None:
        key = name_key(recipient)
        for index, (sentTo, _, _) in enumerate(self._privateSent):
            if sentTo == key:
                del self._privateSent[index]
                return

    def _undelivered(self, error: str) -> bool:
        """
        Whether C{error} is the answer to a private line sent to someone
        who is not online; then say which line was not sent, in the
        private conversation it was typed for.
        """
        prefix = str(NoSuchUser(""))
        if not error.startswith(prefix):
            return False
        missing = name_key(error[len(prefix) :])
        found = [i for i, sent in enumerate(self._privateSent) if sent[0] == missing]
        if not found:
            return False
        key, name, text = self._privateSent[found[0]]
        del self._privateSent[found[0]]
        conversation = self.conversations.get(key)
        if conversation is None or conversation.hidden:
            conversation = self.selected
        words = f"!!! Not sent: {name} is not online. Your line was: {text}"
        self._add(conversation, ViewLine(self.stamp(), "error", (Part(words),)), False)
        return True

    def privateNames(self) -> list[str]:
        """
        @return: The people the reader has a private tab with, in tab order.
        """
        return [c.name for c in self.tabs() if c.kind == PRIVATE]

    def restorePrivates(self, names: Sequence[str]) -> None:
        """
        Open a private tab with each of C{names} (after a restart), without
        selecting any.
        """
        for name in names:
            if name.strip():
                self.openPrivate(name.strip())

    def _swallowed(self, conversation: Conversation) -> bool:
        count = self._swallow.get(conversation.key, 0)
        if not count:
            return False
        self._swallow[conversation.key] = count - 1
        return True

    def _conversation(self, name: str, kind: str) -> Conversation:
        key = _key(name)
        conversation = self.conversations.get(key)
        if conversation is None:
            conversation = Conversation(key, name, kind, self.scrollback)
            self.conversations[key] = conversation
            self._tabsChanged = True
            self._schedule()
        return conversation

    def _room(self, name: str) -> Conversation:
        return self._conversation(name, ROOM)

    def _nameHome(self, name: str) -> Conversation:
        """
        The home conversation is the room C{name}.
        """
        key = room_key(name)
        home = self.home
        if home.key == key:
            home.name = name
            return home
        other = self.conversations.get(key)
        if other is not None and other is not home:
            # Known from before (a reconnection): it is home now.
            if not home.lines and not home.pending:
                del self.conversations[home.key]
                if self.selected is home:
                    self.selected = other
                self.home = other
                other.joined = True
                self.current = key
                self._tabsChanged = True
                return other
            del self.conversations[key]
        del self.conversations[home.key]
        home.key, home.name = key, name
        self.conversations = {key: home, **self.conversations}
        self.current = key
        self._tabsChanged = True
        self._schedule()
        return home

    def _inRoom(  # noqa: PLR0915
        self, conversation: Conversation, line: lines.Plain | lines.History
    ) -> None:
        own = isinstance(line, (lines.Joined, lines.Left)) and (
            name_key(line.name) == self._ownKey
        )
        match line:
            case lines.History():
                conversation.replay.append(line)
            case lines.HistoryEnd(count):
                self._historyEnd(conversation, count)
            case lines.Joined() if own:
                new = not (conversation.lines or conversation.pending)
                conversation.joined = True
                conversation.hidden = False
                conversation.hadLines = bool(conversation.lines or conversation.pending)
                self.current = conversation.key
                self._tabsChanged = True
                self._add(conversation, self._line(line), False)
                if new and conversation is not self.home:
                    self.select(conversation)
            case lines.Left() if own:
                conversation.joined = False
                others = set(conversation.members) - {self._ownKey}
                self._roomMembers(conversation, len(others))
                conversation.members.clear()
                conversation.roles.clear()
                self._tabsChanged = self._usersChanged = True
                self._add(conversation, self._line(line), False)
                if conversation is self.home:
                    conversation.hidden = True
                else:
                    conversation.lines.clear()
                    conversation.pending.clear()
                    del self.conversations[conversation.key]
                if self.current == conversation.key:
                    rooms = [c for c in self.tabs() if c.kind == ROOM and c.joined]
                    self.current = rooms[-1].key if rooms else ""
                if self.selected is conversation:
                    self._selectAnother(conversation)
                self._kickedOut(conversation, line)
            case lines.UserList(names):
                asked = self._rolesAsked.get(conversation.key, 0)
                if asked:
                    self._rolesAsked[conversation.key] = asked - 1
                conversation.setMembers(names, bool(asked))
                self._membersChanged(conversation)
                self._roomMembers(conversation)
                if asked:
                    return
                if not conversation.roles and not self._whereExpected:
                    self._askRoles(conversation)
                self._add(conversation, self._line(line), False)
            case lines.RoleChanged(_, name, role, given):
                key = name_key(name)
                roles = conversation.roles.get(key, "").replace(role, "")
                roles = "".join(r for r in "ov" if r in roles + (role if given else ""))
                if roles:
                    conversation.roles[key] = roles
                else:
                    conversation.roles.pop(key, None)
                self._membersChanged(conversation, own=key == self._ownKey)
                self._add(conversation, self._line(line), False)
            case lines.Joined(name):
                conversation.members[name_key(name)] = name
                self._membersChanged(conversation)
                self._roomMembers(conversation)
                self._add(conversation, self._line(line), False)
            case lines.Left(name):
                conversation.members.pop(name_key(name), None)
                conversation.roles.pop(name_key(name), None)
                self._membersChanged(conversation)
                self._roomMembers(conversation)
                self._add(conversation, self._line(line), False)
            case lines.TopicSet(_, topic) | lines.TopicIs(topic):
                conversation.topic = topic
                self._roomMembers(conversation)
                if self.view is not None:
                    self.view.showTopic(conversation)
                if isinstance(line, lines.TopicSet):
                    self._live(conversation, line)
                else:
                    self._add(conversation, self._line(line), False)
            case lines.Message() | lines.Action():
                self._live(conversation, line)
            case lines.Info() if self._swallowed(conversation):
                pass
            case _:
                self._add(conversation, self._line(line), False)

    def _selectAnother(self, gone: Conversation) -> None:
        tabs = [c for c in self.tabs() if c is not gone]
        self.select(tabs[-1] if tabs else self.home)

    def _membersChanged(self, conversation: Conversation, own: bool = False) -> None:
        """
        @param own: Whether the reader's own role changed (what its member
            menu offers changes with it).
        """
        if conversation is self.selected or own:
            self._usersChanged = True
            self._schedule()

    def _askRoles(self, conversation: Conversation) -> None:
        """
        Ask the server who has which role in C{conversation}'s room (the
        answers to C{/join} and C{/where} do not say): its C{/who} answer
        is kept and not shown.
        """
        if conversation.kind != ROOM or not conversation.name:
            return
        key = conversation.key
        self._rolesAsked[key] = self._rolesAsked.get(key, 0) + 1
        self.send(f"/who {conversation.name}")

    def canModerate(self, conversation: Conversation) -> bool:
        """
        @return: Whether the reader may kick, ban, mute and give roles in
            C{conversation}'s room: it is an operator of it, or a server
            operator.
        """
        if conversation.kind != ROOM or not conversation.joined:
            return False
        return self.serverOperator or "o" in conversation.role(self.ownName)

    def _kickedOut(self, room: Conversation, line: lines.Left) -> None:
        """
        If the reader left C{room} because it was kicked, say so where it
        reads now (the room's tab is gone).
        """
        kick = line.kicker
        if kick is None or room is self.selected:
            return
        actor, reason = kick
        words = f"You were kicked from {room.name} by {actor}"
        words += f": {reason}" if reason else "."
        self._add(self.selected, ViewLine(self.stamp(), "error", (Part(words),)), False)

    def _renamed(self, old: str, new: str, event: lines.Renamed) -> None:
        oldKey, newKey = name_key(old), name_key(new)
        if oldKey == self._ownKey:
            self.ownName = new
        for conversation in list(self.conversations.values()):
            if conversation.kind == PRIVATE and conversation.key == oldKey:
                del self.conversations[oldKey]
                conversation.key, conversation.name = newKey, new
                self.conversations[newKey] = conversation
                self._tabsChanged = True
                self._add(conversation, self._line(event), False)
            elif oldKey in conversation.members:
                del conversation.members[oldKey]
                conversation.members[newKey] = new
                if oldKey in conversation.roles:
                    conversation.roles[newKey] = conversation.roles.pop(oldKey)
                self._membersChanged(conversation)
                self._add(conversation, self._line(event), False)

    def _quit(self, name: str, event: lines.Left) -> None:
        """
        An unmarked leave: a user left the chat (or, in the home room only,
        the home room).
        """
        key = name_key(name)
        shown = False
        for conversation in list(self.conversations.values()):
            if key in conversation.members:
                del conversation.members[key]
                conversation.roles.pop(key, None)
                self._membersChanged(conversation)
                self._roomMembers(conversation)
                self._add(conversation, self._line(event), False)
                shown = True
        private = self.conversations.get(key)
        if private is not None and private.kind == PRIVATE:
            # The private tab says so too: a line typed there now fails.
            self._add(private, self._line(event), False)
        if not shown:
            self._add(self.home, self._line(event), False)

    def _line(self, event: lines.Plain, when: float | None = None) -> ViewLine:
        kind, parts = render(event)
        return ViewLine(self.stamp(when), kind, parts, history=when is not None)

    def _live(self, conversation: Conversation, event: lines.Plain) -> None:
        """
        Show a live chat line (a message, an action, a private message, a
        topic change), counting it unread and marking mentions.
        """
        own = mention = False
        if isinstance(event, _CHAT):
            own = name_key(event.sender) == self._ownKey
            if not own and self._mention is not None:
                mention = self._mention.search(event.text) is not None
        key = _kept_key(event)
        if key is not None:
            conversation.live.append((key, self.clock.seconds()))
        kind, parts = render(event, own)
        line = ViewLine(self.stamp(), kind, parts, mention)
        counts = isinstance(event, _CHAT) and not own
        if isinstance(event, _CHAT):
            conversation.liveAfter = True
        self._add(conversation, line, counts)
        if counts:
            conversation.unreported = True
            if conversation is self.selected and self.focused:
                self._report(conversation)
        wanted = mention or (counts and conversation.kind == PRIVATE)
        if not (counts and wanted):
            return
        if not (conversation is self.selected and self.focused):
            conversation.mention = True
        if not self.focused and self.view is not None:
            self.view.attention(conversation, line)

    def _historyEnd(self, conversation: Conversation, count: int) -> None:
        entries, conversation.replay = conversation.replay, []
        request = conversation.requests.popleft() if conversation.requests else "join"
        if request == "older":
            fresh = [e for e in entries if not conversation.known(e)]
            if not count:
                conversation.exhausted = True
            batch = self._historyLines(conversation, fresh)
            if conversation.exhausted:
                batch.insert(0, self._separator("start of history"))
            self._insert(conversation, 0, batch)
            seeking = self._seeking
            if seeking is not None and seeking[0] is conversation:
                self._seek(*seeking)
            return
        # A join replay or a page filling a gap: what comes after the newest
        # line already shown is new; anything before it was seen.
        lastKnown = -1
        for index, entry in enumerate(entries):
            if conversation.known(entry):
                lastKnown = index
        fresh = entries[lastKnown + 1 :]
        batch = self._historyLines(conversation, fresh)
        if fresh and request == "join":
            conversation.liveAfter = False
            conversation.unreported = True
            if conversation is self.selected and self.focused:
                self._report(conversation)
        if request == "gap":
            gapAt = conversation.gapAt if conversation.gapAt is not None else 0
            self._insert(conversation, gapAt, batch)
            if conversation.gapAt is not None:
                conversation.gapAt += len(batch)
            if lastKnown < 0 and count and conversation.gapPages < GAP_PAGES:
                self._askGap(conversation)
            else:
                conversation.gapAt = None
            return
        if not count or (not batch and conversation.hadLines):
            # Nothing new since the lines shown: the "live" separator shown
            # before still holds.
            return
        start = len(conversation.lines) + len(conversation.pending)
        for line in batch:
            self._add(conversation, line, False)
        self._add(conversation, self._separator("live"), False)
        if lastKnown < 0 and conversation.hadLines and conversation.name:
            # Nothing of this replay was shown before, but lines were: more
            # may have been said while we were away than one replay holds.
            self._flushAll(conversation)
            conversation.gapAt = start
            conversation.gapPages = 0
            self._askGap(conversation)

    def _askGap(self, conversation: Conversation) -> None:
        conversation.gapPages += 1
        conversation.requests.append("gap")
        self.send(f"/history {conversation.name} {PAGE * 4}")

    def _historyLines(
        self, conversation: Conversation, entries: list[lines.History]
    ) -> list[ViewLine]:
        conversation.shownIds.update(entry.id for entry in entries)
        if entries:
            newest = max(entry.id for entry in entries)
            conversation.newestId = max(conversation.newestId or 0, newest)
        return [self._historyLine(entry) for entry in entries]

    def _historyLine(self, entry: lines.History) -> ViewLine:
        return self._line(entry.line, entry.time)

    def _separator(self, text: str) -> ViewLine:
        return ViewLine(self.stamp(), "separator", (Part(f"── {text} ──"),))

    def _insert(
        self, conversation: Conversation, index: int, batch: list[ViewLine]
    ) -> None:
        if not batch:
            return
        self._flushAll(conversation)
        index = min(index, len(conversation.lines))
        for offset, line in enumerate(batch):
            conversation.lines.insert(index + offset, line)
        conversation.cap = min(
            max(conversation.cap, len(conversation.lines)), 2 * self.scrollback
        )
        if self.view is not None:
            self.view.insertLines(batch, index, conversation)

    def _add(self, conversation: Conversation, line: ViewLine, counts: bool) -> None:
        conversation.pending.append(line)
        if counts and not (conversation is self.selected and self.focused):
            conversation.unread += 1
            self._tabsChanged = self._titleChanged = True
        self._schedule()

    def _changeTitle(self) -> None:
        self._titleChanged = True
        self._schedule()

    # Flushing

    def _schedule(self) -> None:
        if self._flushCall is None:
            self._flushCall = self.clock.callLater(0, self.flush)

    def _flushAll(self, conversation: Conversation) -> None:
        while conversation.pending:
            self._flushOne(conversation, len(conversation.pending))

    def _flushOne(self, conversation: Conversation, budget: int) -> int:
        pending = conversation.pending
        for _ in range(len(pending) - self.scrollback):
            pending.popleft()
        batch = [pending.popleft() for _ in range(min(budget, len(pending)))]
        if not batch:
            return 0
        conversation.lines.extend(batch)
        trim = max(0, len(conversation.lines) - conversation.cap)
        for _ in range(trim):
            conversation.lines.popleft()
        if conversation.gapAt is not None:
            conversation.gapAt = max(0, conversation.gapAt - trim)
        if self.view is not None:
            self.view.appendLines(batch, trim, conversation)
        return len(batch)

    def flush(self) -> None:
        """
        Hand the view the next batch of lines and any other change; schedule
        the next flush if lines are left.
        """
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        budget = self.batchSize
        for conversation in list(self.conversations.values()):
            if budget <= 0:
                break
            budget -= self._flushOne(conversation, budget)
        view = self.view
        if view is not None:
            if self._tabsChanged:
                view.showConversations(self.tabs(), self.selected)
            if self._usersChanged:
                view.showUsers(self.shownUsers())
            if self._titleChanged or self._tabsChanged:
                view.showTitle(self.title)
            if self._roomsChanged:
                view.showRooms(self.rooms)
        self._roomsChanged = False
        self._tabsChanged = self._usersChanged = self._titleChanged = False
        if self.pending:
            self._schedule()

    def cancel(self) -> None:
        """
        Stop any scheduled flush (before the window goes away).
        """
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        if self._readCall is not None and self._readCall.active():
            self._readCall.cancel()
        self._readCall = None
        self._toReport.clear()


def _key(name: str) -> str:
    return room_key(name) if name.startswith("#") else name_key(name)
