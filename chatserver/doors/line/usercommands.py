"""
What a logged-in user of the line door can do: chat lines and the commands
C{/join}, C{/part}, C{/rooms}, C{/who}, C{/where}, C{/topic}, C{/history},
C{/search}, C{/msg}, C{/sessions}, C{/read},
C{/me}, C{/nick}, C{/quit} and C{/help}; the account commands
(L{chatserver.doors.line.accounts}) and the moderation commands
(L{chatserver.doors.line.modcommands}).

Each command reads its arguments, calls the chat core, and answers with
server lines; the core checks every rule and says why it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from chatserver.core.search import SEARCH_USAGE, parse_search
from chatserver.doors.line import accounts, modcommands
from chatserver.history.store import MAX_PAGE
from chatserver.limits.numbers import parse_count
from chatwire import lines
from chatwire.commands import (
    HELP,
    Chat,
    parse_input,
    split_first,
    split_room,
)
from chatwire.errors import ChatError, InvalidName, InvalidText, NameTaken

if TYPE_CHECKING:
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser
    from chatserver.doors.line.protocol import ChatProtocol


DEFAULT_HISTORY_PAGE = 20

# Refusals worth a line in the log (the console shows them).
_LOGGED = (InvalidName, InvalidText, NameTaken)


def serve(connection: ChatProtocol, user: ChatUser, text: str) -> None:
    """
    Do what a logged-in user typed: say a chat line, or run a command.
    """
    try:
        parsed = parse_input(text)
        if parsed is None:
            return
        if isinstance(parsed, Chat):
            user.say(parsed.text)
            return
        command = COMMANDS.get(parsed.name)
        if command is None:
            connection.send(lines.Error(f"unknown command /{parsed.name}, try /help"))
            return
        command(connection, user, parsed.args)
    except ChatError as e:
        if isinstance(e, _LOGGED):
            connection.reject(e.reason)
        else:
            connection.send(lines.Error(e.reason))


def _mark(
    connection: ChatProtocol, user: ChatUser, room: Room, line: lines.Plain
) -> lines.Event:
    return connection.codec.mark(user.rooms, room, line)


def command_help(connection: ChatProtocol, user: ChatUser | None, args: str) -> None:
    width = max(len(usage) for usage, _ in HELP)
    connection.send(
        *(lines.Info(f"{usage:<{width}}  {meaning}") for usage, meaning in HELP)
    )


def command_quit(connection: ChatProtocol, user: ChatUser | None, args: str) -> None:
    reason = f"Quit: {args}" if args else "Quit"
    connection.close(reason, lines.Info("Goodbye!"))


def command_who(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, _ = split_room(args)
    if room is None and user.current is None:
        everyone = [u.name for u in user.realm.everyone()]
        connection.send(lines.UserList(tuple(everyone)))
        return
    where, _ = user.who(room)
    # Operators are shown @NAME, voiced members +NAME.
    names = user.roleNames(where)
    connection.send(_mark(connection, user, where, lines.UserList(names)))


def command_where(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    # Always marked, even when the only room is the default room: a program
    # learns the name of the room its unmarked lines are about.
    connection.send(
        *(lines.InRoom(room.name, lines.UserList(room.names())) for room in user.rooms)
    )


def command_me(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    if not args:
        connection.send(lines.Error("usage: /me ACTION"))
        return
    user.act(args)


def command_msg(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    target, text = split_first(args)
    if not target or not text:
        connection.send(lines.Error("usage: /msg NAME TEXT"))
        return
    recipient = user.whisper(target, text)
    connection.send(lines.PrivateOut(recipient.name, text))


def command_read(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    first, rest = split_first(args)
    target: str | None = first or None
    number = rest
    if first and not rest and parse_count(first) is not None:
        target, number = None, first
    id = parse_count(number) if number else None
    if number and id is None:
        connection.send(lines.Error("usage: /read [#ROOM|NAME] [ID]"))
        return
    user.markRead(target, id=id).addErrback(_refused, connection)


def command_sessions(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    verb, number = split_first(args)
    if not verb:
        connection.send(*(lines.Info(info.describe()) for info in user.sessionList()))
        return
    if verb.lower() != "end" or not number:
        connection.send(lines.Error("usage: /sessions, or /sessions end N"))
        return
    info = user.endSession(number)
    if not info.this:
        connection.send(lines.Info(f"ended {info.describe()}"))


def command_nick(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    new = args.strip()
    if not new:
        connection.send(lines.Error("usage: /nick NAME"))
        return
    user.rename(new).addErrback(_refused, connection)


def _refused(reason: Failure, connection: ChatProtocol) -> None:
    """
    Tell the user why what it asked for, which had to wait, was refused.
    """
    reason.trap(ChatError)
    assert isinstance(reason.value, ChatError)
    connection.send(lines.Error(reason.value.reason))


def command_join(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    name, key = split_first(args)
    if not name or " " in key:
        connection.send(lines.Error("usage: /join #ROOM [KEY]"))
        return
    room, new = user.join(name, key)
    if not new:
        connection.send(
            _mark(
                connection,
                user,
                room,
                lines.Info(f"{room.name} is your current room now"),
            )
        )
        return
    replies: list[lines.Event] = []
    if room.topic:
        replies.append(
            _mark(connection, user, room, lines.TopicIs(room.topic, room.topicSetter))
        )
    replies.append(_mark(connection, user, room, lines.UserList(room.names())))
    connection.send(*replies)
    user.replay(room)


def command_part(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, reason = split_room(args)
    before = user.current
    user.part(room, reason)
    if user.current is not before:
        if user.current is None:
            connection.send(lines.Info("you are in no room now: /join one to talk"))
        else:
            connection.send(lines.Info(f"{user.current.name} is your current room now"))


def command_rooms(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    rooms = user.listRooms()
    connection.send(
        lines.RoomsHeader(len(rooms)),
        *(lines.RoomEntry(info.name, info.members, info.topic) for info in rooms),
    )


def command_topic(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, text = split_room(args)
    if not text:
        where = user.room(room)
        connection.send(
            _mark(
                connection, user, where, lines.TopicIs(where.topic, where.topicSetter)
            )
        )
        return
    user.setTopic(text, room)


def command_history(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    room, rest = split_room(args)
    limit = parse_count(rest, 1, MAX_PAGE) if rest else DEFAULT_HISTORY_PAGE
    if limit is None:
        connection.send(
            lines.Error(f"usage: /history [#ROOM] [N], N from 1 to {MAX_PAGE}")
        )
        return
    fetched = user.olderHistory(room, limit)

    def failed(reason: Failure) -> None:
        # The core has logged it.
        if not connection.closing:
            connection.send(
                lines.Error("history cannot be read right now, try again later")
            )

    fetched.addErrback(failed)


def command_search(connection: ChatProtocol, user: ChatUser, args: str) -> None:
    if not args:
        searching = user.searchMore()
    else:
        request = parse_search(args)
        if not request.words:
            connection.send(lines.Error(f"usage: /search {SEARCH_USAGE}"))
            return
        searching = user.search(
            request.words,
            room=request.room,
            sender=request.sender,
            before=request.before,
            after=request.after,
        )
    searching.addErrback(_refused, connection)


COMMANDS: dict[str, Callable[[ChatProtocol, Any, str], None]] = {
    "help": command_help,
    "quit": command_quit,
    "who": command_who,
    "where": command_where,
    "me": command_me,
    "msg": command_msg,
    "nick": command_nick,
    "sessions": command_sessions,
    "read": command_read,
    "join": command_join,
    "part": command_part,
    "rooms": command_rooms,
    "topic": command_topic,
    "history": command_history,
    "search": command_search,
    **accounts.COMMANDS,
    **modcommands.COMMANDS,
}
