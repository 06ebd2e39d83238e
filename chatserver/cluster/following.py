"""
The streams a node reads, on its reader link, in one blocking C{XREAD}:
the presence stream (for its L{PresenceMirror}), its inbox, and the lines
of the rooms that have members here.  A room line goes to Redis first and
comes back here with its id and its place, and every node tells its
members when it reads the line back, so every reader sees the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.cluster import keys, streams
from chatserver.cluster.link import RedisError
from chatserver.cluster.messages import Wake
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode

log = Logger(namespace=LOG_NAMESPACE)

READ_BATCH = 1000
READ_BLOCK_MS = 5000


class RoomStreams:
    """
    The rooms C{node} follows, and its reading of every stream it reads.

    @param node: This node.
    @ivar inboxAt: The id of the last entry read from this node's inbox.
    @ivar lag: Each stream read (C{presence}, C{inbox}, a room's key), with
        the seconds between Redis's adding the newest entry the last read
        brought and this node's reading it (by this node's clock against
        Redis's), or 0 for a stream the read found nothing new in: for
        C{--metrics}.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self.inboxAt = "0-0"
        # Where this node has read each room's stream to.
        self._following: dict[str, str] = {}
        # Joins whose place in their room is not known yet.
        self._joining: dict[str, list[defer.Deferred[str]]] = {}
        self._reading = False
        self.maxId = 0
        self.lag: dict[str, float] = {}

    # Following

    def follows(self, roomKey: str) -> bool:
        """
        @return: Whether this node follows the stream of the room C{roomKey}.
        """
        return roomKey in self._following

    def joining(self, roomKey: str) -> None:
        """
        A member of the room C{roomKey} joins, and the room may be new here:
        its place in the room is known when the join is done (L{follow}).
        """
        if roomKey not in self._following:
            self._joining.setdefault(roomKey, [])

    def joinFailed(self, roomKey: str, reason: Failure) -> None:
        """
        The join into C{roomKey} failed: whoever waits for the room's place
        (a replay) gives up; the join is made again when the node rejoins.
        """
        for waiting in self._joining.pop(roomKey, []):
            waiting.errback(reason)

    def follow(self, roomKey: str, place: str) -> None:
        """
        Follow a room's stream from C{place}, unless it is followed already
        (from where this node read it to: what it missed comes next).
        """
        at = self._following.setdefault(roomKey, place)
        # A member who joins now is sent live what comes after C{at}.
        for d in self._joining.pop(roomKey, []):
            d.callback(at)
        self.read()

    def unfollowIfEmpty(self, room: Room, leaving: ChatUser) -> None:
        """
        C{leaving} leaves C{room}: stop following the room if nobody else
        here is in it.
        """
        if all(member is leaving for member in room.members.values()):
            self._following.pop(room.key, None)
            self.lag.pop(room.key, None)

    def restart(self) -> None:
        """
        Redis lost its data: read every stream from its start again.
        """
        self.node.mirror.at = self.inboxAt = "0-0"
        for room in self._following:
            self._following[room] = "0-0"

    def lost(self) -> None:
        """
        Redis is lost: joins waiting for their room's place give up.
        """
        for waiting in self._joining.values():
            for d in waiting:
                d.errback(RedisError("Redis is unreachable"))
        self._joining.clear()

    def historyMark(self, room: Room) -> defer.Deferred[int | None]:
        """
        @return: A L{Deferred} firing with the id of the last line of
            C{room} that this node's members were not sent live.
        """
        waiting = self._joining.get(room.key)
        if waiting is not None:
            d: defer.Deferred[str] = defer.Deferred()
            waiting.append(d)
            return d.addCallback(lambda place: streams.stream_id(place)[0])
        at = self._following.get(room.key)
        if at is None:
            # Not followed (Redis away): everything kept is history.
            return defer.succeed(None if not self.node.ready else self.maxId)
        return defer.succeed(streams.stream_id(at)[0])

    # Reading

    def wake(self) -> None:
        """
        Make the reader start a new read: it follows a new room.
        """
        if self.node.connected:
            self.node.inbox.send(self.node.name, Wake())

    def read(self) -> None:
        """
        Start reading the streams this node follows, unless a read is on
        its way (a new room is then taken by the next read: L{wake}).
        """
        node = self.node
        if self._reading:
            self.wake()
            return
        if not (node.reader.up and node.ready):
            return
        self._reading = True
        following = list(self._following.items())
        names = [keys.PRESENCE, keys.inbox(node.name)]
        names.extend(keys.room_lines(room) for room, _ in following)
        places = [node.mirror.at, self.inboxAt]
        places.extend(place for _, place in following)
        d = node.reader.execute(
            "XREAD",
            "COUNT",
            READ_BATCH,
            "BLOCK",
            READ_BLOCK_MS,
            "STREAMS",
            *names,
            *places,
            timeout=False,
        )
        d.addCallback(self.gotRead)
        d.addErrback(self._readFailed)

    def gotRead(self, reply: Any) -> None:
        """
        Take what a read brought, and read again.
        """
        self._reading = False
        node = self.node
        inbox = keys.inbox(node.name)
        self._measureLag(reply or ())
        for stream, entries in reply or ():
            if stream == keys.PRESENCE:
                for id, flat in entries:
                    node.mirror.read(id, streams.fields(flat))
                node.mirror.caughtUp()
            elif stream == inbox:
                for id, flat in entries:
                    if streams.stream_id(id) > streams.stream_id(self.inboxAt):
                        self.inboxAt = id
                        node.inbox.received(streams.fields(flat))
            else:
                roomKey = stream[len(keys.PREFIX) + len("room:") : -len(":lines")]
                for id, flat in entries:
                    at = self._following.get(roomKey)
                    if at is None or streams.stream_id(id) <= streams.stream_id(at):
                        continue
                    self._following[roomKey] = id
                    self.line(roomKey, id, streams.fields(flat))
        self.read()

    def _measureLag(self, reply: Any) -> None:
        now = self.node.reactor.seconds()
        lag = dict.fromkeys(("presence", "inbox", *self._following), 0.0)
        inbox = keys.inbox(self.node.name)
        for stream, entries in reply:
            if not entries:
                continue
            if stream == keys.PRESENCE:
                name = "presence"
            elif stream == inbox:
                name = "inbox"
            else:
                name = stream[len(keys.PREFIX) + len("room:") : -len(":lines")]
            if name in lag:
                added = streams.stream_id(entries[-1][0])[0] / 1000
                lag[name] = max(0.0, now - added)
        self.lag = lag

    def _readFailed(self, reason: Failure) -> None:
        self._reading = False
        node = self.node
        if node.stopping:
            return
        if not reason.check(RedisError):
            log.failure("Reading the cluster's streams", reason, chat_event="error")
            node.reader.drop()
        elif node.reader.up:
            # An error reply (not a lost connection): try again shortly.
            log.warn(
                "Reading the cluster's streams failed: {why}",
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
            node.reactor.callLater(1.0, self.read)

    def line(self, roomKey: str, id: str, line: Mapping[str, str]) -> None:
        """
        Tell this node's members of the room C{roomKey} the line C{id} read
        back from the room's stream.
        """
        node = self.node
        self.maxId = max(self.maxId, streams.stream_id(id)[0])
        sender: ChatUser | None = None
        if line.get("o") == node.name:
            # Back from Redis: kept there, whatever became of the reply.
            if node.outage.cameBack(int(line.get("q", "0"))):
                return
            # By its session: the sender may have another name by now.
            sender = node.sessions.user(line.get("u", ""))
        room = node.realm.rooms.get(roomKey)
        if room is None or not room.members:
            return
        node.realm.heard(
            room,
            streams.line_entry(id, dict(line)),
            notice=line.get("n") == "1",
            tags=streams.tags(dict(line)),
            sender=sender,
        )
