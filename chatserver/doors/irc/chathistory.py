"""
IRCv3 C{draft/chathistory} over the chat's history store: C{LATEST},
C{BEFORE}, C{AFTER}, C{AROUND}, C{BETWEEN} (and an empty C{TARGETS}), with
references by C{msgid} (the store's ids) or C{timestamp}.  Replies come in
a C{chathistory} batch, each message with its C{time} and C{msgid}.

A nick as target gives the private conversation of the client's account
with that account (kept for two accounts only: a guest gets an empty
batch); topic changes are left out (they are not messages).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.doors.irc.welcome import CHATHISTORY_MAX
from chatserver.history.store import MAX_PAGE, TOPIC, HistoryEntry
from chatserver.limits.numbers import parse_count
from chatserver.state.markers import millis
from chatwire.errors import ChatError
from chatwire.names import check_name, room_key

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

log = Logger(namespace=LOG_NAMESPACE)

SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN")
_SCAN_PAGES = 50


class BadReference(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    """
    A message reference: C{msgid=ID}, C{timestamp=TIME}, or C{*} (neither).
    """

    id: int | None = None
    time: float | None = None


def parse_reference(text: str, star: bool = False) -> Reference:
    if text == "*" and star:
        return Reference()
    kind, _, value = text.partition("=")
    if kind == "msgid":
        number = parse_count(value)
        if number is None:
            raise BadReference(text)
        return Reference(id=number)
    if kind == "timestamp":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            # A time without a zone is local: year 1 may then fall before
            # the calendar's start.
            return Reference(time=moment.timestamp())
        except (ValueError, OverflowError, OSError):
            raise BadReference(text) from None
    raise BadReference(text)


_Query = Callable[[int, int | None, int | None], defer.Deferred[list[HistoryEntry]]]


class _Reader:
    """
    Reads one room's or private conversation's history for one request.

    @param read: Reads a page: limit, before, after (L{ChatUser.history}).
    """

    def __init__(self, read: _Query) -> None:
        self.read_ = read

    def query(
        self, limit: int, before: int | None = None, after: int | None = None
    ) -> defer.Deferred[list[HistoryEntry]]:
        return self.read_(limit, before, after)

    async def bounds(self, when: float) -> tuple[int, int | None]:
        """
        @return: The id of the last entry at or before C{when} (0 for
            none), and of the first entry at or after it (L{None} for none),
            compared to the millisecond as C{server-time} shows them (a
            client refers to a message by the time it was shown).
        """
        when = millis(when)
        last, first = 0, None
        cursor: int | None = None
        for _ in range(_SCAN_PAGES):
            page = await self.query(MAX_PAGE, before=cursor)
            if not page:
                break
            for entry in reversed(page):
                shown = millis(entry.time)
                if shown >= when:
                    first = entry.id
                if shown <= when:
                    last = max(last, entry.id)
            if millis(page[0].time) <= when or len(page) < MAX_PAGE:
                break
            cursor = page[0].id
        return last, first

    async def afterId(self, ref: Reference) -> int:
        if ref.id is not None:
            return ref.id
        if ref.time is not None:
            return (await self.bounds(ref.time))[0]
        return 0

    async def beforeId(self, ref: Reference) -> int | None:
        if ref.id is not None:
            return ref.id
        if ref.time is not None:
            return (await self.bounds(ref.time))[1]
        return None

    async def read(
        self, sub: str, refs: list[Reference], limit: int
    ) -> list[HistoryEntry]:
        if sub == "LATEST":
            entries = await self.query(limit)
            floor = await self.afterId(refs[0])
            return [entry for entry in entries if entry.id > floor]
        if sub == "BEFORE":
            before = await self.beforeId(refs[0])
            if before is None and refs[0].time is not None:
                return await self.query(limit)
            return await self.query(limit, before=before)
        if sub == "AFTER":
            return await self.query(limit, after=await self.afterId(refs[0]))
        if sub == "AROUND":
            center = refs[0].id
            if center is None:
                center = await self.beforeId(refs[0])
            if center is None:
                return await self.query(limit)
            older = await self.query(limit - limit // 2, before=center + 1)
            newer = await self.query(limit // 2, after=center) if limit > 1 else []
            return older + newer
        # BETWEEN: exclusive of both ends, counted from the first reference.
        one, two = refs
        low = min(await self.afterId(one), await self.afterId(two))
        highs = [await self.beforeId(one), await self.beforeId(two)]
        high = max(h for h in highs if h is not None) if any(highs) else None
        if one.id is not None and two.id is not None:
            low, high = min(one.id, two.id), max(one.id, two.id)
        forward = (one.id or one.time or 0) <= (two.id or two.time or 0)
        if forward:
            return await self.query(limit, before=high, after=low)
        entries = await self.query(MAX_PAGE, before=high, after=low)
        return entries[-limit:]


def chathistory(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    params = msg.params
    if not params:
        connection.fail("CHATHISTORY", "NEED_MORE_PARAMS", "*", "Missing parameters")
        return
    sub = params[0].upper()
    if sub == "TARGETS":
        connection.send(connection.codec.batch("", [], "draft/chathistory-targets"))
        return
    if sub not in SUBCOMMANDS:
        connection.fail("CHATHISTORY", "UNKNOWN_COMMAND", sub, "Unknown command")
        return
    wanted = 5 if sub == "BETWEEN" else 4
    if len(params) < wanted:
        connection.fail("CHATHISTORY", "NEED_MORE_PARAMS", sub, "Missing parameters")
        return
    target = params[1]
    try:
        refs = [
            parse_reference(p, star=sub == "LATEST") for p in params[2 : wanted - 1]
        ]
    except BadReference as e:
        connection.fail(
            "CHATHISTORY", "INVALID_PARAMS", sub, str(e), "Invalid reference"
        )
        return
    limitText = params[wanted - 1]
    asked = parse_count(limitText, 1)
    if asked is None:
        connection.fail(
            "CHATHISTORY", "INVALID_PARAMS", sub, limitText, "Invalid limit"
        )
        return
    limit = min(asked, CHATHISTORY_MAX)
    if not target.startswith("#"):
        _private(connection, user, sub=sub, target=target, refs=refs, limit=limit)
        return
    realm = connection.server.realm
    try:
        room_key(target)
    except ChatError:
        room = None
    else:
        room = realm.getRoom(target)
    if room is None or room not in user.rooms:
        # Only a room's members read its history (as in irctest and Ergo).
        connection.fail(
            "CHATHISTORY",
            "INVALID_TARGET",
            sub,
            target,
            "Messages could not be retrieved",
        )
        return
    shown = room.name
    reader = _Reader(partial(user.history, target))
    _send(connection, user, sub, shown, reader.read(sub, refs, limit))


def _private(
    connection: IrcProtocol,
    user: ChatUser,
    *,
    sub: str,
    target: str,
    refs: list[Reference],
    limit: int,
) -> None:
    """
    Answer a request about the private conversation with C{target}: empty
    for a guest, or a name no user may have.
    """
    try:
        check_name(target)
    except ChatError:
        connection.send(connection.codec.batch(target, []))
        return
    if not user.isAccount:
        connection.send(connection.codec.batch(target, []))
        return
    reader = _Reader(partial(user.privateHistory, target))
    _send(connection, user, sub, target, reader.read(sub, refs, limit))


def _send(
    connection: IrcProtocol,
    user: ChatUser,
    sub: str,
    shown: str,
    read: Coroutine[Any, Any, list[HistoryEntry]],
) -> None:
    """
    Send what C{read} reads in one batch about C{shown}.
    """
    reading = defer.Deferred.fromCoroutine(read)

    def got(entries: list[HistoryEntry]) -> None:
        if connection.user is not user or connection.closing:
            return
        kept = [entry for entry in entries if entry.kind != TOPIC]
        connection.send(connection.codec.batch(shown, kept))

    def failed(reason: Failure) -> None:
        log.failure("CHATHISTORY failed", failure=reason, chat_event="error")
        connection.fail(
            "CHATHISTORY", "MESSAGE_ERROR", sub, shown, "History unavailable"
        )

    reading.addCallbacks(got, failed)
