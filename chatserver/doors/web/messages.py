"""
What a web client may send: every message type with its fields and their
types, and the check of one message against them (see C{docs/web.md}).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Field:
    """
    One field of a client message: its JSON type and whether it must be
    there.
    """

    kind: type
    required: bool = True


def _text(required: bool = True) -> Field:
    return Field(str, required)


CLIENT_MESSAGES: dict[str, dict[str, Field]] = {
    "login": {"name": _text(), "password": _text(False)},
    "say": {"text": _text(), "room": _text(False)},
    "act": {"text": _text(), "room": _text(False)},
    "msg": {"to": _text(), "text": _text()},
    "join": {"room": _text()},
    "part": {"room": _text(False), "reason": _text(False)},
    "topic": {"room": _text(False), "text": _text(False)},
    "nick": {"name": _text()},
    "rooms": {},
    "who": {"room": _text(False)},
    "history": {"room": _text(False), "limit": Field(int, False)},
    "search": {
        "query": _text(False),
        "before": Field(int, False),
        "limit": Field(int, False),
    },
    "quit": {"reason": _text(False)},
}
"""
Every message type a client may send, with its fields.
"""

_JSON_TYPES = {str: "a string", int: "a whole number"}


class BadMessage(Exception):
    """
    A client message is not one the door takes.

    @ivar about: The message's type, when it had a known one.
    """

    def __init__(self, why: str, about: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.about = about


def parse_message(text: str) -> tuple[str, dict[str, Any]]:
    """
    @return: The type and the fields of the client message C{text}.
    @raise BadMessage: If it is not JSON, not an object, of no known type,
        or its fields are missing, unknown or of the wrong type.
    """
    try:
        message = json.loads(text)
    except ValueError:
        raise BadMessage("not JSON") from None
    if not isinstance(message, dict):
        raise BadMessage("a message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise BadMessage('a message must have a "type" string')
    fields = CLIENT_MESSAGES.get(kind)
    if fields is None:
        raise BadMessage(f"unknown message type {kind!r}")
    for name, value in message.items():
        if name == "type":
            continue
        field = fields.get(name)
        if field is None:
            raise BadMessage(f"unknown field {name!r} in {kind!r}", kind)
        if not isinstance(value, field.kind) or isinstance(value, bool):
            raise BadMessage(
                f"{kind!r}: {name!r} must be {_JSON_TYPES[field.kind]}", kind
            )
    for name, field in fields.items():
        if field.required and name not in message:
            raise BadMessage(f"{kind!r} needs {name!r}", kind)
    return kind, message
