"""
The web door's codec: chat events as JSON messages (see C{docs/web.md}),
each one WebSocket text message.

The fan-out hands a session everything of one reactor turn in one
C{deliver}, the encodings concatenated, and encodes each event once per
codec and form.  So the codec encodes an event as a whole WebSocket frame:
a final, unmasked text frame (RFC 6455, section 5.2: a server never masks)
holding the JSON.  Frames one after the other are a valid stream of
messages, so what the fan-out concatenates is written to the connection as
it is: one write per user per turn, and the framing is done once per event
for every web user, not once per user.  An event is the same for every
reader (it names its room), so there is one form.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Hashable
from typing import TYPE_CHECKING, Any

from chatserver.core import events
from chatserver.core.events import ChatEvent
from chatserver.history.store import ACTION, TOPIC, HistoryEntry

if TYPE_CHECKING:
    from chatserver.core.rooms import Room

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


TEXT_FRAME = 0x81  # FIN, opcode 1 (text)


def frame(payload: bytes) -> bytes:
    """
    @return: C{payload} (UTF-8 text) as one final, unmasked text frame.
    """
    size = len(payload)
    if size < 126:
        header = bytes((TEXT_FRAME, size))
    elif size < 1 << 16:
        header = bytes((TEXT_FRAME, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((TEXT_FRAME, 127)) + size.to_bytes(8, "big")
    return header + payload


def encode_message(message: dict[str, Any]) -> bytes:
    """
    @return: C{message} as JSON in one WebSocket text frame, as L{WebCodec}
        encodes events.
    """
    return frame(_dumps(message).encode("utf-8"))


def _kind(kind: str) -> str:
    if kind == ACTION:
        return "action"
    if kind == TOPIC:
        return "topic"
    return "message"


def _kept(
    kind: str,
    room: str,
    sender: str,
    text: str,
    event: events.Said | events.Acted | events.TopicChanged,
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": kind, "room": room, "from": sender, "text": text}
    # A line told by a cluster node cut off from Redis has no id yet (0):
    # it goes without one, so the page does not take it for another.
    if event.id:
        message["id"] = event.id
    message["time"] = event.time
    return message


def _entry(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "kind": _kind(entry.kind),
        "from": entry.sender,
        "text": entry.text,
        "id": entry.id,
        "time": entry.time,
    }


def event_message(event: ChatEvent) -> dict[str, Any]:
    """
    @return: The JSON message that tells C{event}.
    """
    if isinstance(event, events.Said):
        return _kept("message", event.room, event.sender, event.text, event)
    if isinstance(event, events.Acted):
        return _kept("action", event.room, event.sender, event.text, event)
    if isinstance(event, events.TopicChanged):
        return _kept("topic", event.room, event.setter, event.topic, event)
    if isinstance(event, events.Joined):
        return {"type": "join", "room": event.room, "name": event.name}
    if isinstance(event, events.Parted):
        return {
            "type": "part",
            "room": event.room,
            "name": event.name,
            "reason": event.reason,
        }
    if isinstance(event, events.Quit):
        return {"type": "quit", "name": event.name, "reason": event.reason}
    if isinstance(event, events.Renamed):
        return {"type": "rename", "old": event.old, "new": event.new}
    if isinstance(event, events.AccountChanged):
        return {"type": "account", "name": event.name, "account": event.account}
    if isinstance(event, events.Whispered):
        return {
            "type": "private",
            "from": event.sender,
            "to": event.recipient,
            # An action to one user (/me from IRC) reads as one.
            "text": f"* {event.sender} {event.text}" if event.action else event.text,
            "time": event.time,
        }
    if isinstance(event, events.Replayed):
        return {
            "type": "history",
            "room": event.room,
            "entries": [_entry(entry) for entry in event.entries],
            "more": event.more,
            **({"unreadFrom": event.unreadFrom} if event.unreadFrom else {}),
        }
    if isinstance(event, events.ReadMarked):
        return {
            "type": "read",
            "target": event.target,
            "id": event.id or 0,
            "time": 0 if event.stamp is None else event.stamp / 1000,
            "unread": event.unread,
        }
    if isinstance(event, events.SearchResults):
        return {
            "type": "found",
            "words": event.words,
            "entries": [
                {"room": entry.room, **_entry(entry)} for entry in event.entries
            ],
            "more": event.more,
            "next": event.next,
        }
    if isinstance(event, events.Kicked):
        return {
            "type": "kick",
            "room": event.room,
            "by": event.actor,
            "name": event.name,
            "reason": event.reason,
        }
    if isinstance(event, events.RoleChanged):
        return {
            "type": "role",
            "room": event.room,
            "by": event.actor,
            "name": event.name,
            "role": "op" if event.role == "o" else "voice",
            "given": event.given,
        }
    if isinstance(event, events.BanChanged):
        return {
            "type": event.kind,
            "room": event.room,
            "by": event.actor or None,
            "mask": event.mask,
            "added": event.added,
            "ends": event.endsAt,
            "reason": event.reason,
        }
    if isinstance(event, events.ModeChanged):
        return {
            "type": "mode",
            "room": event.room,
            "by": event.actor,
            "changes": event.changes,
            "arguments": list(event.arguments),
        }
    if isinstance(event, events.Invited):
        return {"type": "invite", "room": event.room, "by": event.actor}
    raise TypeError(f"no message for {event!r}")


class WebCodec:
    """
    Encodes chat events as JSON lines for the web door, one form for all.
    """

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return None

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        return encode_message(event_message(event))


def split_messages(data: bytes) -> list[str]:
    """
    @return: The texts of the frames in C{data}, as L{WebCodec} and
        L{encode_message} wrote them (for tests and tools).
    """
    texts = []
    offset = 0
    while offset < len(data):
        size, head = data[offset + 1], 2
        if size == 126:
            size, head = int.from_bytes(data[offset + 2 : offset + 4], "big"), 4
        elif size == 127:
            size, head = int.from_bytes(data[offset + 2 : offset + 10], "big"), 10
        start = offset + head
        texts.append(data[start : start + size].decode("utf-8"))
        offset = start + size
    return texts
