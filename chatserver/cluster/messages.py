"""
What the nodes of a cluster tell each other, typed: one frozen dataclass
per kind of message, with its fields to and from a Redis stream entry.

The presence stream (L{keys.PRESENCE}) carries what changes who is where
(L{Login}, L{Logout}, L{Lost}, L{Join}, L{Part}, L{Rename}, L{Away},
L{Topic}, and an account's L{SessionBegun} and L{SessionEnded}), written by
the Lua scripts of L{chatserver.cluster.scripts}; a node's inbox
(L{keys.inbox}) carries what is sent to that node alone (L{Whisper},
L{Kick}, L{EndSession}, L{ReadMoved}, L{Wake}), written by the node that sends it.

An entry's field C{t} names its kind; each dataclass field is one entry
field, named and coded as the field's metadata says (L{wire}), so that
L{to_fields} and L{from_fields} are written once for every kind.  A
L{Dispatcher} reads an entry and calls the handler of its kind, as
Synapse's replication commands are each handled by one method.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import field
from typing import Any, ClassVar, Generic, TypeVar

from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.core.events import Tags
from chatserver.core.remote import RemoteSession

log = Logger(namespace=LOG_NAMESPACE)

_V = TypeVar("_V")


class MalformedMessage(ValueError):
    """
    A stream entry that is no message of its kind: a field is missing, or
    does not read as its codec wants.
    """


class UnknownKind(ValueError):
    """
    A stream entry of a kind this node does not know (a newer node's).
    """


class Codec(Generic[_V]):
    """
    How one field's value reads in a stream entry.

    @ivar encode: The value as the entry holds it.
    @ivar decode: The value an entry holds; raises L{ValueError},
        L{TypeError} or L{KeyError} when it is not one.
    """

    def __init__(
        self, encode: Callable[[_V], str], decode: Callable[[str], _V]
    ) -> None:
        self.encode = encode
        self.decode = decode


def _text(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"not text: {value!r}")
    return value


def _json_list(text: str) -> list[Any]:
    value = json.loads(text)
    # Lua's cjson writes an empty table as an object.
    if value == {}:
        return []
    if not isinstance(value, list):
        raise TypeError(f"not a list: {text!r}")
    return value


def _decode_keys(text: str) -> tuple[str, ...]:
    return tuple(_text(key) for key in _json_list(text))


def _decode_pairs(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for pair in _json_list(text):
        first, second = pair
        pairs.append((_text(first), _text(second)))
    return tuple(pairs)


def _encode_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([list(pair) for pair in pairs])


TEXT: Codec[str] = Codec(str, _text)
NUMBER: Codec[float] = Codec(repr, float)
COUNT: Codec[int] = Codec(str, int)
FLAG: Codec[bool] = Codec(lambda flag: "1" if flag else "0", lambda text: text == "1")
KEYS: Codec[tuple[str, ...]] = Codec(lambda keys: json.dumps(list(keys)), _decode_keys)
PAIRS: Codec[tuple[tuple[str, str], ...]] = Codec(_encode_pairs, _decode_pairs)
TAGS: Codec[Tags] = Codec(_encode_pairs, lambda text: _decode_pairs(text or "[]"))


@dataclasses.dataclass(frozen=True)
class UserInfo:
    """
    A user as its node describes it to the others (the C{users} hash of
    the cluster, and the C{u} field of a login or a rename).

    @ivar name: The user's name.
    @ivar node: The node it is logged in on.
    @ivar since: When it logged in, in POSIX seconds.
    @ivar away: Why it is away; empty when here.
    @ivar session: Its login's session id, the same on every node (a rename
        and a line name their user by it); empty in a claim.
    @ivar door: The door it came through.
    @ivar ident: What an IRC user gave as its user name, or empty.
    @ivar realname: What an IRC user gave as its real name, or empty.
    @ivar account: The account it logged in to, or empty for a guest.
    """

    name: str
    node: str
    since: float
    away: str = ""
    session: str = ""
    door: str = ""
    ident: str = ""
    realname: str = ""
    account: str = ""

    def toJSON(self) -> str:
        """
        @return: This user as the cluster keeps it.
        """
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def fromJSON(cls, text: str) -> UserInfo:
        """
        @return: The user C{text} (from L{toJSON}, or a script) describes.
        @raise ValueError: If it describes none.
        @raise TypeError: If a field has the wrong type.
        """
        info = json.loads(text)
        if not isinstance(info, dict):
            raise TypeError(f"not a user: {text!r}")
        since = info["since"]
        if isinstance(since, bool) or not isinstance(since, int | float):
            raise TypeError(f"not a time: {since!r}")
        words = {
            each.name: _text(info.get(each.name, ""))
            for each in dataclasses.fields(cls)
            if each.name not in ("name", "node", "since")
        }
        return cls(_text(info["name"]), _text(info["node"]), float(since), **words)

    def details(self) -> dict[str, object]:
        """
        @return: This user as L{chatserver.core.remote.RemoteUser.fromInfo}
            reads it.
        """
        return dataclasses.asdict(self)


USER: Codec[UserInfo] = Codec(UserInfo.toJSON, UserInfo.fromJSON)


def session_json(session: RemoteSession) -> str:
    """
    @return: C{session} as the cluster keeps it (C{user:U:sessions}).
    """
    return json.dumps(dataclasses.asdict(session))


def session_from_json(text: str) -> RemoteSession:
    """
    @return: The session C{text} (from L{session_json}) describes.
    @raise ValueError: If it describes none.
    @raise TypeError: If a field has the wrong type.
    """
    info = json.loads(text)
    if not isinstance(info, dict):
        raise TypeError(f"not a session: {text!r}")
    since = info["since"]
    if isinstance(since, bool) or not isinstance(since, int | float):
        raise TypeError(f"not a time: {since!r}")
    return RemoteSession(
        _text(info["node"]), _text(info["door"]), _text(info["peer"]), float(since)
    )


SESSION: Codec[RemoteSession] = Codec(session_json, session_from_json)


@dataclasses.dataclass(frozen=True)
class RoomInfo:
    """
    A room as the cluster keeps it (the C{rooms} hash, written by the
    scripts).

    @ivar name: The room's name.
    @ivar topic: Its topic, or empty.
    @ivar setter: Who set the topic, or empty.
    @ivar time: When the topic was set, in POSIX seconds (0 if never).
    """

    name: str
    topic: str = ""
    setter: str = ""
    time: float = 0.0

    def toJSON(self) -> str:
        """
        @return: This room as the cluster keeps it.
        """
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def fromJSON(cls, text: str) -> RoomInfo:
        """
        @return: The room C{text} describes.
        @raise ValueError: If it describes none.
        @raise TypeError: If a field has the wrong type.
        """
        info = json.loads(text)
        if not isinstance(info, dict):
            raise TypeError(f"not a room: {text!r}")
        time = info.get("time", 0)
        if isinstance(time, bool) or not isinstance(time, int | float):
            raise TypeError(f"not a time: {time!r}")
        return cls(
            _text(info["name"]),
            _text(info.get("topic", "")),
            _text(info.get("setter", "")),
            float(time),
        )


def wire(name: str, codec: Codec[Any] = TEXT) -> dict[str, Any]:
    """
    @return: The metadata of a message's field called C{name} in its stream
        entry and coded by C{codec}.
    """
    return {"wire": name, "codec": codec}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message:
    """
    A message of one kind (C{KIND}, the entry's field C{t}).
    """

    KIND: ClassVar[str] = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Presence(Message):
    """
    A change of who is where, told by the node that made it.

    @ivar node: The node that made the change.
    """

    node: str = field(metadata=wire("node"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Login(Presence):
    """
    A user logged in on C{node}.
    """

    KIND = "login"
    key: str = field(metadata=wire("k"))
    user: UserInfo = field(metadata=wire("u", USER))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Logout(Presence):
    """
    A user of C{node} left the chat, from its rooms (C{rooms}, their keys).
    """

    KIND = "logout"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"), default="")
    reason: str = field(metadata=wire("reason"), default="Quit")
    rooms: tuple[str, ...] = field(metadata=wire("rooms", KEYS), default=())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lost(Presence):
    """
    A user of C{node} left when the node was taken for dead.
    """

    KIND = "lost"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"), default="")
    rooms: tuple[str, ...] = field(metadata=wire("rooms", KEYS), default=())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Join(Presence):
    """
    A user of C{node} joined the room C{room} (a key) called C{roomName}.
    """

    KIND = "join"
    room: str = field(metadata=wire("room"))
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"), default="")
    roomName: str = field(metadata=wire("rn"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Part(Presence):
    """
    A user of C{node} left the room C{room}.
    """

    KIND = "part"
    room: str = field(metadata=wire("room"))
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"), default="")
    reason: str = field(metadata=wire("reason"), default="Part")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rename(Presence):
    """
    A user of C{node} changed its name; C{user} (the user as it is now,
    with its session) and C{rooms} (pairs of key and name) let a node that
    no longer knows the old name know the new one.
    """

    KIND = "rename"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"), default="")
    newKey: str = field(metadata=wire("nk"))
    newName: str = field(metadata=wire("nn"))
    user: UserInfo | None = field(metadata=wire("u", USER), default=None)
    rooms: tuple[tuple[str, str], ...] = field(
        metadata=wire("rooms", PAIRS), default=()
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Away(Presence):
    """
    A user of C{node} set (or cleared, empty) its away message.
    """

    KIND = "away"
    key: str = field(metadata=wire("k"))
    away: str = field(metadata=wire("away"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionBegun(Presence):
    """
    A session (C{session}, its id) of the account whose name's key is
    C{key} began on C{node}: C{info}.  Every session of an account is told,
    its first included, whichever node it is on.
    """

    KIND = "session"
    key: str = field(metadata=wire("k"))
    session: str = field(metadata=wire("s"))
    info: RemoteSession = field(metadata=wire("i", SESSION))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionEnded(Presence):
    """
    The session C{session} of the account C{key} on C{node} ended, and the
    account stays online: C{owner} is the node its entry names now.
    """

    KIND = "unsession"
    key: str = field(metadata=wire("k"))
    session: str = field(metadata=wire("s"))
    owner: str = field(metadata=wire("owner"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Topic(Presence):
    """
    Somebody on C{node} set the topic of the room C{room}.
    """

    KIND = "topic"
    room: str = field(metadata=wire("room"))
    topic: str = field(metadata=wire("topic"))
    setter: str = field(metadata=wire("setter"))
    time: float = field(metadata=wire("time", NUMBER))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Whisper(Message):
    """
    A private line for the user C{to} (a key) of the node whose inbox it
    is in.
    """

    KIND = "whisper"
    to: str = field(metadata=wire("to"))
    sender: str = field(metadata=wire("from"))
    text: str = field(metadata=wire("x"))
    time: float = field(metadata=wire("time", NUMBER))
    notice: bool = field(metadata=wire("n", FLAG), default=False)
    action: bool = field(metadata=wire("a", FLAG), default=False)
    tags: Tags = field(metadata=wire("g", TAGS), default=())
    msgid: str = field(metadata=wire("m"), default="")
    recipient: str = field(metadata=wire("r"), default="")
    echo: bool = field(metadata=wire("e", FLAG), default=False)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Kick(Message):
    """
    The operator disconnects the user C{to} of the node whose inbox it is
    in.
    """

    KIND = "kick"
    to: str = field(metadata=wire("to"))
    reason: str = field(metadata=wire("reason"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EndSession(Message):
    """
    Another session of the account C{to} ends its session C{session}
    (C{/sessions end N}), of the node whose inbox it is in.
    """

    KIND = "endsession"
    to: str = field(metadata=wire("to"))
    session: str = field(metadata=wire("s"))
    reason: str = field(metadata=wire("reason"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReadMoved(Message):
    """
    The read marker of the account C{to} in C{target} (a room's or a
    private conversation's key, shown as C{shown}) moved to the time
    C{stamp} (milliseconds since the epoch), after the line C{id} (C{0}
    for none), with C{unread} lines after it: its sessions on the node
    whose inbox it is in are told.
    """

    KIND = "marked"
    to: str = field(metadata=wire("to"))
    target: str = field(metadata=wire("target"))
    shown: str = field(metadata=wire("shown"))
    id: int = field(metadata=wire("id", COUNT))
    stamp: int = field(metadata=wire("ms", COUNT))
    unread: int = field(metadata=wire("unread", COUNT))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Wake(Message):
    """
    Nothing but a new read: the node follows a new room.
    """

    KIND = "wake"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Moderated(Presence):
    """
    A moderation change made on C{node}, which every other node applies to
    its L{chatserver.core.moderation.state.Moderation} and tells its
    members of (the state itself is kept in Redis by the node that made
    the change: L{chatserver.cluster.moderation}).

    @ivar room: The room's key (C{""} for a kline).
    @ivar roomName: The room's name as its members see it.
    @ivar actor: Who made the change.
    """

    room: str = field(metadata=wire("room"))
    roomName: str = field(metadata=wire("rn"), default="")
    actor: str = field(metadata=wire("by"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class BanSet(Moderated):
    """
    C{actor} set a ban, a mute or a kline: C{ban} (its JSON,
    L{chatserver.core.moderation.records.Ban.toJSON}).
    """

    KIND = "ban"
    ban: str = field(metadata=wire("ban"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class BanLifted(Moderated):
    """
    C{actor} lifted the ban of C{kind} (C{ban}, C{mute}, C{kline}) on
    C{mask}.
    """

    KIND = "unban"
    kind: str = field(metadata=wire("kind"))
    mask: str = field(metadata=wire("mask"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoleSet(Moderated):
    """
    C{actor} gave (or took, unless C{given}) C{role} (C{o}, C{v}) to the
    member C{name}, whose name's key is C{key}; C{actor} is empty when the
    member made the room.
    """

    KIND = "role"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"))
    role: str = field(metadata=wire("role"))
    given: bool = field(metadata=wire("given", FLAG))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModesSet(Moderated):
    """
    C{actor} changed the room's modes to C{modes} (JSON), by C{changes}
    (C{+mk-i}) with C{arguments}.
    """

    KIND = "modes"
    modes: str = field(metadata=wire("modes"))
    changes: str = field(metadata=wire("ch"))
    arguments: tuple[str, ...] = field(metadata=wire("args", KEYS), default=())


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoomKick(Moderated):
    """
    C{actor} put the member C{name} (key C{key}) out of the room, for
    C{reason}: its node takes it out, every node tells its members.
    """

    KIND = "roomkick"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"))
    reason: str = field(metadata=wire("reason"), default="")


@dataclasses.dataclass(frozen=True, kw_only=True)
class InviteSent(Moderated):
    """
    C{actor} invited C{name} (key C{key}) to the room: it may join once.
    """

    KIND = "invite"
    key: str = field(metadata=wire("k"))
    name: str = field(metadata=wire("n"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Logged(Moderated):
    """
    An entry of the room's moderation log (C{/modlog}): C{entry} as JSON
    (L{chatserver.core.moderation.records.LogEntry}).
    """

    KIND = "modlog"
    entry: str = field(metadata=wire("entry"))


MODERATION: tuple[type[Moderated], ...] = (
    BanSet,
    BanLifted,
    RoleSet,
    ModesSet,
    RoomKick,
    InviteSent,
    Logged,
)
"""
The moderation kinds of the presence stream.
"""

PRESENCE: tuple[type[Presence], ...] = (
    Login,
    Logout,
    Lost,
    Join,
    Part,
    Rename,
    Away,
    Topic,
    SessionBegun,
    SessionEnded,
    *MODERATION,
)
"""
The kinds of the presence stream.
"""

INBOX: tuple[type[Message], ...] = (Whisper, Kick, EndSession, ReadMoved, Wake)
"""
The kinds of a node's inbox.
"""


def to_fields(message: Message) -> dict[str, str]:
    """
    @return: C{message} as a stream entry's fields, its kind (C{t}) first;
        a field whose value is L{None} is left out.
    """
    fields = {"t": message.KIND}
    for each in dataclasses.fields(message):
        value = getattr(message, each.name)
        if value is not None:
            fields[each.metadata["wire"]] = each.metadata["codec"].encode(value)
    return fields


_M = TypeVar("_M", bound=Message)


def from_fields(fields: Mapping[str, str], kinds: tuple[type[_M], ...]) -> _M:
    """
    @param fields: A stream entry's fields.
    @param kinds: The kinds the stream carries.
    @return: The message the entry holds.
    @raise UnknownKind: If its kind is none of C{kinds}.
    @raise MalformedMessage: If it is no message of its kind.
    """
    kind = fields.get("t", "")
    for cls in kinds:
        if kind == cls.KIND:
            break
    else:
        raise UnknownKind(kind)
    values: dict[str, Any] = {}
    try:
        for each in dataclasses.fields(cls):
            name = each.metadata["wire"]
            if name in fields:
                values[each.name] = each.metadata["codec"].decode(fields[name])
            elif (
                each.default is dataclasses.MISSING
                and each.default_factory is dataclasses.MISSING
            ):
                raise MalformedMessage(f"{kind} without {name}")
    except (ValueError, TypeError, KeyError) as e:
        raise MalformedMessage(f"{kind}: {e}") from e
    return cls(**values)


class Dispatcher(Generic[_M]):
    """
    Read stream entries into messages, and give each to its kind's
    handler; an unknown kind is logged once and skipped, and so is the
    first malformed entry of each kind.

    @param stream: What the stream is, for the log.
    @param handlers: The handler of each kind.
    """

    def __init__(
        self, stream: str, handlers: Mapping[type[_M], Callable[[Any], object]]
    ) -> None:
        self.stream = stream
        self._handlers = dict(handlers)
        self._kinds = tuple(handlers)
        self._logged: set[tuple[str, str]] = set()

    def dispatch(self, fields: Mapping[str, str]) -> None:
        """
        Handle the stream entry C{fields}.
        """
        try:
            message = from_fields(fields, self._kinds)
        except UnknownKind as e:
            self._once("unknown", fields, e)
            return
        except MalformedMessage as e:
            self._once("malformed", fields, e)
            return
        self._handlers[type(message)](message)

    def _once(self, problem: str, fields: Mapping[str, str], error: Exception) -> None:
        kind = str(fields.get("t", ""))
        if (problem, kind) in self._logged:
            return
        self._logged.add((problem, kind))
        log.warn(
            "A {problem} {stream} message, skipped ({why}): later ones of its"
            " kind are skipped silently",
            problem=problem,
            stream=self.stream,
            why=str(error) or repr(kind),
            chat_event="cluster",
        )
