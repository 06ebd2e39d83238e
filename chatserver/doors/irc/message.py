"""
One IRC message, parsed and formatted (RFC 1459 section 2.3.1, with IRCv3
message tags): C{@tags :prefix COMMAND params :trailing}.

Tag values are escaped as the IRCv3 message-tags specification says, with
the same escapes as L{twisted.words.protocols.irc.IRC._escapeTagValue}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_ESCAPES = {"\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}

MAX_PARAMS = 15
MAX_LINE = 512
"""
The longest line, its CR LF included, without its tags (RFC 1459 2.3).
"""


class MalformedMessage(ValueError):
    """
    A line that is not an IRC message.
    """


@dataclass(frozen=True)
class Message:
    """
    One IRC message.

    @ivar command: The command, upper-cased, or a three-digit numeric.
    @ivar params: Its parameters, the trailing one included.
    @ivar prefix: Who it is from (C{nick!user@host}, a server), or C{""}.
    @ivar tags: Its message tags, unescaped; a tag without a value maps to
        C{""}.
    """

    command: str
    params: tuple[str, ...] = ()
    prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def escape_tag_value(value: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in value)


def unescape_tag_value(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, None)
        if following is None:
            break  # a lone backslash at the end is dropped
        out.append(_UNESCAPES.get(following, following))
    return "".join(out)


def parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if key:
            tags[key] = unescape_tag_value(value)
    return tags


def format_tags(tags: dict[str, str]) -> str:
    return ";".join(
        f"{key}={escape_tag_value(value)}" if value else key
        for key, value in tags.items()
    )


def parse(line: str) -> Message:
    """
    @param line: One line, without its line end.
    @raise MalformedMessage: If it holds no command.
    """
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        text, _, rest = rest[1:].partition(" ")
        tags = parse_tags(text)
    rest = rest.lstrip(" ")
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command:
        raise MalformedMessage("no command")
    params: list[str] = []
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if rest.startswith(":") or len(params) == MAX_PARAMS - 1:
            params.append(rest[1:] if rest.startswith(":") else rest)
            break
        param, _, rest = rest.partition(" ")
        params.append(param)
    return Message(command.upper(), tuple(params), prefix, tags)


def format(
    command: str,
    *params: str,
    prefix: str = "",
    tags: dict[str, str] | None = None,
) -> str:
    """
    @return: The message as a line without its line end; the last parameter
        is written as a trailing one (after C{:}) when it must be: empty,
        holding a space or starting with C{:}.  Another parameter that could
        not be read back as one (a client's C{JOIN :#a b} named in its 403)
        is written C{*}, as IRC writes what it cannot name.
    """
    parts: list[str] = []
    if tags:
        parts.append("@" + format_tags(tags))
    if prefix:
        parts.append(":" + prefix)
    parts.append(command)
    if params:
        parts.extend(
            param if param and " " not in param and param[0] != ":" else "*"
            for param in params[:-1]
        )
        last = params[-1]
        if not last or " " in last or last.startswith(":"):
            last = ":" + last
        parts.append(last)
    return " ".join(parts)


def encode(
    command: str,
    *params: str,
    prefix: str = "",
    tags: dict[str, str] | None = None,
) -> bytes:
    """
    @return: L{format}, encoded in UTF-8 with its CR LF, within L{MAX_LINE}
        bytes without its tags: a last parameter that would make it longer
        (a topic, a reason, a real name under a long mask) is cut, between
        characters, to fit.
    """
    body = format(command, *params, prefix=prefix).encode("utf-8")
    over = len(body) + 2 - MAX_LINE
    if over > 0 and params:
        last = params[-1].encode("utf-8")
        # One byte more for the ":" that a cut parameter may come to need.
        end = max(len(last) - over - 1, 0)
        while end > 0 and last[end] & 0xC0 == 0x80:
            end -= 1
        params = (*params[:-1], last[:end].decode("utf-8"))
        body = format(command, *params, prefix=prefix).encode("utf-8")
    if not tags:
        return body + b"\r\n"
    return b"@" + format_tags(tags).encode("utf-8") + b" " + body + b"\r\n"


def add_tags(line: bytes, tags: dict[str, str]) -> bytes:
    """
    @param line: An encoded message (L{encode}).
    @return: C{line} with C{tags} before its own.
    """
    added = b"@" + format_tags(tags).encode("utf-8")
    if line.startswith(b"@"):
        return added + b";" + line[1:]
    return added + b" " + line


def tags_of(line: bytes) -> dict[str, str]:
    """
    @return: The tags of an encoded message.
    """
    if not line.startswith(b"@"):
        return {}
    return parse_tags(line[1:].partition(b" ")[0].decode("utf-8"))


def items(param: str) -> list[str]:
    """
    @return: The items of a comma-separated list, the empty ones left out
        (C{,#a,,#b}: C{#a} and C{#b}), as no reply can name an empty one.
    """
    return [item for item in param.split(",") if item]
