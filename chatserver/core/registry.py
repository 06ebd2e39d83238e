"""
Who is here, and who gets what: the one registry a server's connections
share.

The registry knows users only as L{Participant}s, so it is tested with plain
objects and knows nothing of sockets or bytes beyond handing each recipient
the encoded line.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Protocol

from twisted.internet.interfaces import IReactorTime

from chatserver.core.names import name_key
from chatserver.core.outbox import Outbox, Sink
from chatserver.doors.line.lines import Event, encode


class Participant(Protocol):
    """
    A logged-in user, as the registry sees it.
    """

    @property
    def name(self) -> str:
        """
        The user's current name.
        """

    def deliver(self, data: bytes) -> None:
        """
        Send C{data}, one or more encoded server lines, to this user.
        """


class NameTaken(ValueError):
    """
    Somebody online already has that name (compared by L{name_key}).
    """


class Registry:
    """
    The users online, indexed by L{name_key}: look-ups, joins, leaves and
    renames are O(1), and every broadcast encodes its line once.

    Output goes through an L{Outbox}: with a C{clock}, everything sent
    during one reactor turn reaches each recipient in one delivery at the
    end of the turn; without one, at once.
    """

    def __init__(self, clock: IReactorTime | None = None) -> None:
        self._users: dict[str, Participant] = {}
        # The keys in order and the names in the same order, for names().
        self._sortedKeys: list[str] = []
        self._sortedNames: list[str] = []
        self._outbox = Outbox(self._users.values, self._isMember, clock)

    def _isMember(self, sink: Sink) -> bool:
        name = getattr(sink, "name", "")
        return bool(name) and self._users.get(name_key(name)) is sink

    def _sort(self, key: str, name: str) -> None:
        where = bisect_left(self._sortedKeys, key)
        self._sortedKeys.insert(where, key)
        self._sortedNames.insert(where, name)

    def _unsort(self, key: str) -> None:
        where = bisect_left(self._sortedKeys, key)
        del self._sortedKeys[where]
        del self._sortedNames[where]

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self._users

    def get(self, name: str) -> Participant | None:
        """
        @return: The user called C{name} in any case, or L{None}.
        """
        return self._users.get(name_key(name))

    def names(self) -> tuple[str, ...]:
        """
        @return: The names of everyone online, sorted without regard to case.
        """
        return tuple(self._sortedNames)

    def add(self, participant: Participant) -> None:
        """
        Register C{participant} under its name.

        @raise NameTaken: If somebody has that name already.
        """
        key = name_key(participant.name)
        if key in self._users:
            raise NameTaken(participant.name)
        self._users[key] = participant
        self._sort(key, participant.name)
        self._outbox.joined(participant)

    def remove(self, participant: Participant) -> None:
        """
        Forget C{participant}; its name is free again at once.
        """
        key = name_key(participant.name)
        if self._users.get(key) is participant:
            del self._users[key]
            self._unsort(key)
            self._outbox.left(participant)

    def rename(self, participant: Participant, old: str, new: str) -> None:
        """
        Move C{participant} from name C{old} to name C{new}.

        A change of case only (C{alice} to C{Alice}) is allowed: the key
        stays the same.

        @raise NameTaken: If somebody else has C{new} already.
        """
        oldKey, newKey = name_key(old), name_key(new)
        holder = self._users.get(newKey)
        if holder is not None and holder is not participant:
            raise NameTaken(new)
        del self._users[oldKey]
        self._users[newKey] = participant
        self._unsort(oldKey)
        self._sort(newKey, new)

    def broadcast(self, event: Event, exclude: Participant | None = None) -> None:
        """
        Deliver C{event} to everyone online but C{exclude}, encoding it once.
        """
        self._outbox.broadcast(encode(event), exclude)

    def sendTo(self, participant: Participant, event: Event) -> None:
        """
        Deliver C{event} to C{participant} alone (who need not be online:
        a connection that has not chosen a name yet is fine), in order with
        the broadcasts it gets.
        """
        self._outbox.send(participant, encode(event))

    def flush(self, participant: Sink | None = None) -> None:
        """
        Deliver what waits for the end of the turn now: to C{participant}
        only (before its connection closes), or to everyone.
        """
        if participant is None:
            self._outbox.flush()
        else:
            self._outbox.flushOne(participant)
