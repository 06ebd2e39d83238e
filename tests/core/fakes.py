"""
A door of the tests' own, with no wire format: its minds keep the events
they receive as data.  It proves that the core serves any door, and lets the
core be tested without a line of any protocol.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Hashable
from typing import Any, TypeVar

from twisted.cred.portal import Portal
from twisted.internet.defer import Deferred, fail
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver.auth.checkers import ChosenName
from chatserver.core.events import ChatEvent
from chatserver.core.minds import IMind
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser, IChatUser
from chatserver.history.memory import MemoryHistory
from chatserver.history.store import HistoryEntry

_T = TypeVar("_T")


class PickleCodec:
    """
    Encodes events with pickle, one form for everyone: the door is about
    data, not text.
    """

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return None

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        data = pickle.dumps(event)
        return len(data).to_bytes(4, "big") + data


@implementer(IMind)
class RecordingMind:
    """
    One session of the test door: it decodes what it is sent back into
    events.

    @param clock: The chat's clock, advanced to end the turn before the
        events are read (see L{chatserver.testing}).
    """

    codec = PickleCodec()
    door = ""
    ident = ""
    realname = ""
    echoes = False
    joinsDefaultRoom = True
    lastActive = 0.0
    closing = False

    def __init__(self, clock: Clock | None = None, peer: str = "test door") -> None:
        self.clock = clock
        self.peer = peer
        self.received: list[ChatEvent] = []
        self.disconnected: list[str] = []

    def deliver(self, data: bytes) -> None:
        while data:
            size = int.from_bytes(data[:4], "big")
            self.received.append(pickle.loads(data[4 : 4 + size]))
            data = data[4 + size :]

    def disconnect(self, reason: str) -> None:
        self.disconnected.append(reason)

    def events(self) -> list[ChatEvent]:
        """
        The events received since the last call, once the turn has ended.
        """
        if self.clock is not None:
            self.clock.advance(0)
        events, self.received = self.received, []
        return events


def log_in(portal: Portal, name: str) -> tuple[ChatUser, RecordingMind]:
    """
    Log C{name} in through C{portal}, as every door does.
    """
    mind = RecordingMind(portal.realm.clock)  # type: ignore[attr-defined]
    result: list[object] = []
    portal.login(ChosenName(name), mind, IChatUser).addCallback(
        lambda login: result.append(login[1])
    )
    (user,) = result
    assert isinstance(user, ChatUser)
    return user, mind


class SlowHistory(MemoryHistory):
    """
    History in memory whose queries answer only when told to, as a store on
    disk answers after its thread has read the file; and which, like such a
    store, sees lines kept while the query waited.
    """

    def __init__(self) -> None:
        super().__init__(clock=Clock())
        self.waiting: list[tuple[Deferred[list[HistoryEntry]], tuple[Any, ...]]] = []

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        answer: Deferred[list[HistoryEntry]] = Deferred()
        self.waiting.append((answer, (roomKey, limit, before, after)))
        return answer

    def answer(self) -> None:
        """
        Answer every query waiting, with what the store holds now.
        """
        waiting, self.waiting = self.waiting, []
        for answer, args in waiting:
            super().query(*args).chainDeferred(answer)


class UnreadableHistory(MemoryHistory):
    """
    History in memory whose reading fails, as a store on a failing disk.
    """

    def __init__(self) -> None:
        super().__init__(clock=Clock())

    def query(
        self,
        roomKey: str,
        limit: int,
        before: int | None = None,
        after: int | None = None,
    ) -> Deferred[list[HistoryEntry]]:
        return fail(OSError("disk I/O error"))


def outcome(deferred: Deferred[_T]) -> _T:
    """
    @return: What C{deferred}, which has fired, fired with.
    @raise Exception: What it failed with.
    """
    results: list[_T | Failure] = []
    deferred.addBoth(results.append)
    assert results, f"{deferred!r} has not fired"
    result = results[0]
    if isinstance(result, Failure):
        result.raiseException()
    return result
