"""
Where moderation state is kept between restarts: the interface
L{IModerationStore}, and L{MemoryModerationStore}, which keeps it for the
life of the process.

The state is a set of records, each a C{(kind, scope, key)} and a JSON
value:

    kind    scope      key          value
    ban     room key   mask key     a Ban as JSON
    mute    room key   mask key     a Ban as JSON
    kline   ""         mask key     a Ban as JSON
    modes   room key   ""           RoomModes as JSON
    role    room key   name key     the role letters ("o", "v", "ov")
    log     room key   time/number  a LogEntry as JSON (the last 50 a room)

The chat keeps the whole state in memory and reads the store once, at
start (L{IModerationStore.loadModeration}); each change is written behind
(L{IModerationStore.putModeration}, L{IModerationStore.deleteModeration}),
in order, never waited for, but for the end of a ban
(L{IModerationStore.expireModeration}), which tells whether this call
ended it: in a cluster every node ends it on its own clock, and one logs
it.  The SQLite history store is one
(L{chatserver.history.sqlite.SQLiteHistory}); the cluster's is
L{chatserver.cluster.moderation.RedisModeration}.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet import defer
from zope.interface import Interface, implementer


@dataclass(frozen=True, slots=True)
class StateRecord:
    """
    One kept piece of moderation state (see the module's documentation).
    """

    kind: str
    scope: str
    key: str
    value: str


class IModerationStore(Interface):
    """
    Keeps moderation state across restarts.
    """

    def loadModeration() -> defer.Deferred[list[StateRecord]]:
        """
        @return: A L{defer.Deferred} firing with every record kept.
        """

    def putModeration(record: StateRecord) -> None:
        """
        Keep C{record}, replacing the one of the same kind, scope and key.
        """

    def deleteModeration(kind: str, scope: str, key: str) -> None:
        """
        Forget the record of that kind, scope and key, if there is one.
        """

    def expireModeration(record: StateRecord) -> defer.Deferred[bool]:
        """
        Forget C{record} (a ban that ended by itself) if it is still the
        one kept under its kind, scope and key.

        @return: A L{defer.Deferred} firing with whether this call forgot
            it (in a cluster, exactly one node's does).
        """


@implementer(IModerationStore)
class MemoryModerationStore:
    """
    Keeps moderation state in memory: it lasts as long as the process.
    """

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], StateRecord] = {}

    def loadModeration(self) -> defer.Deferred[list[StateRecord]]:
        return defer.succeed(list(self.records.values()))

    def putModeration(self, record: StateRecord) -> None:
        self.records[record.kind, record.scope, record.key] = record

    def deleteModeration(self, kind: str, scope: str, key: str) -> None:
        self.records.pop((kind, scope, key), None)

    def expireModeration(self, record: StateRecord) -> defer.Deferred[bool]:
        where = (record.kind, record.scope, record.key)
        if self.records.get(where) != record:
            return defer.succeed(False)
        del self.records[where]
        return defer.succeed(True)
