"""
What a user types, read as either chat text or a command.

A line starting with C{/} is a command (C{/who}, C{/msg bob hi}); a line
starting with C{//} is chat text starting with one C{/}.  Text may not hold
control characters: they could rewrite other users' terminals.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatwire.text import check_text

HELP = (
    ("/join #ROOM [KEY]", "join a room (made if new: you operate it) and talk there"),
    ("/part [#ROOM] [REASON]", "leave a room (the current one by default)"),
    ("/rooms", "list the rooms, with their users and topics"),
    ("/who [#ROOM]", "list the users in a room"),
    ("/where", "list your rooms, in the order you joined them"),
    ("/topic [#ROOM] [TEXT]", "show, or set, a room's topic"),
    ("/history [#ROOM] [N]", "show N older lines of a room (20, at most 200)"),
    (
        "/search [#ROOM] WORDS",
        "find lines in your rooms, newest first, also with from:NAME"
        " before:DATE after:DATE; /search alone: more",
    ),
    ("/msg NAME TEXT", "send TEXT to NAME alone"),
    ("/me ACTION", "tell the room what you are doing"),
    ("/nick NAME", "change your name"),
    ("/sessions [end N]", "list your account's sessions, or end one"),
    ("/read [#ROOM|NAME] [ID]", "mark a room or a private talk read (up to ID)"),
    ("/register", "make your name an account, with a password (--accounts)"),
    ("/password", "change your account's password"),
    ("/unregister", "give your account up: your name is free again"),
    ("/quit [REASON]", "leave the chat"),
    ("/oper NAME PASSWORD", "become a server operator"),
    ("/kick #ROOM NAME [REASON]", "put NAME out of a room you operate"),
    (
        "/ban #ROOM MASK [DURATION] [REASON]",
        "ban a name pattern, NICK!IDENT@HOST, address or network (30s 10m 2h 7d)",
    ),
    ("/unban #ROOM MASK", "lift a ban"),
    ("/bans #ROOM", "list a room's bans and mutes"),
    ("/mute #ROOM NAME [DURATION] [REASON]", "NAME reads but cannot speak"),
    ("/unmute #ROOM NAME", "lift a mute"),
    (
        "/mode #ROOM [+|-FLAGS] [ARGS]",
        "show or set modes: m moderated, i invite-only, t topic by ops,"
        " k KEY, l N, o NAME, v NAME",
    ),
    ("/op /deop #ROOM NAME", "give or take a room's operator role"),
    ("/voice /devoice #ROOM NAME", "give or take voice (speak when +m)"),
    ("/invite NAME #ROOM", "invite NAME to a room (needed when +i)"),
    ("/modlog #ROOM", "the last 50 moderation actions of a room"),
    ("/kill NAME [REASON]", "server operators: disconnect NAME"),
    (
        "/kline MASK [DURATION] [REASON]",
        "server operators: ban from the server; /unkline MASK, /klines",
    ),
    ("/help", "show this help"),
    ("//TEXT", "send a line that starts with '/'"),
)


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


def parse_input(line: str) -> Command | Chat | None:
    """
    Read one line a logged-in user typed.

    @return: The command, the chat text, or L{None} for a blank line (which
        is ignored).
    @raise chatwire.errors.InvalidText: If the line holds control
        characters.
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


def split_room(args: str) -> tuple[str | None, str]:
    """
    Split command arguments into a room named first, if any, and the rest.

    @return: C{(room, rest)}: C{room} is L{None} when the arguments do not
        start with C{#}.
    """
    first, rest = split_first(args)
    if first.startswith("#"):
        return first, rest
    return None, args.strip()
