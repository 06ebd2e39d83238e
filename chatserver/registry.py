"""
Who is here, and who gets what: the one registry a server's connections
share.

The registry knows users only as L{Participant}s, so it is tested with plain
objects and knows nothing of sockets or bytes beyond handing each recipient
the encoded line.
"""

from __future__ import annotations

from typing import Protocol

from chatserver.lines import Event, encode
from chatserver.names import name_key


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
    """

    def __init__(self) -> None:
        self._users: dict[str, Participant] = {}

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
        return tuple(sorted((p.name for p in self._users.values()), key=name_key))

    def add(self, participant: Participant) -> None:
        """
        Register C{participant} under its name.

        @raise NameTaken: If somebody has that name already.
        """
        key = name_key(participant.name)
        if key in self._users:
            raise NameTaken(participant.name)
        self._users[key] = participant

    def remove(self, participant: Participant) -> None:
        """
        Forget C{participant}; its name is free again at once.
        """
        key = name_key(participant.name)
        if self._users.get(key) is participant:
            del self._users[key]

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

    def broadcast(self, event: Event, exclude: Participant | None = None) -> None:
        """
        Deliver C{event} to everyone online but C{exclude}, encoding it once.
        """
        data = encode(event)
        # A snapshot: a delivery may make a recipient leave.
        for participant in tuple(self._users.values()):
            if participant is not exclude:
                participant.deliver(data)

    def sendTo(self, participant: Participant, event: Event) -> None:
        """
        Deliver C{event} to C{participant} alone.
        """
        participant.deliver(encode(event))
