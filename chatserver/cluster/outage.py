"""
The room lines a node sent to Redis and has not yet seen kept there: while
Redis cannot be reached, local users go on chatting within the node, their
lines told here at once and kept, and sent when Redis is back, where the
C{line} script keeps each line once even if it is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.internet import defer
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.cluster.messages import TAGS
from chatserver.core.events import Tags
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser
from chatserver.history.store import HistoryEntry
from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode

log = Logger(namespace=LOG_NAMESPACE)

MAX_KEPT = 10000
"""
The most lines kept while Redis cannot be reached; past that the oldest
are dropped (and the drop logged).
"""


@dataclass
class SentLine:
    """
    A room line sent to Redis and not yet acknowledged.
    """

    seq: int
    roomKey: str
    room: str
    kind: str
    sender: str
    user: ChatUser
    session: str
    text: str
    notice: bool
    tags: Tags
    time: float


class OutageBuffer:
    """
    This run's lines not yet known to be in Redis, by their line number.

    @param node: The node whose lines they are.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self._seq = 0
        self._unacked: dict[int, SentLine] = {}
        # The lines told to this node's members while Redis was away: they
        # are skipped when they come back.
        self._toldHere: set[int] = set()
        self._dropped = 0

    def publish(
        self,
        room: Room,
        kind: str,
        sender: ChatUser,
        session: str,
        text: str,
        *,
        notice: bool,
        tags: Tags,
    ) -> None:
        """
        Send a line of C{room} to Redis, or tell it here and keep it if
        Redis is away.
        """
        node = self.node
        self._seq += 1
        line = SentLine(
            self._seq,
            room.key,
            room.name,
            kind,
            sender.name,
            sender,
            session,
            text,
            notice,
            tags,
            node.realm.now(),
        )
        if len(self._unacked) >= MAX_KEPT:
            oldest = min(self._unacked)
            del self._unacked[oldest]
            self._toldHere.discard(oldest)
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                log.warn(
                    "{count} lines kept while Redis was away were dropped",
                    count=self._dropped,
                    chat_event="cluster",
                )
        self._unacked[line.seq] = line
        if node.ready:
            self._push(line)
        else:
            self._tellHere(line)

    def resend(self) -> None:
        """
        Send again every line not known to be kept (Redis is back).
        """
        for line in sorted(self._unacked.values(), key=lambda line: line.seq):
            self._push(line)

    def tellAllHere(self) -> None:
        """
        Tell this node's members every line not known to be kept (Redis is
        lost).
        """
        for line in sorted(self._unacked.values(), key=lambda line: line.seq):
            self._tellHere(line)

    def cameBack(self, seq: int) -> bool:
        """
        This node's line C{seq} was read back from its room's stream: it is
        kept.

        @return: Whether it was told here already (while Redis was away),
            and is not to be told again.
        """
        self._unacked.pop(seq, None)
        if seq in self._toldHere:
            self._toldHere.discard(seq)
            return True
        return False

    def _push(self, line: SentLine) -> None:
        node = self.node
        d = defer.ensureDeferred(
            node.script(
                "line",
                line.roomKey,
                node.historyMax,
                node.name,
                node.run,
                line.seq,
                line.room,
                line.kind,
                line.sender,
                line.text,
                "1" if line.notice else "0",
                TAGS.encode(line.tags),
                name_key(line.sender),
                line.session,
            )
        )

        def kept(id: object) -> None:
            # Kept (or kept already): it comes back through the stream of a
            # room this node follows.
            self._unacked.pop(line.seq, None)
            if not node.streams.follows(line.roomKey):
                self._toldHere.discard(line.seq)

        d.addCallbacks(kept, node.fireFailed, errbackArgs=("line",))

    def _tellHere(self, line: SentLine) -> None:
        """
        Tell this node's members a line that Redis may not have: it has no
        id yet (0), and is skipped when it comes back.
        """
        if line.seq in self._toldHere:
            return
        self._toldHere.add(line.seq)
        realm = self.node.realm
        room = realm.rooms.get(line.roomKey)
        if room is None or not room.members:
            return
        entry = HistoryEntry(0, line.room, line.time, line.kind, line.sender, line.text)
        realm.heard(
            room,
            entry,
            notice=line.notice,
            tags=line.tags,
            sender=line.user if line.user.online else None,
        )
