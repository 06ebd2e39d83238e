"""
What a web client may send: every message type with its fields and their
types, and the check of one message against them (see C{docs/web.md}).
"""

from __future__ import annotations

import json
import re
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
    "signup": {"name": _text(), "password": _text()},
    "register": {"password": _text()},
    "password": {"old": _text(), "new": _text()},
    "unregister": {"password": _text()},
    "say": {"text": _text(), "room": _text(False)},
    "act": {"text": _text(), "room": _text(False)},
    "msg": {"to": _text(), "text": _text(), "action": Field(bool, False)},
    "join": {"room": _text(), "key": _text(False)},
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
    "read": {"target": _text(False), "id": Field(int, False)},
    "sessions": {"end": Field(int, False)},
    "quit": {"reason": _text(False)},
    # Moderation (docs/moderation.md)
    "oper": {"name": _text(), "password": _text()},
    "kick": {"room": _text(), "name": _text(), "reason": _text(False)},
    "ban": {
        "room": _text(),
        "mask": _text(),
        "duration": _text(False),
        "reason": _text(False),
    },
    "unban": {"room": _text(), "mask": _text()},
    "bans": {"room": _text()},
    "mute": {
        "room": _text(),
        "name": _text(),
        "duration": _text(False),
        "reason": _text(False),
    },
    "unmute": {"room": _text(), "name": _text()},
    "mode": {"room": _text(), "changes": _text(False)},
    "op": {"room": _text(), "name": _text()},
    "deop": {"room": _text(), "name": _text()},
    "voice": {"room": _text(), "name": _text()},
    "devoice": {"room": _text(), "name": _text()},
    "invite": {"room": _text(), "name": _text()},
    "modlog": {"room": _text()},
    "kill": {"name": _text(), "reason": _text(False)},
    "kline": {"mask": _text(), "duration": _text(False), "reason": _text(False)},
    "unkline": {"mask": _text()},
    "klines": {},
}
"""
Every message type a client may send, with its fields.
"""

_JSON_TYPES = {str: "a string", int: "a whole number", bool: "true or false"}

MAX_DEPTH = 8
"""
How deeply arrays and objects may nest in a client message, checked before
it is parsed (the parser recurses): a message is one flat object.
"""

# What JSON's nesting depends on: brackets, and the quotes and escapes that
# say whether a bracket is in a string.
_SPECIAL = re.compile(r'[\[\]{}"\\]')


def _too_deep(text: str) -> bool:
    """
    @return: Whether arrays and objects nest deeper than L{MAX_DEPTH} in
        C{text}, read as JSON; in one pass over its special characters.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    inString = False
    escaped = -1  # where the character an escape takes is
    for special in _SPECIAL.finditer(text):
        at = special.start()
        if at == escaped:
            continue
        char = text[at]
        if inString:
            if char == "\\":
                escaped = at + 1
            elif char == '"':
                inString = False
        elif char == '"':
            inString = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _is_text(value: str) -> bool:
    """
    @return: Whether C{value} is text: JSON's C{\\uD800} to C{\\uDFFF}
        escapes can give a lone surrogate, which is not.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    @raise BadMessage: If it is not JSON, nested too deeply, not an object,
        of no known type, or its fields are missing, unknown, of the wrong
        type, or strings that are not text (a lone surrogate).
    """
    if _too_deep(text):
        raise BadMessage(f"not JSON: nested deeper than {MAX_DEPTH}")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise BadMessage("not JSON") from None
    if not isinstance(message, dict):
        raise BadMessage("a message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise BadMessage('a message must have a "type" string')
    if not _is_text(kind):
        raise BadMessage('"type" is not text: a lone surrogate (\\ud800 to \\udfff)')
    fields = CLIENT_MESSAGES.get(kind)
    if fields is None:
        raise BadMessage(f"unknown message type {kind!r}")
    for name, value in message.items():
        if name == "type":
            continue
        field = fields.get(name)
        if field is None:
            raise BadMessage(f"unknown field {name!r} in {kind!r}", kind)
        # JSON's true is a Python int too: a whole number must not be one.
        if not isinstance(value, field.kind) or (
            isinstance(value, bool) and field.kind is not bool
        ):
            raise BadMessage(
                f"{kind!r}: {name!r} must be {_JSON_TYPES[field.kind]}", kind
            )
        if isinstance(value, str) and not _is_text(value):
            raise BadMessage(
                f"{kind!r}: {name!r} is not text: a lone surrogate "
                "(\\ud800 to \\udfff)",
                kind,
            )
    for name, field in fields.items():
        if field.required and name not in message:
            raise BadMessage(f"{kind!r} needs {name!r}", kind)
    return kind, message
