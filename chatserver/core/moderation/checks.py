"""
The checks moderation makes before a join, a line and a topic, what
member lists show of roles, and which rooms a user may see (C{+s}): the
part of L{ModerationActions} the rest of the core calls (mixed into
L{chatserver.core.users.ChatUser}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.core.moderation.errors import (
    BadKey,
    BannedFromRoom,
    CannotSpeak,
    InviteOnly,
    NotRoomOperator,
    RoomFull,
)
from chatserver.core.moderation.masks import Who
from chatserver.core.moderation.records import BAN, MUTE, Ban
from chatserver.core.moderation.roles import OPERATOR, VOICE, prefix
from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.core.realm import ChatRealm
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser


def who_of(user: ChatUser) -> Who:
    """
    @return: What masks are matched against for C{user}.
    """
    mind = user.mind
    return Who(user.name, getattr(mind, "ident", ""), getattr(mind, "host", ""))


class ModerationChecks:
    """
    What moderation checks of a user (see the module's documentation).

    @ivar serverOperator: Whether this user is a server operator
        (C{/oper}, or C{--operator} at login).
    """

    __slots__ = ("serverOperator",)

    serverOperator: bool
    realm: ChatRealm
    name: str
    key: str
    rooms: tuple[Room, ...]
    sessions: list[ChatUser]

    def _user(self) -> ChatUser:
        return self  # type: ignore[return-value]

    def _banned(self, roomKey: str, kind: str) -> Ban | None:
        """
        @return: The ban (or mute, or kline: C{kind}) of the room whose key
            is C{roomKey} (C{""} for the server) that matches any session
            of this user's account, or L{None}: one that matches a session
            applies to the account.
        """
        matching = self.realm.moderation.matching
        for session in self._user().sessions:
            found = matching(roomKey, kind, who_of(session))
            if found is not None:
                return found
        return None

    def isRoomOperator(self, room: Room | str) -> bool:
        """
        @return: Whether this user may moderate C{room} (a room or its
            key): an operator of it, or a server operator.
        """
        roomKey = room if isinstance(room, str) else room.key
        return self.serverOperator or OPERATOR in self.realm.moderation.roles(
            roomKey, self.key
        )

    def checkJoin(self, roomKey: str, roomName: str, key: str, members: int) -> None:
        """
        See that this user may join the room whose key is C{roomKey} (which
        has C{members} members now) with C{key}: it is not banned, invited
        if the room is invite-only, with the key if it has one, and the
        room is not full.  A server operator always may.
        """
        if self.serverOperator:
            return
        moderation = self.realm.moderation
        state = moderation.rooms.get(roomKey)
        if state is None:
            return
        if self._banned(roomKey, BAN) is not None:
            raise BannedFromRoom(roomName)
        invited = self.key in state.invited
        modes = state.modes
        if modes.inviteOnly and not invited:
            raise InviteOnly(roomName)
        if modes.key and key != modes.key and not invited:
            raise BadKey(roomName)
        if modes.limit and members >= modes.limit and not invited:
            raise RoomFull(roomName, modes.limit)

    def acceptsFromOutside(self, room: Room) -> bool:
        """
        @return: Whether this user may say lines to C{room} without being
            in it: the room is C{-n}.
        """
        state = self.realm.moderation.rooms.get(room.key)
        return state is not None and not state.modes.noExternal

    def isSecret(self, room: Room) -> bool:
        """
        @return: Whether C{room} is secret (C{+s}).
        """
        state = self.realm.moderation.rooms.get(room.key)
        return state is not None and state.modes.secret

    def seesRoom(self, room: Room) -> bool:
        """
        @return: Whether this user may see C{room} in room lists, its
            members and the rooms of a user: it is not secret (C{+s}), or
            this user is in it or a server operator.
        """
        return not self.isSecret(room) or room in self.rooms or self.serverOperator

    def checkSpeak(self, room: Room) -> None:
        """
        See that this user may speak in C{room}: not banned, not muted
        unless voiced (a role overrides a mute, as on InspIRCd and Ergo),
        and voiced if the room is moderated.  Its operators always may.

        @raise CannotSpeak: If it may not.
        """
        moderation = self.realm.moderation
        state = moderation.rooms.get(room.key)
        if state is None or self.serverOperator:
            return
        roles = state.roles.get(self.key, "")
        if OPERATOR in roles:
            return
        if self._banned(room.key, BAN) is not None:
            raise CannotSpeak(room.name, "you are banned from it")
        if VOICE not in roles and self._banned(room.key, MUTE) is not None:
            raise CannotSpeak(room.name, "you are muted")
        if state.modes.moderated and VOICE not in roles:
            raise CannotSpeak(room.name, "it is moderated (+m): only voice speaks")

    def checkTopic(self, room: Room) -> None:
        """
        See that this user may set C{room}'s topic: an operator's, if it is
        C{+t}; nobody banned or muted may.
        """
        state = self.realm.moderation.rooms.get(room.key)
        if state is None:
            return
        if state.modes.topicLocked and not self.isRoomOperator(room):
            raise NotRoomOperator(room.name, "set its topic (+t)")
        self.checkSpeak(room)

    # Member lists

    def memberRoles(self, room: Room) -> dict[str, str]:
        """
        @return: The members of C{room} with a role, by name, each with the
            prefix of its highest role (C{@}, C{+}).
        """
        state = self.realm.moderation.rooms.get(room.key)
        if state is None:
            return {}
        shown: dict[str, str] = {}
        for member in room.names():
            mark = prefix(state.roles.get(name_key(member), ""))
            if mark:
                shown[member] = mark
        return shown

    def roleNames(self, room: Room) -> tuple[str, ...]:
        """
        @return: The names of C{room}'s members, sorted as L{Room.names},
            each with the prefix of its role (C{@alice}, C{+bob}).
        """
        roles = self.realm.moderation.rooms.get(room.key)
        if roles is None or not roles.roles:
            return room.names()
        return tuple(
            prefix(roles.roles.get(name_key(member), "")) + member
            for member in room.names()
        )
