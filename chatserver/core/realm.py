"""
The chat: one realm (twisted.cred's word) that every door logs its users
into, holding who is online, the rooms, the history store and the fan-out.

Every door logs in through a L{Portal} over this realm: with C{--auth} the
portal's checkers want a password, without it L{chatserver.auth.checkers}
takes any valid name.  The realm gives each login a L{ChatUser} avatar bound
to the door's mind, and puts it in the default room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from twisted.cred.portal import IRealm
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.config import ChatConfig
from chatserver.core.errors import NameTaken, NoSuchUser, TooManyRooms
from chatserver.core.events import ChatEvent, Joined, Parted, Quit, Renamed
from chatserver.core.fanout import Fanout, Mind
from chatserver.core.names import check_name, check_room_name, name_key, room_key
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser, IChatUser
from chatserver.history.memory import MemoryHistory
from chatserver.history.store import HistoryEntry, HistoryStore

log = Logger(namespace=LOG_NAMESPACE)


@implementer(IRealm)
class ChatRealm:
    """
    The chat itself.

    @ivar config: The server's settings.
    @ivar history: Where rooms' history is kept.
    @ivar fanout: Where every event goes out.
    @ivar rooms: The rooms by key.
    @ivar accounts: Whether names are accounts (with C{--auth}): then a
        user may change only the case of their name.
    @ivar shuttingDown: Set while the server stops: users leave without
        notices.

    @param clock: The reactor's clock (a L{twisted.internet.task.Clock} in
        tests).
    @param coalesce: Whether output is coalesced per reactor turn (see
        L{chatserver.core.fanout}).
    """

    def __init__(
        self,
        config: ChatConfig | None = None,
        history: HistoryStore | None = None,
        clock: IReactorTime | None = None,
        coalesce: bool = True,
        accounts: bool = False,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.config = config if config is not None else ChatConfig()
        self.clock = clock
        if history is None:
            history = MemoryHistory(
                self.config.historyMax, self.config.historyKeep, clock=clock
            )
        self.history = history
        self.fanout = Fanout(clock if coalesce else None)
        self.accounts = accounts
        self.shuttingDown = False
        # The ids of the first and last lines this process kept.
        self.firstKeptId: int | None = None
        self.lastKeptId: int | None = None
        self._users: dict[str, ChatUser] = {}
        self.rooms: dict[str, Room] = {}

    def now(self) -> float:
        return self.clock.seconds()

    # cred

    def requestAvatar(
        self, avatarId: bytes | str | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, ChatUser, Callable[[], None]]:
        """
        Log the user a checker vouched for in, bound to C{mind}.

        @raise NameTaken: If somebody online has that name.
        """
        if IChatUser not in interfaces:
            raise NotImplementedError("the chat realm only makes chat users")
        # Checkers give bytes, but twisted's memory: checker gives str.
        if isinstance(avatarId, bytes):
            name = avatarId.decode("utf-8")
        elif isinstance(avatarId, str):
            name = avatarId
        else:
            raise NotImplementedError("the chat has no anonymous users")
        user = self.login(name, cast(Mind, mind))
        return IChatUser, user, lambda: user.quit("Logged out")

    # Users

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self._users

    def get(self, name: str) -> ChatUser | None:
        """
        @return: The user called C{name} in any case, or L{None}.
        """
        return self._users.get(name_key(name))

    def users(self) -> Iterable[ChatUser]:
        """
        @return: Everyone online.
        """
        return self._users.values()

    def login(self, name: str, mind: Mind) -> ChatUser:
        """
        Log C{name} in, bound to C{mind}, and put it in the default room,
        unless the mind has C{joinsDefaultRoom} false (an IRC client joins
        its channels itself).

        @raise NameTaken: If somebody online has that name.
        """
        check_name(name)
        key = name_key(name)
        if key in self._users:
            raise NameTaken(name)
        user = ChatUser(self, name, mind, self.now())
        self._users[user.key] = user
        log.info(
            "{name} logged in from {peer}",
            chat_event="login",
            name=name,
            peer=mind.peer,
        )
        if not getattr(mind, "joinsDefaultRoom", True):
            return user
        # The newcomer's door greets it; the room hears of it.
        room = self.enter(user, self.config.defaultRoom, announceToSelf=False)
        user.current = room
        return user

    def logout(self, user: ChatUser, reason: str) -> None:
        """
        C{user} leaves the chat, for C{reason}; each user who shared a room
        with it is told once.
        """
        if not user.online or self._users.get(user.key) is not user:
            return
        user.online = False
        del self._users[user.key]
        audience = self._audience(user)
        audience.discard(user)
        for room in user.rooms:
            room.remove(user)
            self._forgetIfEmpty(room)
        user.rooms = ()
        user.current = None
        self.fanout.left(user)
        log.info(
            "{name} left ({reason})",
            chat_event="leave",
            name=user.name,
            peer=user.mind.peer,
            reason=reason,
        )
        if audience and not self.shuttingDown:
            self.fanout.toUsers(audience, Quit(user.name, reason))

    def rename(self, user: ChatUser, new: str) -> str:
        """
        Call C{user} C{new}; a change of case only keeps its key.

        @return: The old name.
        @raise NameTaken: If somebody else has C{new}.
        """
        newKey = name_key(new)
        holder = self._users.get(newKey)
        if holder is not None and holder is not user:
            raise NameTaken(new)
        old, oldKey = user.name, user.key
        del self._users[oldKey]
        user.name, user.key = new, newKey
        self._users[newKey] = user
        for room in user.rooms:
            room.renamed(user, oldKey)
        log.info(
            "{old} is now known as {new}",
            chat_event="rename",
            old=old,
            new=new,
            peer=user.mind.peer,
        )
        audience = self._audience(user)
        audience.add(user)
        self.fanout.toUsers(audience, Renamed(old, new))
        return old

    def _audience(self, user: ChatUser) -> set[ChatUser]:
        """
        @return: Everyone who shares a room with C{user}.
        """
        audience: set[ChatUser] = set()
        for room in user.rooms:
            audience.update(room.members.values())
        return audience

    def kick(self, name: str, reason: str = "") -> None:
        """
        Disconnect the user called C{name} on the operator's behalf.

        @raise NoSuchUser: If nobody online has that name.
        """
        user = self.get(name)
        if user is None:
            raise NoSuchUser(name)
        user.mind.disconnect(reason)

    # Rooms

    def getRoom(self, name: str) -> Room | None:
        """
        @return: The room called C{name} in any case, or L{None}.
        """
        return self.rooms.get(room_key(name))

    def enter(self, user: ChatUser, name: str, announceToSelf: bool = True) -> Room:
        """
        Put C{user} in the room called C{name}, creating it if needed, and
        tell the room.

        @raise TooManyRooms: If the user or the server has as many rooms as
            allowed.
        """
        room = self.getRoom(name)
        if room is None:
            check_room_name(name)
            isDefault = room_key(name) == room_key(self.config.defaultRoom)
            if len(self.rooms) >= self.config.maxRooms and not isDefault:
                raise TooManyRooms(
                    f"the server has {self.config.maxRooms} rooms already, "
                    "join one of them"
                )
        if len(user.rooms) >= self.config.maxRoomsPerUser:
            raise TooManyRooms(
                f"you are in {self.config.maxRoomsPerUser} rooms already, "
                "/part one first"
            )
        if room is None:
            room = self.rooms[room_key(name)] = Room(name, self.now())
        room.add(user)
        user.joined(room)
        self.fanout.joined(user, room)
        log.info(
            "{name} joined {room}",
            chat_event="join",
            name=user.name,
            room=room.name,
        )
        self.tell(room, Joined(room.name, user.name), None if announceToSelf else user)
        return room

    def leave(self, user: ChatUser, room: Room, notice: Parted) -> None:
        """
        Take C{user} out of C{room}; the room, C{user} included, is told.
        """
        self.tell(room, notice)
        room.remove(user)
        user.parted(room)
        self.fanout.parted(user, room)
        log.info(
            "{name} left {room} ({reason})",
            chat_event="part",
            name=user.name,
            room=room.name,
            reason=notice.reason,
        )
        self._forgetIfEmpty(room)

    def _forgetIfEmpty(self, room: Room) -> None:
        if not room.members and self.rooms.get(room.key) is room:
            del self.rooms[room.key]

    def tell(
        self, room: Room, event: ChatEvent, exclude: ChatUser | None = None
    ) -> None:
        """
        Send C{event} to the members of C{room} but C{exclude}.
        """
        self.fanout.toRoom(room, event, exclude)

    def keep(self, room: Room, kind: str, sender: str, text: str) -> HistoryEntry:
        """
        Keep a line of C{room} in its history.
        """
        entry = self.history.append(
            room.key,
            room=room.name,
            kind=kind,
            sender=sender,
            text=text,
            time=self.now(),
        )
        if self.firstKeptId is None:
            self.firstKeptId = entry.id
        self.lastKeptId = entry.id
        return entry

    def keptBefore(self, mark: int | None) -> Callable[[HistoryEntry], bool]:
        """
        @param mark: L{lastKeptId} as it was when a history query began.
        @return: Whether an entry was kept before that query began: a query
            of a store that writes in the background may also see lines
            kept while it ran, which its reader gets live.
        """
        if mark is not None:
            return lambda entry: entry.id <= mark
        # Nothing was kept by this process when the query began: whatever it
        # kept since is newer than what the query was for.
        return lambda entry: self.firstKeptId is None or entry.id < self.firstKeptId

    def logMessage(self, user: ChatUser, to: str, text: str) -> None:
        """
        Log what C{user} said to C{to} (a room or a user), with
        C{--log-messages} only.
        """
        if self.config.logMessages:
            log.info(
                "{to} <{name}> {text}"
                if to.startswith("#")
                else "<{name} -> {to}> {text}",
                chat_event="message",
                name=user.name,
                to=to,
                text=text,
            )
