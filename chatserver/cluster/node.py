"""
This node's place in a cluster: the realm's L{Peers} through Redis.

What changes who is where (logins, joins, renames...) is applied here at
once and sent to Redis, which tells the other nodes through the presence
stream; this node keeps a mirror of the others' users and rooms from that
stream.  A room line goes to Redis first: a script gives it its id and its
place in the room's stream, and every node, this one included, tells its
members when it reads the line back, so every reader sees the same order.
A node follows only the streams of the rooms that have members here.

When Redis cannot be reached, local users go on chatting within the node:
their lines are told here at once and kept, and sent when Redis is back,
where the script keeps each line once even if it is sent twice.  The node
then claims its users' names and rooms again, reads what it missed, and
takes a fresh snapshot of the others.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, task
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.cluster import keys, streams
from chatserver.cluster.link import RedisError, RedisLink
from chatserver.cluster.scripts import SCRIPTS
from chatserver.cluster.url import RedisURL
from chatserver.core.events import Joined, Parted, Quit, Renamed, Tags, Whispered
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteUser
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser
from chatserver.history.store import HistoryEntry
from chatwire.errors import ClusterUnavailable
from chatwire.names import name_key

log = Logger(namespace=LOG_NAMESPACE)

HEARTBEAT = 2.0
"""
Seconds between two heartbeats of a node.
"""

DEAD_AFTER = 10.0
"""
Seconds without a heartbeat after which a node is dead: its users leave
("node lost") and their names are free.  With L{HEARTBEAT}, the others
notice within 12 seconds.
"""

REPLY_TIMEOUT = 5.0
"""
Seconds Redis may take to answer a command before the connection is taken
as lost.
"""

MAX_KEPT = 10000
"""
The most lines kept while Redis cannot be reached; past that the oldest
are dropped (and the drop logged).
"""

READ_BATCH = 1000
READ_BLOCK_MS = 5000

NODE_LOST = "node lost"

NAME_LOST = (
    "your name was given up while this server was cut off from its cluster,"
    " log in again"
)
"""
What a user is told when its node finds that the cluster no longer counts
it as this node's (the node was taken for dead): it is disconnected.
"""


def default_node_name() -> str:
    """
    @return: This host's name and this process's id (C{chat1-4242}).
    """
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class _Line:
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


class ClusterNode:
    """
    This node of the cluster, as the realm's peers.

    @ivar name: The node's name, unique in the cluster.
    @ivar realm: The chat of this node.
    @ivar connected: Whether Redis is reachable now.
    @ivar historyMax: The most lines a room's stream keeps.
    @ivar historyKeep: Seconds a line is kept (C{--history-keep}), and a
        gone room's stream after its last member left; 0 for ever.
    """

    realm: ChatRealm

    def __init__(
        self,
        url: RedisURL,
        name: str,
        reactor: IReactorTime,
        historyMax: int,
        historyKeep: float = 0.0,
    ) -> None:
        self.name = name
        self.url = url
        self.reactor = reactor
        self.historyMax = historyMax
        self.historyKeep = historyKeep
        self.connected = False
        self.commands = RedisLink(
            reactor,
            url,
            "commands",
            self._commandsReady,
            self._commandsLost,
            replyTimeout=REPLY_TIMEOUT,
        )
        self.reader = RedisLink(
            reactor, url, "reader", self._readerReady, self._readerLost
        )
        self._run = os.urandom(6).hex()
        self._seq = 0
        # Each login of this node is a session, named the same on every
        # node: a rename or a line that comes back names its user by it.
        self._logins = 0
        self._sessions: dict[str, ChatUser] = {}
        self._sessionOf: dict[ChatUser, str] = {}
        # This run's lines not yet known to be in Redis, by line number.
        self._unacked: dict[int, _Line] = {}
        # The lines told to this node's members while Redis was away: they
        # are skipped when they come back.
        self._toldHere: set[int] = set()
        self._dropped = 0
        self._epoch: str | None = None
        self._maxId = 0
        self._hashes: dict[str, str] = {}
        # Where this node has read each stream to.
        self._presenceAt = "0-0"
        self._inboxAt = "0-0"
        self._following: dict[str, str] = {}
        # Claims waiting for the presence stream to be read up to a place.
        self._presenceWaits: list[tuple[tuple[int, int], defer.Deferred[None]]] = []
        # Joins whose place in their room is not known yet.
        self._joining: dict[str, list[defer.Deferred[str]]] = {}
        self._reading = False
        self._ready = False
        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.clock = reactor
        self._stopping = False
        # Whether this node's users changed something while it was not in
        # the cluster (Redis away, or the node rejoining).
        self._changedAway = False

    # Running

    def attach(self, realm: ChatRealm) -> None:
        """
        Be the peers of C{realm}.
        """
        self.realm = realm

    def start(self) -> None:
        """
        Connect to Redis, and keep connecting.
        """
        self.commands.start()
        self.reader.start()

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """
        Leave the cluster: the node's users are logged out by the realm
        first; its heartbeat is taken away, then the connections closed.
        """
        self._stopping = True
        if self._beat.running:
            self._beat.stop()
        if self.connected:
            with contextlib.suppress(RedisError):
                yield self._script("goodbye", self.name)
        yield self.reader.stop()
        yield self.commands.stop()

    def _commandsReady(self) -> None:
        self._hashes.clear()
        d = defer.ensureDeferred(self._rejoin())
        d.addErrback(self._rejoinFailed)

    def _rejoinFailed(self, reason: Failure) -> None:
        if reason.check(RedisError):
            log.warn(
                "Rejoining the cluster failed ({why}); trying again",
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
        else:
            log.failure("Rejoining the cluster failed", reason, chat_event="error")
        self.commands.drop()

    async def _rejoin(self) -> None:
        """
        Be part of the cluster again: check whether Redis kept its data,
        claim this node's users and their rooms, take a snapshot of the
        others, and send the lines kept meanwhile.
        """
        for name, text in SCRIPTS.items():
            self._hashes[name] = await self.commands.execute("SCRIPT", "LOAD", text)
        epoch = await self._script(
            "hello", os.urandom(8).hex(), self._maxId, math.ceil(self.historyKeep)
        )
        if self._epoch is not None and epoch != self._epoch:
            log.warn(
                "Redis lost the cluster's data: announcing this node's users again",
                chat_event="cluster",
            )
            self._presenceAt = self._inboxAt = "0-0"
            for room in self._following:
                self._following[room] = "0-0"
            self.reader.drop()
        self._epoch = epoch
        await self._heartbeatNow()
        # What changes while the node announces itself is announced again.
        for _ in range(3):
            self._changedAway = False
            await self._announceEveryone()
            await self._takeSnapshot()
            if not self._changedAway:
                break
        self.connected = True
        self._ready = True
        log.info(
            "Node {node} is in the cluster at {url}",
            node=self.name,
            url=str(self.url),
            chat_event="cluster",
        )
        for line in sorted(self._unacked.values(), key=lambda line: line.seq):
            self._push(line)
        if not self._beat.running:
            self._beat.start(HEARTBEAT, now=False).addErrback(
                lambda f: log.failure("Heartbeat", f, chat_event="error")
            )
        self._read()

    def _commandsLost(self) -> None:
        wasConnected = self.connected
        self.connected = False
        self._ready = False
        # The reader may be blocked on a connection that is gone too.
        self.reader.drop()
        if self._stopping:
            return
        if wasConnected:
            log.warn(
                "Lost Redis {url}: users of this node chat among themselves"
                " until it is back",
                url=str(self.url),
                chat_event="cluster",
            )
        for line in sorted(self._unacked.values(), key=lambda line: line.seq):
            self._tellHere(line)
        for waiting in self._joining.values():
            for d in waiting:
                d.errback(RedisError("Redis is unreachable"))
        self._joining.clear()
        self._presenceCaughtUp(giveUp=True)

    # Scripts

    async def _script(self, name: str, *args: object) -> Any:
        """
        Run one of L{SCRIPTS}, loaded when the connection was made.

        The command is sent before this returns: scripts run in the order
        they are called (the lines of one node in particular, which Redis
        keeps once each by their growing numbers).
        """
        sha = self._hashes.get(name)
        if sha is None:
            return await self.commands.execute(
                "EVAL", SCRIPTS[name], 0, keys.PREFIX, *args
            )
        try:
            return await self.commands.execute("EVALSHA", sha, 0, keys.PREFIX, *args)
        except RedisError as e:
            if "NOSCRIPT" not in str(e):
                raise
            self._hashes.pop(name, None)
            return await self.commands.execute(
                "EVAL", SCRIPTS[name], 0, keys.PREFIX, *args
            )

    def _fire(self, name: str, *args: object) -> None:
        """
        Run a script whose result nobody waits for; a failure is logged
        (what it changed is announced again when the node rejoins).
        """
        if not self._ready:
            self._changedAway = True
            return
        d = defer.ensureDeferred(self._script(name, *args))
        d.addErrback(self._fireFailed, name)

    def _fireFailed(self, reason: Failure, name: str) -> None:
        if reason.check(RedisError):
            log.warn(
                "Cluster update {name} failed: {why}",
                name=name,
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
        else:
            log.failure("Cluster update {name}", reason, name=name, chat_event="error")

    # Heartbeats

    def _heartbeat(self) -> defer.Deferred[None]:
        if not self._ready:
            return defer.succeed(None)
        d = defer.ensureDeferred(self._heartbeatNow())
        d.addErrback(self._fireFailed, "beat")
        return d

    async def _heartbeatNow(self) -> None:
        known, reaped = await self._script("beat", self.name, int(DEAD_AFTER * 1000))
        for node in reaped:
            log.warn(
                "Node {node} stopped beating: its users left ({reason})",
                node=node,
                reason=NODE_LOST,
                chat_event="cluster",
            )
        if str(known) == "0" and self._ready:
            # Taken for dead (a long stall): claim everything again.
            log.warn(
                "The cluster took node {node} for dead: announcing its users again",
                node=self.name,
                chat_event="cluster",
            )
            await self._announceEveryone()

    async def _announceEveryone(self) -> None:
        """
        Make Redis hold this node's users and their rooms as they are now
        (the C{sync} script): what changed while Redis was away, or since
        the cluster took this node for dead.
        """
        users = {user.key: user for user in self.realm.users()}
        state = [
            {
                "key": user.key,
                "user": self._userJSON(user),
                "rooms": [{"key": room.key, "name": room.name} for room in user.rooms],
            }
            for user in users.values()
        ]
        synced = await self._script("sync", self.name, json.dumps(state))
        for reply in synced:
            user = users.get(str(reply[0]))
            if user is None:
                continue
            if str(reply[1]) != "1":
                log.warn(
                    "{name} is taken on another node now: disconnecting it here",
                    name=user.name,
                    chat_event="cluster",
                )
                user.mind.disconnect(
                    "Your name was taken on another node while this one was away"
                )
                continue
            places = reply[2]
            for roomKey, place in zip(places[::2], places[1::2], strict=True):
                self._follow(str(roomKey), str(place))

    def _userJSON(self, user: ChatUser) -> str:
        return json.dumps(
            {
                "name": user.name,
                "node": self.name,
                "session": self._sessionOf.get(user, ""),
                "since": user.since,
                "away": user.away,
                "door": getattr(user.mind, "door", ""),
                "ident": getattr(user.mind, "ident", ""),
                "realname": getattr(user.mind, "realname", ""),
            }
        )

    # The mirror of the others

    async def _takeSnapshot(self) -> None:
        last, users, rooms, members = await self._script("snapshot")
        if streams.stream_id(str(last)) > streams.stream_id(self._presenceAt):
            self._presenceAt = str(last)
        realm = self.realm
        seen: dict[str, RemoteUser] = {}
        for key, value in streams.fields(users).items():
            info = json.loads(value)
            if info["node"] == self.name:
                continue
            user = realm.remote.get(key)
            if user is None or user.node != info["node"]:
                user = RemoteUser.fromInfo(info)
            else:
                user.update(info)
            seen[key] = user
        # Who left while this node was away.
        for key, user in list(realm.remote.items()):
            if key not in seen:
                self._remoteLeft(user, "Quit")
        for key, user in seen.items():
            if key not in realm.remote and realm.get(key) is None:
                realm.remote[key] = user
        roomInfo = {
            key: json.loads(value) for key, value in streams.fields(rooms).items()
        }
        memberships = {room: streams.fields(flat) for room, flat in members}
        for roomKey, info in roomInfo.items():
            room = self._room(roomKey, info["name"])
            room.topic, room.topicSetter = info["topic"], info["setter"]
            room.topicTime = float(info["time"])
            there = memberships.get(roomKey, {})
            for key in list(room.remote):
                if key not in there:
                    self._remoteParted(room, key, "Part")
            for key in there:
                remote = realm.remote.get(key)
                if remote is not None and key not in room.remote:
                    self._remoteJoined(room, remote)
        for room in list(realm.rooms.values()):
            if room.key not in roomInfo:
                for key in list(room.remote):
                    self._remoteParted(room, key, "Part")

    def _room(self, key: str, name: str) -> Room:
        room = self.realm.rooms.get(key)
        if room is None:
            room = self.realm.rooms[key] = Room(name, self.realm.now())
        return room

    def _remoteJoined(self, room: Room, user: RemoteUser) -> None:
        if user.key in room.remote:
            return
        room.addRemote(user.key, user.name)
        user.rooms[room.key] = None
        self.realm.tell(room, Joined(room.name, user.name))

    def _remoteParted(self, room: Room, key: str, reason: str) -> None:
        name = room.remote.get(key)
        if name is None:
            return
        self.realm.tell(room, Parted(room.name, name, reason))
        room.removeRemote(key)
        user = self.realm.remote.get(key)
        if user is not None:
            user.rooms.pop(room.key, None)
        self.realm.forgetIfEmpty(room)

    def _remoteLeft(self, user: RemoteUser, reason: str) -> None:
        realm = self.realm
        if realm.remote.get(user.key) is not user:
            return
        del realm.remote[user.key]
        audience: set[ChatUser] = set()
        for roomKey in user.rooms:
            room = realm.rooms.get(roomKey)
            if room is None:
                continue
            audience.update(room.members.values())
            room.removeRemote(user.key)
            realm.forgetIfEmpty(room)
        if audience and not realm.shuttingDown:
            realm.fanout.toUsers(audience, Quit(user.name, reason))

    def _presence(self, event: dict[str, str]) -> None:
        if event.get("node") == self.name:
            return  # this node applied it when it happened
        kind = event["t"]
        realm = self.realm
        key = event.get("k", "")
        if kind == "login":
            info = json.loads(event["u"])
            if key not in realm.remote and realm.get(key) is None:
                newcomer = RemoteUser.fromInfo(info)
                realm.remote[key] = newcomer
                log.info(
                    "{name} logged in on node {node}",
                    name=newcomer.name,
                    node=newcomer.node,
                    chat_event="peers",
                )
            return
        user = realm.remote.get(key)
        if kind in ("logout", "lost"):
            if user is not None:
                reason = NODE_LOST if kind == "lost" else event.get("reason", "Quit")
                self._remoteLeft(user, reason)
                log.info(
                    "{name} left node {node} ({reason})",
                    name=user.name,
                    node=user.node,
                    reason=reason,
                    chat_event="peers",
                )
        elif kind == "join":
            if user is not None:
                self._remoteJoined(self._room(event["room"], event["rn"]), user)
        elif kind == "part":
            room = realm.rooms.get(event["room"])
            if room is not None:
                self._remoteParted(room, key, event.get("reason", "Part"))
        elif kind == "rename":
            self._remoteRenamed(event)
        elif kind == "away":
            if user is not None:
                user.away = event.get("away", "")
        elif kind == "topic":
            room = realm.rooms.get(event["room"])
            if room is not None and not room.members:
                # Members here hear it from the room's stream.
                room.topic, room.topicSetter = event["topic"], event["setter"]
                room.topicTime = float(event["time"])

    def _remoteRenamed(self, event: dict[str, str]) -> None:
        oldKey, newKey, newName = event["k"], event["nk"], event["nn"]
        info = json.loads(event["u"]) if "u" in event else None
        session = str(info.get("session", "")) if info is not None else ""
        realm = self.realm
        user = realm.remote.get(oldKey)
        if user is None or (session and user.session != session):
            # This node no longer knows the user by its old name (the name
            # was claimed here since, or it heard the user leave first):
            # the user arrives under its new name, in its rooms.
            if info is not None:
                rooms = json.loads(event.get("rooms", "[]"))
                self._remoteArrived(newKey, info, rooms)
            return
        del realm.remote[oldKey]
        old = user.name
        user.name, user.key = newName, newKey
        realm.remote[newKey] = user
        audience: set[ChatUser] = set()
        for roomKey in user.rooms:
            room = realm.rooms.get(roomKey)
            if room is not None:
                room.renamedRemote(oldKey, newKey, newName)
                audience.update(room.members.values())
        if audience:
            realm.fanout.toUsers(audience, Renamed(old, newName))

    def _remoteArrived(
        self, key: str, info: dict[str, Any], rooms: list[list[str]]
    ) -> None:
        """
        Know the user of another node described by C{info} under C{key},
        in C{rooms} (pairs of room key and name), unless some user has
        that key here already.
        """
        realm = self.realm
        if key in realm.remote or realm.get(key) is not None:
            return
        user = realm.remote[key] = RemoteUser.fromInfo(info)
        for roomKey, roomName in rooms:
            self._remoteJoined(self._room(roomKey, roomName), user)

    # Reading the streams

    def _readerReady(self) -> None:
        # Not before the node has rejoined: it may find that Redis lost its
        # data, and read every stream from its start again.
        self._read()

    def _readerLost(self) -> None:
        pass

    def _follow(self, roomKey: str, place: str) -> None:
        """
        Follow a room's stream from C{place}, unless it is followed already
        (from where this node read it to: what it missed comes next).
        """
        at = self._following.setdefault(roomKey, place)
        # A member who joins now is sent live what comes after C{at}.
        for d in self._joining.pop(roomKey, []):
            d.callback(at)
        self._read()

    def _wake(self) -> None:
        """
        Make the reader start a new read: it follows a new room.
        """
        if self.connected:
            self._toNode(self.name, t="wake")

    def _read(self) -> None:
        """
        Start reading the streams this node follows, unless a read is on
        its way (a new room is then taken by the next read: L{_wake}).
        """
        if self._reading:
            self._wake()
            return
        if not (self.reader.up and self._ready):
            return
        self._reading = True
        following = list(self._following.items())
        streams = [keys.PRESENCE, keys.inbox(self.name)]
        streams.extend(keys.room_lines(room) for room, _ in following)
        places = [self._presenceAt, self._inboxAt]
        places.extend(place for _, place in following)
        d = self.reader.execute(
            "XREAD",
            "COUNT",
            READ_BATCH,
            "BLOCK",
            READ_BLOCK_MS,
            "STREAMS",
            *streams,
            *places,
            timeout=False,
        )
        d.addCallback(self._gotRead)
        d.addErrback(self._readFailed)

    def _gotRead(self, reply: Any) -> None:
        self._reading = False
        for stream, entries in reply or ():
            if stream == keys.PRESENCE:
                for id, flat in entries:
                    if streams.stream_id(id) > streams.stream_id(self._presenceAt):
                        self._presenceAt = id
                        self._presence(streams.fields(flat))
                if self._presenceWaits:
                    self._presenceCaughtUp()
            elif stream == keys.inbox(self.name):
                for id, flat in entries:
                    if streams.stream_id(id) > streams.stream_id(self._inboxAt):
                        self._inboxAt = id
                        self._inbox(streams.fields(flat))
            else:
                roomKey = stream[len(keys.PREFIX) + len("room:") : -len(":lines")]
                for id, flat in entries:
                    at = self._following.get(roomKey)
                    if at is None or streams.stream_id(id) <= streams.stream_id(at):
                        continue
                    self._following[roomKey] = id
                    self._line(roomKey, id, streams.fields(flat))
        self._read()

    def _readFailed(self, reason: Failure) -> None:
        self._reading = False
        if self._stopping:
            return
        if not reason.check(RedisError):
            log.failure("Reading the cluster's streams", reason, chat_event="error")
            self.reader.drop()
        elif self.reader.up:
            # An error reply (not a lost connection): try again shortly.
            log.warn(
                "Reading the cluster's streams failed: {why}",
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
            self.reactor.callLater(1.0, self._read)

    def _line(self, roomKey: str, id: str, line: dict[str, str]) -> None:
        self._maxId = max(self._maxId, streams.stream_id(id)[0])
        sender: ChatUser | None = None
        if line.get("o") == self.name:
            seq = int(line.get("q", "0"))
            # Back from Redis: kept there, whatever became of the reply.
            self._unacked.pop(seq, None)
            if seq in self._toldHere:
                self._toldHere.discard(seq)
                return
            # By its session: the sender may have another name by now.
            sender = self._sessions.get(line.get("u", ""))
        room = self.realm.rooms.get(roomKey)
        if room is None or not room.members:
            return
        self.realm.heard(
            room,
            streams.line_entry(id, line),
            notice=line.get("n") == "1",
            tags=streams.tags(line),
            sender=sender,
        )

    def _inbox(self, entry: dict[str, str]) -> None:
        kind = entry.get("t")
        if kind == "whisper":
            recipient = self.realm.get(entry["to"])
            if recipient is None:
                return
            event = Whispered(
                entry["from"],
                recipient.name,
                entry["x"],
                float(entry["time"]),
                entry.get("n") == "1",
                entry.get("a") == "1",
                streams.tags(entry),
            )
            self.realm.fanout.toUser(recipient, event)
        elif kind == "kick":
            user = self.realm.get(entry["to"])
            if user is not None:
                user.mind.disconnect(entry.get("reason", ""))

    # Peers: what the realm tells the cluster

    def claim(self, name: str) -> defer.Deferred[bool]:
        if not self._ready:
            # Without Redis a name cannot be known free cluster-wide.
            return defer.fail(ClusterUnavailable())
        user = {"name": name, "node": self.name, "since": self.realm.now(), "away": ""}
        key = name_key(name)
        d = defer.ensureDeferred(
            self._script("claim", key, self.name, json.dumps(user))
        )

        def unreachable(reason: Failure) -> bool:
            reason.trap(RedisError)
            raise ClusterUnavailable()

        def claimed(reply: Any) -> bool | defer.Deferred[bool]:
            if not isinstance(reply, list) or str(reply[0]) != "1":
                return False
            if key not in self.realm.remote:
                return True
            # Whoever had the name here is gone from the cluster (a logout
            # or a rename): read the news up to the claim first, so that
            # this node's users hear it in its order.
            return self._presenceRead(str(reply[1])).addCallback(caughtUp)

        def caughtUp(_: object) -> bool:
            stale = self.realm.remote.get(key)
            if stale is not None:
                # Still here (the news did not come in time): it left.
                self._remoteLeft(stale, "Quit")
            return True

        return d.addCallbacks(claimed, unreachable)

    def _presenceRead(self, place: str) -> defer.Deferred[None]:
        """
        @return: A L{Deferred} firing once this node has read the presence
            stream up to C{place}, or after L{REPLY_TIMEOUT} seconds, or
            when Redis is lost, whichever comes first.
        """
        at = streams.stream_id(place)
        if at <= streams.stream_id(self._presenceAt) or not self._ready:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._presenceWaits.append((at, d))
        timeout = self.reactor.callLater(REPLY_TIMEOUT, _fire_once, d)
        return d.addBoth(lambda result: _cancelled(timeout, result))

    def _presenceCaughtUp(self, giveUp: bool = False) -> None:
        """
        Fire the waits of L{_presenceRead} for what was read (all of them
        if C{giveUp}).
        """
        read = streams.stream_id(self._presenceAt)
        waits, self._presenceWaits = self._presenceWaits, []
        for at, d in waits:
            if giveUp or at <= read:
                _fire_once(d)
            elif not d.called:
                self._presenceWaits.append((at, d))

    def release(self, name: str) -> None:
        self._fire("unclaim", name_key(name), self.name)

    def loggedIn(self, user: ChatUser) -> None:
        self._logins += 1
        session = f"{self.name}/{self._run}/{self._logins}"
        self._sessions[session] = user
        self._sessionOf[user] = session
        self._fire("login", user.key, self.name, self._userJSON(user))

    def loggedOut(self, user: ChatUser, rooms: tuple[Room, ...], reason: str) -> None:
        session = self._sessionOf.pop(user, "")
        self._sessions.pop(session, None)
        self._fire("logout", user.key, self.name, user.name, reason)
        for room in rooms:
            self._unfollowIfEmpty(room, user)

    def renamed(self, user: ChatUser, oldName: str) -> None:
        if not self._ready:
            self._changedAway = True
            return
        d = defer.ensureDeferred(
            self._script(
                "rename",
                name_key(oldName),
                user.key,
                self.name,
                oldName,
                self._userJSON(user),
            )
        )

        def done(reply: object) -> None:
            if str(reply) != "1":
                # The old name is not this node's in the cluster any more:
                # this node was taken for dead, and its user with it.
                self._lost(user)

        d.addCallbacks(done, self._fireFailed, errbackArgs=("rename",))

    def _lost(self, user: ChatUser) -> None:
        """
        Disconnect C{user}, which the cluster no longer counts as this
        node's, saying why.
        """
        if not user.online:
            return
        log.warn(
            "{name} is no longer this node's in the cluster: disconnecting it",
            name=user.name,
            chat_event="cluster",
        )
        user.mind.disconnect(NAME_LOST)

    def joined(self, user: ChatUser, room: Room) -> None:
        if not self._ready:
            self._changedAway = True
            return
        new = room.key not in self._following
        if new:
            self._joining.setdefault(room.key, [])
        d = defer.ensureDeferred(
            self._script("join", room.key, room.name, user.key, user.name, self.name)
        )

        def placed(place: object) -> None:
            self._follow(room.key, str(place))

        def failed(reason: Failure) -> None:
            # Whoever waits for the room's place (a replay) gives up; the
            # join is made again when the node rejoins.
            for waiting in self._joining.pop(room.key, []):
                waiting.errback(reason)
            self._fireFailed(reason, "join")

        d.addCallbacks(placed, failed)

    def parted(self, user: ChatUser, room: Room, reason: str) -> None:
        self._fire("part", room.key, user.key, user.name, self.name, reason)
        self._unfollowIfEmpty(room, user)

    def _unfollowIfEmpty(self, room: Room, leaving: ChatUser) -> None:
        if all(member is leaving for member in room.members.values()):
            self._following.pop(room.key, None)

    def away(self, user: ChatUser) -> None:
        self._fire("away", user.key, self.name, self._userJSON(user))

    def publish(
        self,
        room: Room,
        kind: str,
        sender: ChatUser,
        text: str,
        *,
        notice: bool,
        tags: Tags,
    ) -> None:
        self._seq += 1
        line = _Line(
            self._seq,
            room.key,
            room.name,
            kind,
            sender.name,
            sender,
            self._sessionOf.get(sender, ""),
            text,
            notice,
            tags,
            self.realm.now(),
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
        if self._ready:
            self._push(line)
        else:
            self._tellHere(line)

    def _push(self, line: _Line) -> None:
        d = defer.ensureDeferred(
            self._script(
                "line",
                line.roomKey,
                self.historyMax,
                self.name,
                self._run,
                line.seq,
                line.room,
                line.kind,
                line.sender,
                line.text,
                "1" if line.notice else "0",
                json.dumps(line.tags),
                name_key(line.sender),
                line.session,
            )
        )

        def kept(id: object) -> None:
            # Kept (or kept already): it comes back through the stream of a
            # room this node follows.
            self._unacked.pop(line.seq, None)
            if line.roomKey not in self._following:
                self._toldHere.discard(line.seq)

        d.addCallbacks(kept, self._fireFailed, errbackArgs=("line",))

    def _tellHere(self, line: _Line) -> None:
        """
        Tell this node's members a line that Redis may not have: it has no
        id yet (0), and is skipped when it comes back.
        """
        if line.seq in self._toldHere:
            return
        self._toldHere.add(line.seq)
        room = self.realm.rooms.get(line.roomKey)
        if room is None or not room.members:
            return
        entry = HistoryEntry(0, line.room, line.time, line.kind, line.sender, line.text)
        self.realm.heard(
            room,
            entry,
            notice=line.notice,
            tags=line.tags,
            sender=line.user if line.user.online else None,
        )

    def whisper(
        self,
        sender: ChatUser,
        recipient: RemoteUser,
        text: str,
        *,
        notice: bool,
        action: bool,
        tags: Tags,
    ) -> None:
        if not self._ready:
            raise ClusterUnavailable(f"{recipient.name} cannot be reached")
        self._toNode(
            recipient.node,
            t="whisper",
            to=recipient.key,
            x=text,
            time=repr(self.realm.now()),
            n="1" if notice else "0",
            a="1" if action else "0",
            g=json.dumps(tags),
            **{"from": sender.name},
        )

    def kick(self, recipient: RemoteUser, reason: str) -> None:
        self._toNode(recipient.node, t="kick", to=recipient.key, reason=reason)

    def _toNode(self, node: str, **fields: str) -> None:
        """
        Send C{fields} to C{node}'s inbox stream (see L{_inbox}).
        """
        words = [word for field in fields.items() for word in field]
        self.commands.execute(
            "XADD", keys.inbox(node), "MAXLEN", "~", "10000", "*", *words
        ).addErrback(self._fireFailed, fields["t"])

    def historyMark(self, room: Room) -> defer.Deferred[int | None]:
        waiting = self._joining.get(room.key)
        if waiting is not None:
            d: defer.Deferred[str] = defer.Deferred()
            waiting.append(d)
            return d.addCallback(lambda place: streams.stream_id(place)[0])
        at = self._following.get(room.key)
        if at is None:
            # Not followed (Redis away): everything kept is history.
            return defer.succeed(None if not self._ready else self._maxId)
        return defer.succeed(streams.stream_id(at)[0])


def _cancelled(call: IDelayedCall, result: object) -> object:
    """
    Cancel C{call} unless it ran, and pass C{result} on.
    """
    if call.active():
        call.cancel()
    return result


def _fire_once(d: defer.Deferred[None]) -> None:
    """
    Fire C{d} unless it has fired.
    """
    if not d.called:
        d.callback(None)
