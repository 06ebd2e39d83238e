"""
A logged-in user: the avatar the realm gives to a door, with every
operation a user can do.

Each operation checks its rules and raises a L{ChatError} subclass with a
reason fit to show the user; what it changes reaches the users concerned as
events (L{chatserver.core.events}) through the chat's fan-out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from chatserver import LOG_NAMESPACE
from chatserver.core.conversations import private_key
from chatserver.core.events import (
    Acted,
    Parted,
    ReadMarked,
    Replayed,
    Said,
    SearchResults,
    Tags,
    TopicChanged,
)
from chatserver.core.moderation.actions import ModerationActions
from chatserver.core.reading import marker_at, unread_after
from chatserver.core.remote import RemoteSession
from chatserver.core.rooms import Room
from chatserver.history.none import NoHistory
from chatserver.history.search import SearchPage, SearchQuery, terms_of
from chatserver.history.store import (
    ACTION,
    MAX_PAGE,
    MESSAGE,
    TOPIC,
    HistoryEntry,
    HistoryUnavailable,
)
from chatserver.limits.numbers import parse_count
from chatserver.state.markers import ReadMarker, farther
from chatwire.errors import (
    AlreadyCalled,
    InvalidSearch,
    InvalidText,
    NamesAreAccounts,
    NoSuchRoom,
    NoSuchSession,
    NoSuchUser,
    NotAnAccount,
    NothingToRead,
    NotInRoom,
    SearchUnavailable,
)
from chatwire.names import check_name, check_room_name, name_key, room_key
from chatwire.text import (
    MAX_REASON_LENGTH,
    MAX_TOPIC_LENGTH,
    check_length,
    check_text,
    clean_tags,
    shows_nothing,
)

if TYPE_CHECKING:
    from chatserver.core.fanout import Codec
    from chatserver.core.minds import IMind
    from chatserver.core.realm import ChatRealm
    from chatserver.core.remote import RemoteUser

log = Logger(namespace=LOG_NAMESPACE)


class IChatUser(Interface):
    """
    A logged-in user of the chat, as the realm hands it to a door (see
    L{ChatUser}).
    """


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """
    What C{/rooms} tells of a room.
    """

    name: str
    members: int
    topic: str


DEFAULT_SEARCH_PAGE = 20
"""
How many lines one page of search results has, unless asked otherwise.
"""


@dataclass(frozen=True, slots=True)
class _Search:
    """
    A user's last search, to page through it.

    @ivar room: The room it is about, or L{None} for all the user's rooms
        (those it is in when each page is asked for).
    @ivar next: Where its next page starts, L{None} when there is no more.
    """

    words: str
    query: SearchQuery
    room: str | None
    limit: int
    next: int | None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """
    What C{/sessions} tells of one session of the user's account.

    @ivar number: Its number in the list, from 1, for C{/sessions end N}.
    @ivar door: The door it came through (C{line}, C{irc}, C{web}, ...).
    @ivar peer: Where it comes from.
    @ivar since: When it logged in, in POSIX seconds.
    @ivar this: Whether it is the session asking.
    @ivar node: The node of the cluster it is on, when it is another than
        the asking session's; empty else.
    """

    number: int
    door: str
    peer: str
    since: float
    this: bool
    node: str = ""

    def describe(self) -> str:
        """
        @return: The session in words, as every door shows it
            (C{session 2: irc from 192.0.2.7:41022 since 2026-12-07 22:43:51Z}).
        """
        since = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(self.since))
        this = " (this one)" if self.this else ""
        where = f" on node {self.node}" if self.node else ""
        return (
            f"session {self.number}: {self.door} from {self.peer} since {since}"
            f"{where}{this}"
        )


@implementer(IChatUser)
class ChatUser(ModerationActions):
    """
    One logged-in session of a user, and everything a user can do.

    A user logged in to an account (L{account}) may be logged in several
    times at once: each login is a L{ChatUser} of its own (its door's avatar,
    with its mind, its replies, its paging), and the sessions of one
    account share one list, L{sessions}, and keep the same name, rooms and
    away message.  To the other users they are one user: a room lists one
    of them, and the fan-out delivers what the room is told to all of them.
    A guest has one session.

    @ivar name: The user's name.
    @ivar key: The name's key (L{name_key}), unique among users online.
    @ivar mind: The door's side of the session: output goes there.
    @ivar codec: How the user's door encodes events.
    @ivar rooms: The rooms the user is in, in the order joined.
    @ivar current: The room plain lines go to, or L{None}.
    @ivar since: When this session logged in, in POSIX seconds.
    @ivar away: Why the user is away (IRC's C{AWAY}); empty when here.
    @ivar sessions: The sessions of this user's account online, in the
        order they logged in, this one included: one list shared by them
        all.
    @ivar account: The account the user is logged in to, or L{None} for a
        guest.
    @ivar serverOperator: Whether the user is a server operator (see
        L{ModerationActions}, which holds the moderation operations).
    """

    __slots__ = (
        "_cursors",
        "_ownMarkers",
        "_search",
        "account",
        "away",
        "codec",
        "current",
        "key",
        "mind",
        "name",
        "online",
        "realm",
        "rooms",
        "sessions",
        "since",
    )

    def __init__(
        self,
        realm: ChatRealm,
        name: str,
        mind: IMind,
        since: float,
        account: str | None = None,
    ) -> None:
        self.realm = realm
        self.account = account
        self.name = name
        self.key = name_key(name)
        self.mind = mind
        self.sessions: list[ChatUser] = [self]
        self.codec: Codec = mind.codec
        # A tuple, not a list or a set: the smallest container for the one
        # room most users are in.
        self.rooms: tuple[Room, ...] = ()
        self.current: Room | None = None
        self.since = since
        self.online = True
        self.away = ""
        self.serverOperator = False
        # The oldest history entry shown, per room key, for /history paging.
        self._cursors: dict[str, int] | None = None
        self._search: _Search | None = None
        # A guest's read markers, by target key: this session's only.
        self._ownMarkers: dict[str, ReadMarker] | None = None

    def __repr__(self) -> str:
        return f"<ChatUser {self.name}>"

    # Rooms

    def _room(self, name: str | None) -> Room:
        """
        @return: The room called C{name}, which this user must be in; the
            current room for L{None}.
        """
        if name is None:
            if self.current is None:
                raise NotInRoom(None)
            return self.current
        room = self.realm.getRoom(name)
        if room is None or room not in self.rooms:
            check_room_name(name)
            raise NotInRoom(room.name if room is not None else name)
        return room

    def _spokenTo(self, name: str | None) -> Room:
        """
        @return: The room called C{name} (the current room for L{None}),
            which this user must be in unless the room takes lines from
            outside (C{-n}).
        """
        if name is not None:
            room = self.realm.getRoom(name)
            if (
                room is not None
                and room not in self.rooms
                and self.acceptsFromOutside(room)
            ):
                return room
        return self._room(name)

    def room(self, name: str | None = None) -> Room:
        """
        @return: The room called C{name}, which this user need not be in;
            the current room for L{None}.
        @raise NoSuchRoom: If there is no such room.
        @raise NotInRoom: If C{name} is L{None} and the user is in no room.
        """
        if name is None:
            return self._room(None)
        room = self.realm.getRoom(name)
        if room is None:
            check_room_name(name)
            raise NoSuchRoom(name)
        return room

    def join(self, name: str, key: str = "") -> tuple[Room, bool]:
        """
        Join the room called C{name}, creating it if needed, and make it the
        current room; joining a room again only makes it current.  The
        room's moderation may refuse (L{ModerationActions.checkJoin}).

        @param key: The room's key, if it has one (C{+k}).

        @return: The room, and whether the user joined it now (L{False}
            when already in it).
        """
        room = self.realm.getRoom(name)
        if room is not None and room in self.rooms:
            self.current = room
            return room, False
        room = self.realm.enter(self, name, key=key)
        self.current = room
        return room, True

    def part(self, name: str | None = None, reason: str = "") -> Room:
        """
        Leave the room called C{name} (the current room for L{None}).

        @return: The room left.
        """
        room = self._room(name)
        if reason:
            check_length(check_text(reason), MAX_REASON_LENGTH, "a part reason")
        self.realm.leave(self, room, Parted(room.name, self.name, _part_reason(reason)))
        return room

    def joined(self, room: Room) -> None:
        """
        Record that this session is now in C{room} (called by the realm for
        each session of the account); a session in no room makes it its
        current room.
        """
        self.rooms = (*self.rooms, room)
        if self.current is None:
            self.current = room

    def parted(self, room: Room) -> None:
        """
        Record that this session is no longer in C{room} (called by the
        realm for each session of the account).
        """
        self.rooms = tuple(r for r in self.rooms if r is not room)
        if self.current is room:
            self.current = self.rooms[-1] if self.rooms else None

    def listRooms(self) -> list[RoomInfo]:
        """
        @return: Every room of the chat (of the whole cluster) this user
            may see (L{seesRoom}: no secret room it is not in), sorted by
            name regardless of case.
        """
        return [
            RoomInfo(room.name, len(room), room.topic)
            for room in sorted(self.realm.rooms.values(), key=lambda r: r.key)
            if self.seesRoom(room)
        ]

    def who(self, name: str | None = None) -> tuple[Room, tuple[str, ...]]:
        """
        @return: The room called C{name} (the current room for L{None}) and
            the names of its members, sorted regardless of case.
        @raise NoSuchRoom: If there is no such room, or it is a secret room
            (C{+s}) this user is not in: one is told nothing of it.
        """
        room = self.room(name)
        if not self.seesRoom(room):
            raise NoSuchRoom(room.name)
        return room, room.names()

    # Talking

    def _checkedText(self, text: str) -> str:
        """
        @return: C{text}, a line another user may be shown: with something
            to show, no forbidden character (L{check_text}), and no longer
            than C{--max-line} bytes, as long as a line door user may type.
        """
        if shows_nothing(text):
            raise InvalidText("there is nothing to say")
        check_text(text)
        return check_length(text, self.realm.config.maxLine, "a line")

    def say(
        self,
        text: str,
        room: str | None = None,
        notice: bool = False,
        tags: Tags = (),
    ) -> Said | None:
        """
        Say C{text} in C{room} (the current room for L{None}), as a notice
        if C{notice} (kept in the history as a message), with the
        client-only C{tags} of the sender's door (not kept).  The sender's
        door gets the line too if its mind C{echoes}.

        @return: The line as the room was told, or L{None} in a cluster,
            where the room is told when the line comes back in its place.
        """
        where = self._spokenTo(room)
        text = self._checkedText(text)
        self.checkSpeak(where)
        tags = clean_tags(tags)
        event = self.realm.line(where, self, MESSAGE, text, notice=notice, tags=tags)
        self.realm.logMessage(self, where.name, text)
        return cast("Said | None", event)

    def act(self, text: str, room: str | None = None, tags: Tags = ()) -> Acted | None:
        """
        Do C{text} (C{/me waves}) in C{room} (the current room for L{None}),
        with the client-only C{tags} of the sender's door (not kept).

        @return: As L{say}.
        """
        where = self._spokenTo(room)
        text = self._checkedText(text)
        self.checkSpeak(where)
        tags = clean_tags(tags)
        event = self.realm.line(where, self, ACTION, text, tags=tags)
        self.realm.logMessage(self, where.name, f"* {text}")
        return cast("Acted | None", event)

    def whisper(
        self,
        name: str,
        text: str,
        notice: bool = False,
        action: bool = False,
        tags: Tags = (),
    ) -> ChatUser | RemoteUser:
        """
        Send C{text} to the user called C{name} alone, on this node or
        another, as a notice if C{notice}, as an action (C{/me waves} to one
        user) if C{action}, with the client-only C{tags} of the sender's
        door; it is not kept.  The sender's door gets it too if its mind
        C{echoes}.

        @return: The recipient.
        """
        recipient = self.realm.lookup(name)
        if recipient is None:
            check_name(name)  # an error echoes only what a name may hold
            raise NoSuchUser(name)
        self._checkedText(text)
        self.realm.whisper(
            self, recipient, text, notice=notice, action=action, tags=clean_tags(tags)
        )
        self.realm.logMessage(self, recipient.name, f"* {text}" if action else text)
        return recipient

    def setTopic(self, text: str, room: str | None = None) -> TopicChanged | None:
        """
        Set the topic of C{room} (the current room for L{None}); an empty
        C{text} clears it.

        @return: As L{say}.
        """
        where = self._room(room)
        self.checkTopic(where)
        text = check_length(check_text(text.strip()), MAX_TOPIC_LENGTH, "a topic")
        if shows_nothing(text):
            text = ""
        event = self.realm.line(where, self, TOPIC, text)
        log.info(
            "{name} set the topic of {room}: {topic}",
            chat_event="topic",
            name=self.name,
            room=where.name,
            topic=text,
        )
        return cast("TopicChanged | None", event)

    def setAway(self, reason: str) -> None:
        """
        Be away for C{reason}, or back when it is empty.
        """
        reason = check_text(reason.strip())
        check_length(reason, MAX_REASON_LENGTH, "an away message")
        if shows_nothing(reason):
            reason = ""
        for session in self.sessions:
            session.away = reason
        if self.realm.peers is not None:
            self.realm.peers.away(self)

    # History

    def replay(self, room: Room) -> None:
        """
        Send this user the recent history of C{room} (the last
        C{historyReplay} lines), before anything sent to it after this call.

        An account with a read marker in C{room} is sent what was said
        since the marker instead (up to C{historyCatchup} lines, the
        newest), after a few lines it read, with where the unread part
        begins (L{Replayed.unreadFrom}).
        """
        limit = self.realm.config.historyReplay
        account = self.isAccount
        if limit <= 0 and not account:
            return
        fanout = self.realm.fanout
        gap = fanout.hold(self)

        def query(
            keptBefore: Callable[[HistoryEntry], bool],
        ) -> defer.Deferred[Replayed | None]:
            # Lines kept while the query ran reach this user live.
            if not account:
                return self.realm.history.query(room.key, limit).addCallback(
                    lambda entries: self._replayed(
                        room, [entry for entry in entries if keptBefore(entry)], limit
                    )
                )
            marker = self.realm.readMarker(self, room.key)
            return defer.Deferred.fromCoroutine(self._catchUp(room, marker, keptBefore))

        replay = self.realm.historyMark(room).addCallback(query)

        def replayed(event: Replayed | None) -> None:
            if event is None:
                fanout.fill(self, gap)
                return
            self._remember(room.key, event.entries[0].id)
            fanout.fill(self, gap, event, room)

        def failed(reason: Failure) -> None:
            _history_failed(reason, room.name)
            fanout.fill(self, gap)

        replay.addCallbacks(replayed, failed)

    def _replayed(
        self, room: Room, entries: list[HistoryEntry], limit: int
    ) -> Replayed | None:
        """
        @return: The last C{limit} lines of C{room}'s C{entries} as a replay,
            or L{None} when there are none.
        """
        if not entries or limit <= 0:
            return None
        return Replayed(room.name, tuple(entries), len(entries) >= limit)

    async def _catchUp(
        self,
        room: Room,
        marker: ReadMarker | None,
        keptBefore: Callable[[HistoryEntry], bool],
    ) -> Replayed | None:
        """
        @return: What this account missed in C{room} since C{marker}, after
            the last C{historyReplay} lines it read; the usual replay when it
            has no marker.
        """
        config = self.realm.config
        if marker is None:
            if config.historyReplay <= 0:
                return None
            page = await self.realm.history.query(room.key, config.historyReplay)
            entries = [entry for entry in page if keptBefore(entry)]
            return self._replayed(room, entries, config.historyReplay)
        pageLimit = max(1, min(config.historyCatchup, MAX_PAGE))
        page = await self.realm.history.query(room.key, pageLimit)
        entries = [entry for entry in page if keptBefore(entry)]
        last = marker.id or 0
        unread = [entry for entry in entries if entry.id > last]
        read = [entry for entry in entries if entry.id <= last]
        context = read[-config.historyReplay :] if config.historyReplay > 0 else []
        if not unread:
            return self._replayed(room, context, config.historyReplay)
        more = len(page) >= pageLimit or len(read) > len(context)
        return Replayed(room.name, tuple(context + unread), more, unread[0].id)

    # Reading

    @property
    def isAccount(self) -> bool:
        """
        Whether this user logged in to an account (L{account}), with its
        password: it may have several sessions, read markers and private
        history.  A guest has none of these (but the read markers of its
        own connection an IRC client keeps: L{markRead}).
        """
        return self.account is not None

    def _target(self, target: str | None) -> tuple[str, str]:
        """
        @return: The key and shown name of C{target}: a room this user is
            in (the current room for L{None}), or a user's name for the
            private conversation with it.
        """
        if target is None or target.startswith("#"):
            where = self._room(target)
            return where.key, where.name
        check_name(target)
        other = self.realm.lookup(target)
        return private_key(self.name, target), other.name if other else target

    def _marker(self, key: str) -> ReadMarker | None:
        """
        @return: The read marker of C{key}: the account's, or this guest
            session's own.
        """
        if self.isAccount:
            return self.realm.readMarker(self, key)
        return self._ownMarkers.get(key) if self._ownMarkers else None

    def markRead(
        self,
        target: str | None = None,
        *,
        id: int | None = None,
        stamp: int | None = None,
        ownMarkers: bool = False,
    ) -> defer.Deferred[ReadMarker]:
        """
        Move this account's read marker in C{target} (see L{_target}) to
        the line C{id}, or to the time C{stamp} (milliseconds since the
        epoch, after the last line said by then, if any), or to the newest
        line; every session of the account is told (L{ReadMarked}).  A
        marker never moves back (L{farther}): an older one leaves it, and
        says where it is.

        @param ownMarkers: Whether a guest keeps a marker of its own, for
            this session only (IRC's C{draft/read-marker} has every client
            keep them); without it a guest is refused.
        @return: A L{Deferred} firing with the marker kept, or failing with
            L{NothingToRead} when C{id} or the newest line is no line.
        @raise NotAnAccount: If this user is a guest, without
            C{ownMarkers}.
        """
        if not (self.isAccount or ownMarkers):
            raise NotAnAccount()
        key, shown = self._target(target)

        async def mark() -> ReadMarker:
            marker = await marker_at(self.realm.history, key, id=id, stamp=stamp)
            if marker is None:
                raise NothingToRead(shown)
            if self.isAccount:
                return await self.realm.markRead(self, key, shown, marker)
            if self._ownMarkers is None:
                self._ownMarkers = {}
            kept = self._ownMarkers[key] = farther(self._ownMarkers.get(key), marker)
            await self._tellMarker(key, shown, kept)
            return kept

        return defer.Deferred.fromCoroutine(mark())

    def readMarker(self, target: str | None = None) -> ReadMarker | None:
        """
        @return: Where the read marker of C{target} (see L{_target}) is,
            the account's or a guest session's own (see L{markRead}), or
            L{None} if there is none.
        """
        key, _ = self._target(target)
        return self._marker(key)

    def tellReadMarker(self, target: str | None = None) -> defer.Deferred[None]:
        """
        Send this session where the read marker of C{target} is (see
        L{readMarker}), with the lines unread after it (L{ReadMarked}, with
        no time when there is none).  A room this user is not in may be
        asked about too, and its lines are not counted.
        """
        if target is not None and target.startswith("#"):
            room = self.realm.getRoom(target)
            if room is None or room not in self.rooms:
                check_room_name(target)
                key = room_key(target)
                shown = room.name if room is not None else target
                marker = self._marker(key)
                return defer.Deferred.fromCoroutine(
                    self._tellMarker(key, shown, marker, count=False)
                )
        key, shown = self._target(target)
        return defer.Deferred.fromCoroutine(
            self._tellMarker(key, shown, self._marker(key))
        )

    async def _tellMarker(
        self, key: str, shown: str, marker: ReadMarker | None, count: bool = True
    ) -> None:
        """
        Send this session that the read marker of C{key}, shown as
        C{shown}, is C{marker}, with the lines unread after it (none unless
        C{count}).
        """
        if marker is None:
            event = ReadMarked(shown, None, None, 0)
        else:
            unread = await unread_after(self.realm.history, key, marker) if count else 0
            event = ReadMarked(shown, marker.id, marker.stamp, unread)
        if self.online:
            self.realm.fanout.toUser(self, event)

    def privateHistory(
        self,
        name: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> defer.Deferred[list[HistoryEntry]]:
        """
        Read a page of the private conversation of this account with the
        account called C{name}, as L{history} reads a room's.

        @raise NotAnAccount: If this user is a guest.
        """
        check_name(name)
        if not self.isAccount:
            raise NotAnAccount()
        return self.realm.history.query(
            private_key(self.name, name), limit, before, after
        )

    def olderHistory(
        self, room: str | None = None, limit: int = 20
    ) -> defer.Deferred[None]:
        """
        Send this user the C{limit} lines of C{room}'s history (the current
        room for L{None}) before the oldest it has been shown, as a
        L{Replayed} event.  The room need not exist any more, nor the user
        be in it.

        @return: A L{Deferred} that fails (after the failure is logged) if
            the history cannot be read, for the door to say so.
        """
        if room is None:
            where = self._room(None)
            key, shownName = where.key, where.name
        else:
            check_room_name(room)
            existing = self.realm.getRoom(room)
            key = room_key(room)
            shownName = existing.name if existing is not None else room
        limit = max(1, min(limit, MAX_PAGE))
        before = self._cursors.get(key) if self._cursors else None
        query = self.realm.history.query(key, limit, before=before)

        def got(entries: list[HistoryEntry]) -> None:
            if not self.online:
                return
            if entries:
                self._remember(key, entries[0].id)
            name = entries[-1].room if entries else shownName
            event = Replayed(name, tuple(entries), len(entries) >= limit)
            # A room that no longer exists is still the room the page is about.
            about = self.realm.getRoom(name) or Room(name)
            self.realm.fanout.toUser(self, event, about)

        def failed(reason: Failure) -> Failure:
            _history_failed(reason, shownName)
            return reason

        return query.addCallback(got).addErrback(failed)

    def history(
        self,
        room: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> defer.Deferred[list[HistoryEntry]]:
        """
        Read a page of C{room}'s history (see
        L{chatserver.history.store.HistoryStore.query}), for a door that
        pages with its own references.
        """
        check_room_name(room)
        return self.realm.history.query(room_key(room), limit, before, after)

    def search(
        self,
        words: str,
        *,
        room: str | None = None,
        sender: str | None = None,
        before: float | None = None,
        after: float | None = None,
        limit: int = DEFAULT_SEARCH_PAGE,
        beforeId: int | None = None,
    ) -> defer.Deferred[None]:
        """
        Search the history of the rooms this user is in for C{words} (see
        L{chatserver.history.search} for how they are matched), and send
        this user the newest lines found as a L{SearchResults} event.  The
        search is remembered: L{searchMore} sends its next page.

        @param room: Only this room, which the user must be in.
        @param sender: Only lines said by this name (compared as names
            are).
        @param before: Only lines said before this POSIX time.
        @param after: Only lines said at or after this POSIX time.
        @param limit: The most lines on a page (1 to L{MAX_PAGE}).
        @param beforeId: Only lines older than this id (the C{next} of an
            earlier page).
        @return: A L{Deferred} that fails with L{SearchUnavailable} (after
            logging why) if the history cannot be read.
        @raise InvalidSearch: If C{words} hold no word to find.
        @raise NotInRoom: If the user is not in C{room}, or in no room.
        @raise SearchUnavailable: If this server keeps no history.
        """
        terms = terms_of(words)
        if not terms:
            raise InvalidSearch("nothing to search for: give at least one word")
        self._searchRooms(room)
        query = SearchQuery(
            terms,
            senderKey=name_key(sender) if sender else None,
            since=after,
            until=before,
        )
        limit = max(1, min(limit, MAX_PAGE))
        search = _Search(" ".join(words.split()), query, room, limit, beforeId)
        self._search = search
        return self._searchPage(search)

    def searchMore(self) -> defer.Deferred[None]:
        """
        Send this user the next page of its last search (an empty one when
        there is no more).

        @raise InvalidSearch: If the user has not searched.
        """
        search = self._search
        if search is None:
            raise InvalidSearch("there is no search to go on with: search for words")
        if search.next is None:
            event = SearchResults(search.words, (), None)
            self.realm.fanout.toUser(self, event)
            return defer.succeed(None)
        return self._searchPage(search)

    def _searchRooms(self, room: str | None) -> tuple[Room, ...]:
        """
        @return: The rooms a search is about: C{room}, or all the user's.
        """
        if isinstance(self.realm.history, NoHistory):
            raise SearchUnavailable(
                "this server keeps no history, so there is nothing to search"
            )
        if room is not None:
            return (self._room(room),)
        if not self.rooms:
            raise NotInRoom(None)
        return self.rooms

    def _searchPage(self, search: _Search) -> defer.Deferred[None]:
        keys = [room.key for room in self._searchRooms(search.room)]
        finding = self.realm.history.search(
            keys, search.query, search.limit, before=search.next
        )

        def found(page: SearchPage) -> None:
            if not self.online:
                return
            if self._search is search:
                self._search = replace(search, next=page.next)
            event = SearchResults(search.words, page.entries, page.next)
            self.realm.fanout.toUser(self, event)

        def failed(reason: Failure) -> None:
            _history_failed(reason, "the search")
            raise SearchUnavailable("search cannot be done right now, try again later")

        return finding.addCallbacks(found, failed)

    def _remember(self, key: str, oldest: int) -> None:
        if self._cursors is None:
            self._cursors = {}
        self._cursors[key] = oldest

    # Leaving and names

    def rename(self, new: str) -> defer.Deferred[str]:
        """
        Change this user's name to C{new}, once it is claimed across the
        cluster.

        @return: A L{Deferred} firing with the old name, or failing with
            L{NameTaken}.
        @raise InvalidName: At once, if C{new} is not a valid name (the
            other rules also fail at once: L{AlreadyCalled},
            L{NamesAreAccounts}).
        """
        check_name(new)
        if new == self.name:
            raise AlreadyCalled(new)
        if self.account is not None and name_key(new) != self.key:
            raise NamesAreAccounts()
        return self.realm.rename(self, new)

    # Sessions

    def sessionList(self) -> list[SessionInfo]:
        """
        @return: The sessions of this user's account, those of this node
            first, each in the order they logged in.
        """
        here = [
            SessionInfo(
                number,
                session.mind.door or "?",
                session.mind.peer,
                session.since,
                session is self,
            )
            for number, session in enumerate(self.sessions, 1)
        ]
        return here + [
            SessionInfo(number, s.door or "?", s.peer, s.since, False, s.node)
            for number, (_, s) in enumerate(self._elsewhere(), len(here) + 1)
        ]

    def _elsewhere(self) -> list[tuple[str, RemoteSession]]:
        """
        @return: The sessions of this user's account on other nodes of a
            cluster, with their ids, in the order they logged in.
        """
        sessions = self.realm.elsewhere.get(self.key, {})
        return sorted(sessions.items(), key=lambda each: each[1].since)

    def endSession(self, number: str) -> SessionInfo:
        """
        End the session numbered C{number} in L{sessionList} (this one
        too, if asked): its door says why and closes it.

        @return: What the session was.
        @raise NoSuchSession: If no session has that number.
        """
        listed = self.sessionList()
        given = parse_count(number.strip(), 1, len(listed))
        if given is None:
            raise NoSuchSession(check_text(number.strip())[:20])
        index = given - 1
        info = listed[index]
        log.info(
            "{name} ended its session from {peer}",
            chat_event="session",
            name=self.name,
            peer=info.peer,
        )
        reason = f"Session ended by {self.name} from another session"
        if index < len(self.sessions):
            self.sessions[index].mind.disconnect(reason)
        else:
            session, where = self._elsewhere()[index - len(self.sessions)]
            self.realm.endSession(self.key, session, where.node, reason)
        return info

    def quit(self, reason: str) -> None:
        """
        Leave the chat, for C{reason}; nothing happens the second time.  A
        reason is never refused (the user is leaving whatever it says):
        the realm takes out what text may not hold (L{ChatRealm.logout}).
        """
        self.realm.logout(self, reason)


def _history_failed(reason: Failure, room: str) -> None:
    """
    Log that the history of C{room} could not be read: in one line when the
    store says why (a cluster's Redis is away), with the traceback else.
    """
    if reason.check(HistoryUnavailable):
        log.warn(
            "Reading the history of {room} failed: {why}",
            room=room,
            why=reason.getErrorMessage(),
            chat_event="error",
        )
    else:
        log.failure(
            "Reading the history of {room} failed",
            failure=reason,
            chat_event="error",
            room=room,
        )


def _part_reason(reason: str) -> str:
    return f"Part: {reason}" if reason else "Part"
