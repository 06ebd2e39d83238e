"""
The IRC door's codec: chat events as IRC messages.

A client's capabilities change how events are written (C{server-time} adds
a C{time} tag, C{message-tags} a C{msgid}, C{batch} wraps a history replay
in a batch), so there is one codec per set of those capabilities, shared
by every client with that set: the fan-out encodes each event once per
codec (L{Codecs}).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator
from itertools import count
from typing import TYPE_CHECKING

from chatserver.core import events
from chatserver.core.events import ChatEvent
from chatserver.core.moderation.records import MUTE
from chatserver.doors.irc import caps, message
from chatserver.doors.irc.stamps import format_stamp
from chatserver.history.store import ACTION, TOPIC, HistoryEntry
from chatserver.state.markers import millis

if TYPE_CHECKING:
    from chatserver.core.rooms import Room

MAX_LINE = message.MAX_LINE

MUTE_EXTBAN = "m:"
"""
How a mute reads in C{+b}, as Ergo and InspIRCd write it
(C{+b m:nick!*@*}; ISUPPORT C{EXTBAN=,m}).
"""

_batches = count(1)
_CONTINUED = frozenset(("time", "batch"))
"""
The tags the pieces of a split message after the first carry.
"""


def timestamp(when: float) -> str:
    """
    @return: C{when} as IRCv3 C{server-time} writes it
        (C{2026-12-01T09:14:03.120Z}).
    """
    return format_stamp(millis(when))


def new_batch_id() -> str:
    return f"b{next(_batches)}"


def split_text(text: str, room: int) -> Iterator[str]:
    """
    @return: C{text} in pieces of at most C{room} bytes of UTF-8, split
        between characters (a line door user may say more than one IRC line
        holds).
    """
    room = max(room, 16)
    data = text.encode("utf-8")
    while len(data) > room:
        cut = room
        while cut > 0 and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        yield data[:cut].decode("utf-8")
        data = data[cut:]
    yield data.decode("utf-8")


class IrcCodec:
    """
    Encodes chat events as IRC messages for clients with the capabilities
    C{enabled} (only those in L{caps.ENCODING} matter).

    @ivar serverName: The server's name, the prefix of its own messages.
    @ivar mask: Gives the C{nick!user@host} of a name.
    @ivar now: Gives the time, for the C{time} tag of events that carry
        none.
    @ivar account: Gives the account of the user called a name, or L{None}
        for a guest (or a user not known here).
    @ivar realname: Gives the real name of the user called a name, for
        C{extended-join}.
    """

    def __init__(
        self,
        serverName: str,
        enabled: frozenset[str],
        mask: Callable[[str], str],
        now: Callable[[], float],
        *,
        account: Callable[[str], str | None] = lambda name: None,
        realname: Callable[[str], str] = lambda name: name,
    ) -> None:
        self.serverName = serverName
        self.enabled = enabled
        self.mask = mask
        self.now = now
        self.account = account
        self.realname = realname

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return None

    def tags(
        self, when: float | None = None, msgid: int | str | None = None
    ) -> dict[str, str]:
        tags: dict[str, str] = {}
        if caps.SERVER_TIME in self.enabled:
            tags["time"] = timestamp(self.now() if when is None else when)
        # A line told while a cluster node was cut off from Redis has no id
        # yet (0): it goes without a msgid.  A private line's id is a
        # string (events.private_msgid).
        if msgid and caps.MESSAGE_TAGS in self.enabled:
            tags["msgid"] = str(msgid)
        return tags

    def texts(
        self,
        sender: str,
        command: str,
        target: str,
        text: str,
        tags: dict[str, str],
        *,
        action: bool = False,
        prefix: str = "",
    ) -> bytes:
        """
        @return: C{text} from C{sender} to C{target} as one C{PRIVMSG} or
            C{NOTICE} (C{command}) or more, each line within L{MAX_LINE}.
            The first line is the message: it alone carries its C{msgid} and
            its client-only tags; the lines after it carry its time (and
            batch) only, so that no two messages share a msgid.
        """
        prefix = prefix or self.mask(sender)
        overhead = len(f":{prefix} {command} {target} :\r\n".encode())
        if action:
            overhead += len("\x01ACTION \x01")
        out: list[bytes] = []
        for piece in split_text(text, MAX_LINE - overhead):
            body = f"\x01ACTION {piece}\x01" if action else piece
            out.append(message.encode(command, target, body, prefix=prefix, tags=tags))
            if len(out) == 1:
                tags = {k: v for k, v in tags.items() if k in _CONTINUED}
        return b"".join(out)

    def accountTag(self, tags: dict[str, str], sender: str) -> dict[str, str]:
        """
        @return: C{tags} with the C{account} of C{sender}, when it has one,
            for a client with C{account-tag}: on every message a user
            causes, as the specification asks (a line, a join, a part, a
            quit, a nick, a topic, a kick, a mode, an invitation).
        """
        if caps.ACCOUNT_TAG in self.enabled:
            account = self.account(sender)
            if account is not None:
                tags["account"] = account
        return tags

    def clientTags(self, tags: dict[str, str], given: events.Tags) -> dict[str, str]:
        """
        @return: C{tags} with the client-only tags C{given} by the sender,
            for a client with C{message-tags}.
        """
        if given and caps.MESSAGE_TAGS in self.enabled:
            tags.update(given)
        return tags

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        if isinstance(event, events.Said):
            command = "NOTICE" if event.notice else "PRIVMSG"
            tags = self.clientTags(self.tags(event.time, event.id), event.tags)
            self.accountTag(tags, event.sender)
            return self.texts(event.sender, command, event.room, event.text, tags)
        if isinstance(event, events.Acted):
            tags = self.clientTags(self.tags(event.time, event.id), event.tags)
            self.accountTag(tags, event.sender)
            return self.texts(
                event.sender, "PRIVMSG", event.room, event.text, tags, action=True
            )
        if isinstance(event, events.Whispered):
            command = "NOTICE" if event.notice else "PRIVMSG"
            return self.texts(
                event.sender,
                command,
                event.recipient,
                event.text,
                self.accountTag(
                    # A line kept between two accounts goes by its history
                    # id, the msgid CHATHISTORY on the nick gives it.
                    self.clientTags(
                        self.tags(event.time, event.id or event.msgid), event.tags
                    ),
                    event.sender,
                ),
                action=event.action,
            )
        if isinstance(event, events.TopicChanged):
            return message.encode(
                "TOPIC",
                event.room,
                event.topic,
                prefix=self.mask(event.setter),
                tags=self.accountTag(self.tags(event.time, event.id), event.setter),
            )
        if isinstance(event, events.Joined):
            return self.join(event.room, event.name)
        if isinstance(event, events.AccountChanged):
            if caps.ACCOUNT_NOTIFY not in self.enabled:
                return b""
            return message.encode(
                "ACCOUNT",
                event.account or "*",
                prefix=self.mask(event.name),
                tags=self.accountTag(self.tags(), event.name),
            )
        if isinstance(event, events.Parted):
            reason = event.reason.removeprefix("Part").removeprefix(": ")
            params = (event.room, reason) if reason else (event.room,)
            return message.encode(
                "PART",
                *params,
                prefix=self.mask(event.name),
                tags=self.accountTag(self.tags(), event.name),
            )
        if isinstance(event, events.Quit):
            return message.encode(
                "QUIT",
                event.reason,
                prefix=self.mask(event.name),
                tags=self.accountTag(self.tags(), event.name),
            )
        if isinstance(event, events.Renamed):
            return message.encode(
                "NICK",
                event.new,
                prefix=self.mask(event.new).replace(event.new, event.old, 1),
                tags=self.accountTag(self.tags(), event.new),
            )
        if isinstance(event, events.Replayed):
            return self.replay(event)
        if isinstance(event, events.ReadMarked):
            return self.markread(event)
        if isinstance(event, events.Kicked):
            # RFC 2812 3.2.8: the kicker's nick when no reason is given.
            return message.encode(
                "KICK",
                event.room,
                event.name,
                event.reason or event.actor,
                prefix=self.mask(event.actor),
                tags=self.accountTag(self.tags(), event.actor),
            )
        if isinstance(event, events.RoleChanged):
            sign = "+" if event.given else "-"
            return self.mode(event.actor, event.room, sign + event.role, event.name)
        if isinstance(event, events.BanChanged):
            sign = "+" if event.added else "-"
            extban = MUTE_EXTBAN if event.kind == MUTE else ""
            return self.mode(event.actor, event.room, sign + "b", extban + event.mask)
        if isinstance(event, events.ModeChanged):
            return self.mode(event.actor, event.room, event.changes, *event.arguments)
        if isinstance(event, events.Invited):
            return message.encode(
                "INVITE",
                event.name,
                event.room,
                prefix=self.mask(event.actor),
                tags=self.accountTag(self.tags(), event.actor),
            )
        raise TypeError(f"no IRC message for {event!r}")

    def markread(self, event: events.ReadMarked) -> bytes:
        """
        @return: C{draft/read-marker}'s C{MARKREAD} for C{event}: its time
            (exactly as a client gave it), or C{*} for no marker; for a
            client with the capability, nothing else.
        """
        if caps.READ_MARKER not in self.enabled:
            return b""
        stamp = "*" if event.stamp is None else f"timestamp={format_stamp(event.stamp)}"
        return message.encode("MARKREAD", event.target, stamp, prefix=self.serverName)

    def join(self, room: str, name: str) -> bytes:
        """
        @return: The C{JOIN} of C{name} to C{room}: with C{extended-join},
            with its account (C{*} for a guest) and real name.
        """
        tags = self.accountTag(self.tags(), name)
        if caps.EXTENDED_JOIN not in self.enabled:
            return message.encode("JOIN", room, prefix=self.mask(name), tags=tags)
        return message.encode(
            "JOIN",
            room,
            self.account(name) or "*",
            self.realname(name),
            prefix=self.mask(name),
            tags=tags,
        )

    def mode(self, actor: str, room: str, changes: str, *arguments: str) -> bytes:
        """
        @return: C{MODE room changes arguments...} from C{actor}, or from the
            server when there is none (a ban that ended by itself).
        """
        return message.encode(
            "MODE",
            room,
            changes,
            *arguments,
            prefix=self.mask(actor) if actor else self.serverName,
            tags=self.accountTag(self.tags(), actor) if actor else self.tags(),
        )

    def entry(self, entry: HistoryEntry, batch: str = "") -> bytes:
        """
        @return: A history entry as the message it was, with its time and
            msgid, in C{batch} if any.
        """
        tags = self.tags(entry.time, entry.id)
        if batch:
            tags["batch"] = batch
        if entry.kind == TOPIC:
            return message.encode(
                "TOPIC",
                entry.room,
                entry.text,
                prefix=self.mask(entry.sender),
                tags=tags,
            )
        return self.texts(
            entry.sender,
            "PRIVMSG",
            entry.room,
            entry.text,
            tags,
            action=entry.kind == ACTION,
        )

    def batch(
        self,
        target: str,
        entries: Collection[HistoryEntry],
        kind: str = "chathistory",
    ) -> bytes:
        """
        @return: C{entries} in a C{chathistory} batch for C{target} (with
            the C{batch} capability; else the entries alone).
        """
        if caps.BATCH not in self.enabled:
            return b"".join(self.entry(entry) for entry in entries)
        reference = new_batch_id()
        return b"".join(
            [
                message.encode(
                    "BATCH",
                    "+" + reference,
                    *((kind, target) if target else (kind,)),
                    prefix=self.serverName,
                ),
                *(self.entry(entry, reference) for entry in entries),
                message.encode("BATCH", "-" + reference, prefix=self.serverName),
            ]
        )

    def replay(self, event: events.Replayed) -> bytes:
        """
        @return: The history shown on joining a room: the messages with their
            times (with C{server-time}), or else as notices from the server
            with the time written in.
        """
        if caps.SERVER_TIME in self.enabled:
            return self.batch(event.room, event.entries)
        out: list[bytes] = []
        for entry in event.entries:
            when = timestamp(entry.time)[:19].replace("T", " ")
            if entry.kind == ACTION:
                text = f"[{when}] * {entry.sender} {entry.text}"
            elif entry.kind == TOPIC:
                text = f"[{when}] {entry.sender} set the topic: {entry.text}"
            else:
                text = f"[{when}] <{entry.sender}> {entry.text}"
            out.append(
                self.texts("", "NOTICE", event.room, text, {}, prefix=self.serverName)
            )
        return b"".join(out)


class Codecs:
    """
    One L{IrcCodec} per set of capabilities that matter, made when first
    needed.
    """

    def __init__(
        self,
        serverName: str,
        mask: Callable[[str], str],
        now: Callable[[], float],
        *,
        account: Callable[[str], str | None] = lambda name: None,
        realname: Callable[[str], str] = lambda name: name,
    ) -> None:
        self.serverName = serverName
        self.mask = mask
        self.now = now
        self.account = account
        self.realname = realname
        self._codecs: dict[frozenset[str], IrcCodec] = {}

    def get(self, enabled: frozenset[str]) -> IrcCodec:
        key = enabled & caps.ENCODING
        codec = self._codecs.get(key)
        if codec is None:
            codec = self._codecs[key] = IrcCodec(
                self.serverName,
                key,
                self.mask,
                self.now,
                account=self.account,
                realname=self.realname,
            )
        return codec
