"""
The web door's codec: chat events as JSON messages (see C{docs/web.md}).

The fan-out hands a session everything of one reactor turn in one
C{deliver}, the encodings concatenated.  Each event is encoded as one line
of JSON followed by C{\\n} (JSON text never holds a raw newline: it escapes
it), so the session splits what it is given at each C{\\n} and sends every
piece as one WebSocket text message.  An event is the same for every reader
(it names its room), so there is one form.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Hashable
from typing import TYPE_CHECKING, Any

from chatserver.core import events
from chatserver.core.events import ChatEvent
from chatserver.history.store import ACTION, TOPIC

if TYPE_CHECKING:
    from chatserver.core.rooms import Room

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_message(message: dict[str, Any]) -> bytes:
    """
    @return: C{message} as one JSON line, as L{WebCodec} encodes events.
    """
    return _dumps(message).encode("utf-8") + b"\n"


def _kind(kind: str) -> str:
    if kind == ACTION:
        return "action"
    if kind == TOPIC:
        return "topic"
    return "message"


def event_message(event: ChatEvent) -> dict[str, Any]:
    """
    @return: The JSON message that tells C{event}.
    """
    if isinstance(event, events.Said):
        return {
            "type": "message",
            "room": event.room,
            "from": event.sender,
            "text": event.text,
            "id": event.id,
            "time": event.time,
        }
    if isinstance(event, events.Acted):
        return {
            "type": "action",
            "room": event.room,
            "from": event.sender,
            "text": event.text,
            "id": event.id,
            "time": event.time,
        }
    if isinstance(event, events.TopicChanged):
        return {
            "type": "topic",
            "room": event.room,
            "from": event.setter,
            "text": event.topic,
            "id": event.id,
            "time": event.time,
        }
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
    if isinstance(event, events.Whispered):
        return {
            "type": "private",
            "from": event.sender,
            "to": event.recipient,
            "text": event.text,
            "time": event.time,
        }
    if isinstance(event, events.Replayed):
        return {
            "type": "history",
            "room": event.room,
            "entries": [
                {
                    "kind": _kind(entry.kind),
                    "from": entry.sender,
                    "text": entry.text,
                    "id": entry.id,
                    "time": entry.time,
                }
                for entry in event.entries
            ],
            "more": event.more,
        }
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
    @return: The JSON messages in C{data}, what L{WebCodec} and
        L{encode_message} wrote, one text per message.
    """
    return data.decode("utf-8").split("\n")[:-1]
