"""
What a user types, read as either chat text or a command.

A line starting with C{/} is a command (C{/who}, C{/msg bob hi}); a line
starting with C{//} is chat text starting with one C{/}.  Text may not hold
control characters: they could rewrite other users' terminals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HELP = (
    ("/who", "list the users online"),
    ("/msg NAME TEXT", "send TEXT to NAME alone"),
    ("/me ACTION", "tell everyone what you are doing"),
    ("/nick NAME", "change your name"),
    ("/quit [REASON]", "leave the chat"),
    ("/help", "show this help"),
    ("//TEXT", "send a line that starts with '/'"),
)


# Unicode's control (Cc) and surrogate (Cs) characters, but for the tab: one
# regular expression search per line instead of a Python loop per character.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


class InvalidText(ValueError):
    """
    The line holds something that may not be sent to other users.
    """


@dataclass(frozen=True, slots=True)
class Command:
    """
    A command: C{name} is lower-cased and without its slash, C{args} is the
    rest of the line with the blanks around it stripped.
    """

    name: str
    args: str


@dataclass(frozen=True, slots=True)
class Chat:
    """
    Plain chat text, to be delivered as it is.
    """

    text: str


def check_text(text: str) -> str:
    """
    @return: C{text} when it holds no control characters (tabs are allowed).
    @raise InvalidText: Naming the first control character found.
    """
    found = _CONTROL.search(text)
    if found is not None:
        raise InvalidText(
            f"control characters are not allowed (found U+{ord(found[0]):04X})"
        )
    return text


def parse_input(line: str) -> Command | Chat | None:
    """
    Read one line a logged-in user typed.

    @return: The command, the chat text, or L{None} for a blank line (which
        is ignored).
    @raise InvalidText: If the line holds control characters.
    """
    if not line.strip():
        return None
    check_text(line)
    if line.startswith("//"):
        return Chat(line[1:])
    if line.startswith("/"):
        name, _, args = line[1:].partition(" ")
        return Command(name.lower(), args.strip())
    return Chat(line)


def split_first(args: str) -> tuple[str, str]:
    """
    Split command arguments into their first word and the rest.

    @return: C{(word, rest)}; either may be empty.
    """
    first, _, rest = args.strip().partition(" ")
    return first, rest.strip()
