"""
The line door's codec: chat events as server lines.

A line about a room is marked with its room (C{#dev <bob> hi}) unless the
reader's only room is the default room, so that a user who never joins
another room reads what they read before rooms existed.  That makes two
forms of a room event, L{PLAIN} and L{MARKED}; the fan-out encodes each at
most once per event.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from typing import TYPE_CHECKING, Any

from chatserver.core import events
from chatserver.core.events import ChatEvent
from chatwire import lines
from chatwire.names import room_key

if TYPE_CHECKING:
    from chatserver.core.rooms import Room

PLAIN = False
MARKED = True


def _kicked(e: events.Kicked) -> lines.Plain:
    # A Left line: every reader, the Tk client included, sees NAME leave.
    return lines.Left.kick(e.name, e.actor, e.reason)


def _ban(e: events.BanChanged) -> lines.Plain:
    return lines.BanChanged(e.actor, e.kind, e.mask, e.added, e.endsAt, e.reason)


_LINES: dict[type, Callable[[Any], lines.Plain]] = {
    events.Kicked: _kicked,
    events.RoleChanged: lambda e: lines.RoleChanged(e.actor, e.name, e.role, e.given),
    events.BanChanged: _ban,
    events.ModeChanged: lambda e: lines.ModeChanged(e.actor, e.changes, e.arguments),
    events.Invited: lambda e: lines.Info(
        f"{e.actor} invites you to {e.room}: /join {e.room}"
    ),
    events.Said: lambda e: lines.Message(e.sender, e.text),
    events.Acted: lambda e: lines.Action(e.sender, e.text),
    events.TopicChanged: lambda e: lines.TopicSet(e.setter, e.topic),
    events.Joined: lambda e: lines.Joined(e.name),
    events.Parted: lambda e: lines.Left(e.name, e.reason),
    events.Quit: lambda e: lines.Left(e.name, e.reason),
    events.Renamed: lambda e: lines.Renamed(e.old, e.new),
    events.Whispered: lambda e: (
        lines.PrivateOut(e.recipient, f"* {e.sender} {e.text}" if e.action else e.text)
        if e.echo
        else lines.PrivateIn(e.sender, f"* {e.sender} {e.text}" if e.action else e.text)
    ),
}


def _line(event: ChatEvent) -> lines.Plain:
    """
    @return: The server line that tells C{event} (a room event, for room
        events: without its room).
    """
    make = _LINES.get(type(event))
    if make is None:
        raise TypeError(f"no line for {event!r}")
    return make(event)


class LineCodec:
    """
    Encodes chat events as server lines for the line door.

    @ivar defaultRoomKey: The key of the server's default room.
    """

    def __init__(self, defaultRoom: str) -> None:
        self.defaultRoomKey = room_key(defaultRoom)

    def marked(self, rooms: Collection[Room], room: Room | None) -> bool:
        """
        @return: Whether a line about C{room} is marked with it for a reader
            in C{rooms}.
        """
        if room is None:
            return PLAIN
        if len(rooms) == 1 and room.key == self.defaultRoomKey:
            return room not in rooms
        return MARKED

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return self.marked(rooms, room)

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        if isinstance(event, events.Replayed):
            return self._replay(event, bool(form))
        if isinstance(event, events.SearchResults):
            return self._found(event)
        if isinstance(event, events.ReadMarked):
            # Id 0: no line was said by the marker's time (or no marker).
            read = lines.ReadUpTo(event.target, event.id or 0, event.unread)
            return lines.encode(read)
        if isinstance(event, events.AccountChanged):
            return b""  # the line door tells only the user's own (a reply)
        line = _line(event)
        if form and isinstance(event, events.RoomEvent):
            return lines.encode(lines.InRoom(event.room, line))
        return lines.encode(line)

    def _replay(self, event: events.Replayed, marked: bool) -> bytes:
        out: list[lines.Plain | lines.History] = []
        for entry in event.entries:
            if entry.id == event.unreadFrom:
                out.append(lines.UnreadFrom())
            out.append(
                lines.History(entry.id, entry.time, _line(events.room_event(entry)))
            )
        out.append(lines.HistoryEnd(len(event.entries)))
        if marked:
            return b"".join(
                lines.encode(lines.InRoom(event.room, line)) for line in out
            )
        return b"".join(lines.encode(line) for line in out)

    def _found(self, event: events.SearchResults) -> bytes:
        count = len(event.entries)
        out: list[lines.Event] = [lines.SearchHeader(count, event.words)]
        out.extend(
            lines.InRoom(
                entry.room,
                lines.History(entry.id, entry.time, _line(events.room_event(entry))),
            )
            for entry in event.entries
        )
        out.append(lines.SearchEnd(count, event.more))
        return b"".join(lines.encode(line) for line in out)

    def mark(
        self, rooms: Collection[Room], room: Room, line: lines.Plain
    ) -> lines.Event:
        """
        @return: C{line}, a reply about C{room}, marked with it when the
            reader in C{rooms} reads room lines marked.
        """
        if self.marked(rooms, room):
            return lines.InRoom(room.name, line)
        return line
