"""
The commands of a registered IRC client, each turned into a chat core call
(L{chatserver.core.users.ChatUser}) and its refusals into IRC numerics
(L{refusals.refuse}).  Each is called by the command table
(L{chatserver.doors.irc.table}) with the parameters it needs there.
The door keeps no chat rules: whether a name, a room, a text or a topic is
allowed is the core's to say.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import uuid4

from twisted.internet import defer
from twisted.python.failure import Failure

from chatserver.core.remote import RemoteUser
from chatserver.core.wildcard import Mask, MaskTooLong, compile_mask
from chatserver.doors.irc import caps, message, moderation, numerics, welcome
from chatserver.doors.irc.codec import MAX_LINE, split_text
from chatserver.doors.irc.masks import (
    Someone,
    door_of,
    ident_of,
    realname_of,
    who_matches,
)
from chatserver.doors.irc.refusals import refuse
from chatserver.limits.numbers import parse_count
from chatwire.errors import ChatError, NoSuchRoom, NoSuchUser, NotInRoom
from chatwire.text import clean_tags

if TYPE_CHECKING:
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

Command = Callable[["IrcProtocol", "ChatUser", "Message"], None]

# mIRC formatting: bold, colours (with their numbers), hex colours, italics,
# monospace, reverse, strike-through, underline, reset.  The chat's text
# has no place for them (they are control characters), so they are taken
# out of what IRC users say.
_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?"
    r"|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
    r"|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)


def strip_formatting(text: str) -> str:
    return _FORMATTING.sub("", text)


_items = message.items


# Rooms


def join(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    if msg.params[0] == "0":
        for room in list(user.rooms):
            user.part(room.name)
        return
    keys = moderation.join_keys(msg)
    for index, name in enumerate(msg.params[0].split(",")):
        if not name:
            continue
        key = keys[index] if index < len(keys) else ""
        try:
            room, new = user.join(name, key)
        except ChatError as e:
            refuse(connection, "JOIN", name, e)
            continue
        if new:
            welcome.show_room(connection, room, user)
            welcome.replay(connection, user, room)


def part(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    reason = strip_formatting(msg.params[1]) if len(msg.params) > 1 else ""
    for name in _items(msg.params[0]):
        try:
            user.part(name, reason)
        except ChatError as e:
            refuse(connection, "PART", name, e)


def topic(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    name = msg.params[0]
    if len(msg.params) == 1:
        room = connection.server.realm.getRoom(name)
        if room is None:
            refuse(connection, "TOPIC", name, NoSuchRoom(name))
        elif room not in user.rooms:
            refuse(connection, "TOPIC", room.name, NotInRoom(room.name))
        else:
            welcome.topic(connection, room)
        return
    try:
        user.setTopic(strip_formatting(msg.params[1]), name)
    except ChatError as e:
        refuse(connection, "TOPIC", name, e)


def names(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{NAMES}, C{NAMES #a,#b}: the members of the rooms the user may see (a
    secret room it is not in is answered as one that does not exist).
    """
    realm = connection.server.realm

    def seen(name: str) -> Room | None:
        room = realm.getRoom(name)
        return room if room is not None and user.seesRoom(room) else None

    if not msg.params or not msg.params[0]:
        # Every room one may see, then one 366 (RFC 1459 4.2.5).
        for each in sorted(realm.rooms.values(), key=lambda r: r.key):
            if user.seesRoom(each):
                welcome.names(connection, each, end=False)
        connection.reply(numerics.RPL_ENDOFNAMES, "*", "End of /NAMES list.")
        return
    wanted = _items(msg.params[0])
    if not wanted:
        return
    if len(wanted) == 1:
        room = seen(wanted[0])
        if room is None:
            connection.reply(numerics.RPL_ENDOFNAMES, wanted[0], "End of /NAMES list.")
        else:
            welcome.names(connection, room)
        return
    # Several channels: their 353s, then one 366 naming the list as asked
    # (RFC 2812 3.2.5, Modern).
    for name in wanted:
        room = seen(name)
        if room is not None:
            welcome.names(connection, room, end=False)
    connection.reply(numerics.RPL_ENDOFNAMES, ",".join(wanted), "End of /NAMES list.")


def list_(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{LIST}, C{LIST #a,#b}, and the ELIST=MNU filters: C{LIST #d*} (rooms
    whose name matches), C{LIST !#d*} (whose name does not), C{LIST >n}
    and C{LIST <n} (more or fewer than n users); filters combine.
    """
    realm = connection.server.realm
    wanted: set[str] | None = None
    matching: list[Mask] = []
    excluded: list[Mask] = []
    fewer: int | None = None
    more: int | None = None
    for item in _items(msg.params[0]) if msg.params else ():
        if item[:1] in ("<", ">"):
            count = parse_count(item[1:])
            if count is None:
                connection.fail(
                    "LIST", "INVALID_PARAMS", item, "Invalid number of users"
                )
                return
            if item[0] == "<":
                fewer = count
            else:
                more = count
            continue
        if (item[:1] == "!" and item[1:]) or "*" in item or "?" in item:
            negated = item[:1] == "!"
            try:
                mask = compile_mask(item[1:] if negated else item)
            except MaskTooLong as e:
                refuse(connection, "LIST", item, e)
                return
            (excluded if negated else matching).append(mask)
        else:
            room = realm.getRoom(item)
            wanted = wanted if wanted is not None else set()
            if room is not None:
                wanted.add(room.key)
    connection.reply(numerics.RPL_LISTSTART, "Channel", "Users  Name")
    for info in user.listRooms():
        room = realm.getRoom(info.name)
        if wanted is not None and (room is None or room.key not in wanted):
            continue
        if matching and not any(m.matches(info.name) for m in matching):
            continue
        if any(m.matches(info.name) for m in excluded):
            continue
        if fewer is not None and info.members >= fewer:
            continue
        if more is not None and info.members <= more:
            continue
        connection.reply(numerics.RPL_LIST, info.name, str(info.members), info.topic)
    connection.reply(numerics.RPL_LISTEND, "End of /LIST")


# Messages


def privmsg(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    _talk(connection, user, msg, notice=False)


def notice(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    _talk(connection, user, msg, notice=True)


def tagmsg(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    A message of client-only tags (C{+typing}): it reaches the IRC users of
    its target who have C{message-tags} (the other doors have no place for
    it), and is echoed with C{echo-message}; nothing of it is kept.
    """
    if not msg.params or not msg.params[0]:
        connection.reply(numerics.ERR_NORECIPIENT, "No recipient given (TAGMSG)")
        return
    if caps.MESSAGE_TAGS not in connection.caps:
        return  # only a client with message-tags may send tags
    tags = dict(clean_tags(tuple(msg.tags.items())))
    # The echo and every relay share one msgid; it names nothing kept.
    tags["msgid"] = "t" + uuid4().hex
    realm = connection.server.realm
    prefix = connection.ircFactory.mask(user.name)
    for target in _items(msg.params[0]):
        audience: list[ChatUser]
        if target.startswith("#"):
            room = realm.getRoom(target)
            if room is None:
                refuse(connection, "TAGMSG", target, NoSuchRoom(target))
                continue
            if room not in user.rooms:
                refuse(connection, "TAGMSG", room.name, NotInRoom(room.name))
                continue
            shown = room.name
            audience = [m for m in room.members.values() if m is not user]
        else:
            found = realm.lookup(target)
            if found is None:
                refuse(connection, "TAGMSG", target, NoSuchUser(target))
                continue
            shown = found.name
            # Tags stay within a node: a user of another node is not sent them.
            # One's own nick gets them, as a PRIVMSG to oneself.
            local = realm.get(target)
            audience = [local] if local is not None else []
        if caps.ECHO_MESSAGE in connection.caps:
            connection.send(_tagmsg(connection, tags, prefix, shown))
        for member in audience:
            mind = member.mind
            if isinstance(mind, type(connection)) and caps.MESSAGE_TAGS in mind.caps:
                mind.send(_tagmsg(mind, tags, prefix, shown))


def _tagmsg(
    connection: IrcProtocol, tags: dict[str, str], prefix: str, target: str
) -> bytes:
    return message.encode(
        "TAGMSG",
        target,
        prefix=prefix,
        tags={**connection.codec.tags(), **tags},
    )


def _talk(connection: IrcProtocol, user: ChatUser, msg: Message, notice: bool) -> None:
    command = "NOTICE" if notice else "PRIVMSG"
    if not msg.params or not msg.params[0]:
        if not notice:
            connection.reply(
                numerics.ERR_NORECIPIENT, f"No recipient given ({command})"
            )
        return
    if len(msg.params) < 2 or not msg.params[1]:
        if not notice:
            connection.reply(numerics.ERR_NOTEXTTOSEND, "No text to send")
        return
    text = msg.params[1]
    action = False
    if text.startswith("\x01"):
        inner = text[1:].removesuffix("\x01")
        verb, _, rest = inner.partition(" ")
        if verb.upper() != "ACTION" or not rest.strip():
            return  # other CTCP requests have no place in the chat
        action, text = True, rest
    text = strip_formatting(text)
    connection.lastActive = connection.clock.seconds()
    # Client-only tags (+draft/reply, ...) travel with the message to the
    # IRC users with message-tags; the server's own tags are not taken.
    tags = tuple(sorted((k, v) for k, v in msg.tags.items() if k.startswith("+")))
    mask = connection.ircFactory.mask(user.name)
    for target in _items(msg.params[0]):
        said = _one_line(mask, command, target, text, action=action)
        try:
            if target.startswith("#"):
                # With echo-message the core sends the line back too.
                if action:
                    user.act(said, target, tags)
                else:
                    user.say(said, target, notice, tags)
            else:
                recipient = user.whisper(target, said, notice, action, tags)
                if recipient.away and not notice:
                    connection.reply(numerics.RPL_AWAY, recipient.name, recipient.away)
        except ChatError as e:
            if not notice:
                refuse(connection, command, target, e)


def _one_line(mask: str, command: str, target: str, text: str, *, action: bool) -> str:
    """
    @return: C{text} cut, between characters, to what one line relayed to
        C{target} under the sender's C{mask} holds, as IRC servers do: an IRC
        client's message is one line to every IRC reader, never split
        (only the other doors' longer lines are), and every door sees the
        same text as the echo shows.
    """
    overhead = len(f":{mask} {command} {target} :\r\n".encode())
    if action:
        overhead += len("\x01ACTION \x01")
    return next(split_text(text, MAX_LINE - overhead))


# Users


def rename(connection: IrcProtocol, user: ChatUser, new: str) -> None:
    def refused(reason: Failure) -> None:
        reason.trap(ChatError)
        error = reason.value
        assert isinstance(error, ChatError)
        refuse(connection, "NICK", new, error)

    def renamed(old: str) -> None:
        connection.nick = user.name

    defer.maybeDeferred(user.rename, new).addCallbacks(renamed, refused)


def sessions(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{SESSIONS} lists the account's sessions, C{SESSIONS END N} ends one
    (as the line door's C{/sessions}), in NOTICEs from the server.
    """
    words = [word.upper() for word in msg.params[:1]] + list(msg.params[1:2])
    try:
        if not words:
            said = [info.describe() for info in user.sessionList()]
        elif words[0] == "END" and len(words) == 2:
            said = [f"ended {user.endSession(words[1]).describe()}"]
        else:
            connection.fail("SESSIONS", "INVALID_PARAMS", "Usage: SESSIONS [END N]")
            return
    except ChatError as e:
        connection.fail("SESSIONS", "INVALID_PARAMS", e.reason)
        return
    for text in said:
        connection.send(
            message.encode(
                "NOTICE", connection.target, text, prefix=connection.serverName
            )
        )


def away(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    reason = strip_formatting(msg.params[0]) if msg.params else ""
    try:
        user.setAway(reason)
    except ChatError as e:
        refuse(connection, "AWAY", user.name, e)
        return
    if user.away:
        connection.reply(numerics.RPL_NOWAWAY, "You have been marked as being away")
    else:
        connection.reply(numerics.RPL_UNAWAY, "You are no longer marked as being away")


def _who_line(
    connection: IrcProtocol, where: str, member: Someone, mark: str = ""
) -> None:
    # "*" marks a server operator (RFC 2812 4.2).
    operator = "*" if _is_server_operator(member) else ""
    flags = ("G" if member.away else "H") + operator + mark
    connection.reply(
        numerics.RPL_WHOREPLY,
        where,
        ident_of(member),
        door_of(member),
        connection.serverName,
        member.name,
        flags,
        f"0 {realname_of(member)}",
    )


def _is_server_operator(member: Someone) -> bool:
    # A user of another node is not known to be one: no cluster shares it.
    return bool(getattr(member, "serverOperator", False))


def who(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{WHO #room}, C{WHO nick}, C{WHO mask} (C{*} and C{?} against nick,
    user, host, full mask and real name; every user is visible), C{WHO},
    C{WHO *} or C{WHO 0} (everyone).  C{WHO mask o} lists only the server
    operators among them.
    """
    mask = msg.params[0] if msg.params and msg.params[0] else "*"
    operators = len(msg.params) > 1 and "o" in msg.params[1]
    realm = connection.server.realm
    if mask.startswith("#"):
        room = realm.getRoom(mask)
        if room is not None and user.seesRoom(room):
            members: list[Someone] = [*room.members.values()]
            members.extend(
                realm.remote[key] for key in room.remote if key in realm.remote
            )
            marks = welcome.member_marks(connection, room)
            for member in members:
                if operators and not _is_server_operator(member):
                    continue
                _who_line(connection, room.name, member, marks.get(member.name, ""))
    else:
        found = realm.lookup(mask) if "*" not in mask and "?" not in mask else None
        matched: list[Someone]
        if found is not None:
            matched = [found]
        else:
            try:
                compiled = compile_mask("*" if mask == "0" else mask)
            except MaskTooLong as e:
                refuse(connection, "WHO", mask, e)
                return
            matched = [
                other for other in realm.everyone() if who_matches(compiled, other)
            ]
        for other in matched:
            if operators and not _is_server_operator(other):
                continue
            # Not about a channel: no channel is named (Modern allows "*").
            _who_line(connection, "*", other)
    connection.reply(numerics.RPL_ENDOFWHO, mask, "End of /WHO list.")


def whois(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    if not msg.params or not msg.params[-1]:
        connection.reply(numerics.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    wanted = msg.params[-1]
    for name in _items(wanted):
        realm = connection.server.realm
        found = realm.lookup(name)
        if found is None:
            refuse(connection, "WHOIS", name, NoSuchUser(name))
            continue
        if isinstance(found, RemoteUser):
            rooms = [realm.rooms[key] for key in found.rooms if key in realm.rooms]
            # Idle time is known of this node's users only.
            active = found.since
        else:
            rooms, active = list(found.rooms), found.mind.lastActive or found.since
        # A secret room is named only to who may see it.
        rooms = [room for room in rooms if user.seesRoom(room)]
        connection.reply(
            numerics.RPL_WHOISUSER,
            found.name,
            ident_of(found),
            door_of(found),
            "*",
            realname_of(found),
        )
        if rooms:
            connection.reply(
                numerics.RPL_WHOISCHANNELS,
                found.name,
                " ".join(
                    user.memberRoles(room).get(found.name, "") + room.name
                    for room in rooms
                ),
            )
        connection.reply(
            numerics.RPL_WHOISSERVER,
            found.name,
            connection.serverName,
            f"connected through the {door_of(found)} door",
        )
        if _is_server_operator(found):
            connection.reply(
                numerics.RPL_WHOISOPERATOR, found.name, "is an IRC operator"
            )
        if found.away:
            connection.reply(numerics.RPL_AWAY, found.name, found.away)
        if connection.server.passwords:
            # With --auth every name is an account, logged in.
            connection.reply(
                numerics.RPL_WHOISACCOUNT, found.name, found.name, "is logged in as"
            )
        idle = max(0, int(connection.clock.seconds() - active))
        connection.reply(
            numerics.RPL_WHOISIDLE,
            found.name,
            str(idle),
            str(int(found.since)),
            "seconds idle, signon time",
        )
    connection.reply(numerics.RPL_ENDOFWHOIS, wanted, "End of /WHOIS list.")


def userhost(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    found = []
    for name in msg.params[:5]:
        other = connection.server.realm.lookup(name)
        if other is not None:
            sign = "-" if other.away else "+"
            found.append(f"{other.name}={sign}{ident_of(other)}@{door_of(other)}")
    connection.reply(numerics.RPL_USERHOST, " ".join(found))


def ison(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    realm = connection.server.realm
    online = []
    for param in msg.params:
        for name in param.split():
            other = realm.lookup(name)
            if other is not None:
                online.append(other.name)
    connection.reply(numerics.RPL_ISON, " ".join(online))


def mode(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    target = msg.params[0]
    realm = connection.server.realm
    if target.startswith("#"):
        room = realm.getRoom(target)
        if room is None:
            refuse(connection, "MODE", target, NoSuchRoom(target))
            return
        moderation.room_mode(connection, user, room, msg.params[1:])
        return
    other = realm.lookup(target)
    if other is None:
        refuse(connection, "MODE", target, NoSuchUser(target))
        return
    if other is not user:
        connection.reply(
            numerics.ERR_USERSDONTMATCH, "Can't change mode for other users"
        )
        return
    if len(msg.params) == 1:
        modes = connection.modes | ({"o"} if user.serverOperator else set())
        connection.reply(numerics.RPL_UMODEIS, "+" + "".join(sorted(modes)))
        return
    changes = msg.params[1]
    adding = True
    changed = ""
    for char in changes:
        if char in "+-":
            adding = char == "+"
        elif char == "i":
            if adding != (char in connection.modes):
                connection.modes = (
                    connection.modes | {char} if adding else connection.modes - {char}
                )
                changed += ("+" if adding else "-") + char
        elif char == "o":
            continue  # +o is OPER's; an operator stays one for its session
        else:
            connection.reply(numerics.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
            return
    if changed:
        connection.send(
            message.encode(
                "MODE", user.name, changed, prefix=connection.ircFactory.mask(user.name)
            )
        )


# The server


def motd(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    welcome.motd(connection)


def time_(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    """
    C{TIME}: the server's time in UTC, for people to read (391, RFC 2812
    3.4.6).
    """
    now = time.gmtime(connection.clock.seconds())
    connection.reply(
        numerics.RPL_TIME,
        connection.serverName,
        time.strftime("%A %B %d %Y -- %H:%M:%S +00:00", now),
    )


def lusers(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    count = len(connection.server.realm)
    connection.reply(
        numerics.RPL_LUSERCLIENT,
        f"There are {count} users and 0 invisible on 1 servers",
    )
