"""
A room: its members, its topic, and its name.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from chatwire.names import room_key

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser


class Room:
    """
    A room of the chat: the users in it, in the order they joined, and the
    topic.  The realm creates a room when its first member joins and forgets
    it when its last member leaves; its history stays in the history store.

    In a cluster a room also has members on other nodes: they count and are
    listed, but only the members logged in here are sent its events.

    @ivar name: The room's name as first written (C{#Dev}).
    @ivar key: The name's key (L{room_key}), unique among rooms.
    @ivar members: The members logged in on this node by name key, in the
        order they joined: one session of each account (the fan-out
        delivers to all of its L{ChatUser.sessions}).
    @ivar remote: The names of the members logged in on other nodes, by
        name key.
    @ivar topic: The topic; empty when none is set.
    @ivar topicSetter: Who set the topic.
    @ivar topicTime: When the topic was set, in POSIX seconds.
    """

    __slots__ = (
        "_sortedKeys",
        "_sortedNames",
        "createdAt",
        "key",
        "members",
        "name",
        "remote",
        "topic",
        "topicSetter",
        "topicTime",
    )

    def __init__(self, name: str, createdAt: float = 0.0) -> None:
        self.name = name
        self.key = room_key(name)
        self.createdAt = createdAt
        self.members: dict[str, ChatUser] = {}
        self.remote: dict[str, str] = {}
        self.topic = ""
        self.topicSetter = ""
        self.topicTime = 0.0
        # The members' keys in order and their names in the same order, kept
        # sorted as members come and go: every login lists the default room,
        # so sorting it each time would cost O(n log n) per login.
        self._sortedKeys: list[str] = []
        self._sortedNames: list[str] = []

    def __repr__(self) -> str:
        return f"<Room {self.name} ({len(self.members)} members)>"

    def __len__(self) -> int:
        return len(self.members) + len(self.remote)

    def __contains__(self, user: object) -> bool:
        key = getattr(user, "key", None)
        member = self.members.get(key) if key is not None else None
        # Any session of a member's account is in the room.
        return member is not None and member.sessions is getattr(user, "sessions", None)

    def names(self) -> tuple[str, ...]:
        """
        @return: The members' names, sorted without regard to case.
        """
        return tuple(self._sortedNames)

    def add(self, user: ChatUser) -> None:
        """
        Make C{user} a member.
        """
        self.members[user.key] = user
        self._listed(user.key, user.name)

    def remove(self, user: ChatUser) -> None:
        """
        Make C{user} (any session of its account) a member no more.
        """
        if user not in self:
            return
        del self.members[user.key]
        self._unlisted(user.key)

    def addRemote(self, key: str, name: str) -> None:
        """
        Make C{name}, logged in on another node, a member.
        """
        if key in self.remote or key in self.members:
            return
        self.remote[key] = name
        self._listed(key, name)

    def removeRemote(self, key: str) -> None:
        """
        Make the member called C{key} on another node a member no more.
        """
        if self.remote.pop(key, None) is not None:
            self._unlisted(key)

    def _listed(self, key: str, name: str) -> None:
        where = bisect_left(self._sortedKeys, key)
        self._sortedKeys.insert(where, key)
        self._sortedNames.insert(where, name)

    def _unlisted(self, key: str) -> None:
        where = bisect_left(self._sortedKeys, key)
        del self._sortedKeys[where]
        del self._sortedNames[where]

    def renamed(self, user: ChatUser, oldKey: str) -> None:
        """
        C{user}, a member, was known by C{oldKey} and is now called
        C{user.name}.
        """
        del self.members[oldKey]
        self.members[user.key] = user
        self._unlisted(oldKey)
        self._listed(user.key, user.name)

    def replaced(self, old: ChatUser, new: ChatUser) -> None:
        """
        Make C{new} the member that stands for its account in place of
        C{old}, another of its sessions (which ended), keeping its place.
        """
        if self.members.get(old.key) is old:
            self.members[old.key] = new

    def renamedRemote(self, oldKey: str, key: str, name: str) -> None:
        """
        The member known as C{oldKey} on another node is now called C{name}.
        """
        if self.remote.pop(oldKey, None) is not None:
            self._unlisted(oldKey)
            self.addRemote(key, name)
