"""
This node's place in a cluster: the realm's L{Peers} through Redis.

What changes who is where (logins, joins, renames...) is applied here at
once and sent to Redis, which tells the other nodes through the presence
stream.  The node is made of parts, one role each:

  - two L{RedisLink}s, one for commands (the Lua scripts of
    L{chatserver.cluster.scripts}) and one that reads the streams;
  - the L{PresenceMirror} of the others' users and rooms
    (L{chatserver.cluster.mirror}), kept from the presence stream's typed
    messages (L{chatserver.cluster.messages});
  - the L{RoomStreams} it follows and reads (L{chatserver.cluster.following}):
    a room line goes to Redis first, and every node, this one included,
    tells its members when it reads the line back, so every reader sees
    the same order;
  - its L{Heartbeat}, which also reaps the nodes that stopped beating
    (L{chatserver.cluster.heartbeat});
  - the L{OutageBuffer} of its lines not yet kept by Redis
    (L{chatserver.cluster.outage}): when Redis cannot be reached, local
    users go on chatting within the node, and their lines are sent when
    Redis is back;
  - the L{Inbox} through which nodes send each other private lines,
    kicks, and what one node tells another of an account with sessions on
    both (the end of a session, a read marker moved)
    (L{chatserver.cluster.inbox});
  - its L{RedisModeration} (L{chatserver.cluster.moderation}): the
    moderation state kept in Redis for every node (the realm's
    L{IModerationStore}, through this node), and the moderation changes
    told to every node through the presence stream.

When Redis is back the node claims its users' names and rooms again, reads
what it missed, and takes a fresh snapshot of the others.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.cluster import keys
from chatserver.cluster.following import RoomStreams
from chatserver.cluster.heartbeat import DEAD_AFTER, HEARTBEAT, NODE_LOST, Heartbeat
from chatserver.cluster.inbox import Inbox
from chatserver.cluster.link import REPLY_TIMEOUT, RedisError, RedisLink
from chatserver.cluster.messages import (
    EndSession,
    Kick,
    ReadMoved,
    UserInfo,
    Whisper,
    session_json,
)
from chatserver.cluster.mirror import PresenceMirror
from chatserver.cluster.moderation import RedisModeration
from chatserver.cluster.outage import MAX_KEPT, OutageBuffer
from chatserver.cluster.scripts import SCRIPTS
from chatserver.cluster.url import RedisURL
from chatserver.core.events import ChatEvent, ReadMarked, Tags, Whispered
from chatserver.core.moderation.store import IModerationStore, StateRecord
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteSession
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser
from chatwire.errors import ClusterUnavailable, TooManySessions
from chatwire.names import name_key

__all__ = [
    "DEAD_AFTER",
    "HEARTBEAT",
    "MAX_KEPT",
    "NAME_LOST",
    "NODE_LOST",
    "REPLY_TIMEOUT",
    "ClusterNode",
    "default_node_name",
]

log = Logger(namespace=LOG_NAMESPACE)

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


class Sessions:
    """
    The logins of this node's run, each a session named the same on every
    node: a rename or a line that comes back names its user by it, and the
    sessions of an account, on every node, are listed and ended by it.

    @param prefix: What every session id of this run begins with.
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._logins = 0
        self._users: dict[str, ChatUser] = {}
        self._ids: dict[ChatUser, str] = {}
        # The session the other nodes know each account by: its first.
        self._accounts: dict[ChatUser, str] = {}
        # Sessions reserved in the cluster for logins of an account (by
        # its name's key) still under way, oldest first.
        self._reserved: dict[str, list[str]] = {}

    def _next(self) -> str:
        self._logins += 1
        return f"{self._prefix}/{self._logins}"

    def reserve(self, key: str) -> str:
        """
        A login of the account whose name's key is C{key} is under way:
        give it its session now, so that the cluster counts it.

        @return: The session it will have (L{begin} gives it).
        """
        session = self._next()
        self._reserved.setdefault(key, []).append(session)
        return session

    def unreserve(self, key: str) -> str:
        """
        A login under way of the account whose name's key is C{key} did
        not happen.

        @return: The session it was given, or empty if it had none.
        """
        reserved = self._reserved.get(key, [])
        session = reserved.pop(0) if reserved else ""
        if not reserved:
            self._reserved.pop(key, None)
        return session

    def begin(self, user: ChatUser) -> None:
        """
        C{user} logged in: give it the session reserved for it, or a new
        one.
        """
        session = self.unreserve(user.key) or self._next()
        self._users[session] = user
        self._ids[user] = session
        self._accounts[user] = session

    def add(self, user: ChatUser, first: ChatUser) -> None:
        """
        C{user} is one more session of the account of C{first}: a session
        of its own for its lines, the account's for the other nodes.
        """
        self.begin(user)
        self._accounts[user] = self._accounts.get(first, self._ids[user])

    def end(self, user: ChatUser) -> None:
        """
        C{user} logged out: its session is over.
        """
        self._users.pop(self._ids.pop(user, ""), None)
        self._accounts.pop(user, None)

    def account(self, user: ChatUser) -> str:
        """
        @return: The session the other nodes know C{user}'s account by, or
            empty if it has none.
        """
        return self._accounts.get(user, "")

    def of(self, user: ChatUser) -> str:
        """
        @return: C{user}'s session, or empty if it has none.
        """
        return self._ids.get(user, "")

    def user(self, session: str) -> ChatUser | None:
        """
        @return: The user of C{session}, if it is this node's and not over.
        """
        return self._users.get(session)


@implementer(IModerationStore)
class ClusterNode:
    """
    This node of the cluster, as the realm's peers.

    @ivar name: The node's name, unique in the cluster.
    @ivar realm: The chat of this node.
    @ivar connected: Whether Redis is reachable now.
    @ivar ready: Whether the node is in the cluster now (Redis reachable,
        and the node's users announced).
    @ivar stopping: Whether the node is leaving the cluster.
    @ivar historyMax: The most lines a room's stream keeps.
    @ivar historyKeep: Seconds a line is kept (C{--history-keep}), and a
        gone room's stream after its last member left; 0 for ever.
    @ivar run: A word naming this run of the node.
    @ivar commands: The link that runs the scripts.
    @ivar reader: The link that reads the streams.
    @ivar mirror: What this node knows of the others.
    @ivar streams: The streams this node reads.
    @ivar heartbeat: This node's heartbeat.
    @ivar outage: This node's lines not yet kept by Redis.
    @ivar inbox: The nodes' inboxes.
    @ivar sessions: The logins of this node.
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
        self.ready = False
        self.stopping = False
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
        self.run = os.urandom(6).hex()
        self.sessions = Sessions(f"{name}/{self.run}")
        self.moderation = RedisModeration(self)
        self.mirror = PresenceMirror(self)
        self.streams = RoomStreams(self)
        self.heartbeat = Heartbeat(self)
        self.outage = OutageBuffer(self)
        self.inbox = Inbox(self)
        self._epoch: str | None = None
        self._hashes: dict[str, str] = {}
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
        self.stopping = True
        self.heartbeat.stop()
        if self.connected:
            with contextlib.suppress(RedisError):
                yield self.script("goodbye", self.name)
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
        epoch = await self.script(
            "hello",
            os.urandom(8).hex(),
            self.streams.maxId,
            math.ceil(self.historyKeep),
        )
        if self._epoch is not None and epoch != self._epoch:
            log.warn(
                "Redis lost the cluster's data: announcing this node's users again",
                chat_event="cluster",
            )
            self.streams.restart()
            self.reader.drop()
        self._epoch = epoch
        await self.heartbeat.beat()
        # What changes while the node announces itself is announced again.
        for _ in range(3):
            self._changedAway = False
            await self.announceEveryone()
            await self.mirror.takeSnapshot()
            if not self._changedAway:
                break
        await self.moderation.joined()
        self.connected = True
        self.ready = True
        log.info(
            "Node {node} is in the cluster at {url}",
            node=self.name,
            url=str(self.url),
            chat_event="cluster",
        )
        self.outage.resend()
        self.heartbeat.start()
        self.streams.read()

    def _commandsLost(self) -> None:
        wasConnected = self.connected
        self.connected = False
        self.ready = False
        # The reader may be blocked on a connection that is gone too.
        self.reader.drop()
        if self.stopping:
            return
        if wasConnected:
            log.warn(
                "Lost Redis {url}: users of this node chat among themselves"
                " until it is back",
                url=str(self.url),
                chat_event="cluster",
            )
        self.outage.tellAllHere()
        self.streams.lost()
        self.mirror.caughtUp(giveUp=True)

    def _readerReady(self) -> None:
        # Not before the node has rejoined: it may find that Redis lost its
        # data, and read every stream from its start again.
        self.streams.read()

    def _readerLost(self) -> None:
        pass

    # Scripts

    async def script(self, name: str, *args: object) -> Any:
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
        if not self.ready:
            self._changedAway = True
            return
        d = defer.ensureDeferred(self.script(name, *args))
        d.addErrback(self.fireFailed, name)

    def fireFailed(self, reason: Failure, name: str) -> None:
        """
        Log that the cluster update C{name} failed for C{reason}.
        """
        if reason.check(RedisError):
            log.warn(
                "Cluster update {name} failed: {why}",
                name=name,
                why=reason.getErrorMessage(),
                chat_event="cluster",
            )
        else:
            log.failure("Cluster update {name}", reason, name=name, chat_event="error")

    async def announceEveryone(self) -> None:
        """
        Make Redis hold this node's users and their rooms as they are now
        (the C{sync} script): what changed while Redis was away, or since
        the cluster took this node for dead.
        """
        users = {user.key: user for user in self.realm.users()}
        state = [
            {
                "key": user.key,
                "user": self._userInfo(user).toJSON(),
                "rooms": [{"key": room.key, "name": room.name} for room in user.rooms],
                "sessions": [
                    {"id": self.sessions.of(session), "info": self._session(session)}
                    for session in user.sessions
                    if user.account is not None
                ],
            }
            for user in users.values()
        ]
        synced = await self.script("sync", self.name, json.dumps(state))
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
                for session in list(user.sessions):
                    session.mind.disconnect(
                        "Your name was taken on another node while this one was away"
                    )
                continue
            places = reply[2]
            for roomKey, place in zip(places[::2], places[1::2], strict=True):
                self.streams.follow(str(roomKey), str(place))

    def _userInfo(self, user: ChatUser) -> UserInfo:
        """
        @return: C{user} as the other nodes know it.
        """
        return UserInfo(
            name=user.name,
            node=self.name,
            since=user.since,
            away=user.away,
            session=self.sessions.account(user),
            door=user.mind.door,
            ident=user.mind.ident,
            realname=user.mind.realname,
            account=user.account or "",
        )

    def _session(self, session: ChatUser) -> str:
        """
        @return: C{session}, of an account, as the cluster keeps it.
        """
        mind = session.mind
        return session_json(
            RemoteSession(self.name, mind.door or "?", mind.peer, session.since)
        )

    # Peers: what the realm tells the cluster

    def claim(self, name: str, account: bool = False) -> defer.Deferred[bool]:
        if not self.ready:
            # Without Redis a name cannot be known free cluster-wide.
            return defer.fail(ClusterUnavailable())
        most = self.realm.config.maxSessions if account else 0
        user = UserInfo(
            name, self.name, self.realm.now(), account=name if account else ""
        )
        key = name_key(name)
        reserved = self.sessions.reserve(key) if account else ""
        d = defer.ensureDeferred(
            self.script(
                "claim",
                key,
                self.name,
                user.toJSON(),
                most,
                reserved,
                self._reservation() if account else "",
            )
        )

        def unreachable(reason: Failure) -> bool:
            if account:
                self.sessions.unreserve(key)
            reason.trap(RedisError)
            raise ClusterUnavailable()

        def claimed(reply: Any) -> bool | defer.Deferred[bool]:
            if reply == -1:
                self.sessions.unreserve(key)
                raise TooManySessions(name, most)
            if not isinstance(reply, list) or str(reply[0]) != "1":
                if account:
                    self.sessions.unreserve(key)
                return False
            if str(reply[2]) == "1":
                # The account is online elsewhere too (and stays known by
                # the other nodes' sessions): know them now, whatever the
                # presence stream has brought yet, for the end of this
                # node's last session to leave the account to them.
                self.mirror.sessionsAt(
                    key, str(reply[1]), reply[3] if len(reply) > 3 else []
                )
                return True
            if key not in self.realm.remote:
                # Nobody else had it.
                return True
            # Whoever had the name here is gone from the cluster (a logout
            # or a rename): read the news up to the claim first, so that
            # this node's users hear it in its order.
            return self.mirror.readUpTo(str(reply[1])).addCallback(caughtUp)

        def caughtUp(_: object) -> bool:
            stale = self.realm.remote.get(key)
            if stale is not None:
                # Still here (the news did not come in time): it left.
                self.realm.remoteLoggedOut(stale, "Quit")
            return True

        return d.addCallbacks(claimed, unreachable)

    def _reservation(self) -> str:
        """
        @return: A session reserved for a login under way, as the cluster
            keeps it until the login tells it whole.
        """
        return session_json(RemoteSession(self.name, "?", "", self.realm.now()))

    def reserve(self, name: str) -> defer.Deferred[bool]:
        if not self.ready:
            # Counted here only: the sessions are told when Redis is back.
            return defer.succeed(True)
        most = self.realm.config.maxSessions
        key = name_key(name)
        session = self.sessions.reserve(key)
        d = defer.ensureDeferred(
            self.script("reserve", key, self.name, most, session, self._reservation())
        )

        def reserved(reply: object) -> bool:
            if str(reply) == "1":
                return True
            self.sessions.unreserve(key)
            if str(reply) == "-1":
                raise TooManySessions(name, most)
            return False

        def unreachable(reason: Failure) -> bool:
            self.sessions.unreserve(key)
            reason.trap(RedisError)
            raise ClusterUnavailable()

        return d.addCallbacks(reserved, unreachable)

    def unreserve(self, name: str) -> None:
        key = name_key(name)
        session = self.sessions.unreserve(key)
        if session:
            self._fire("reserve", key, self.name, 0, session, "")

    def release(self, name: str) -> None:
        # Its reservation, if an account's, goes with this node's claim.
        self.sessions.unreserve(name_key(name))
        self._fire("unclaim", name_key(name), self.name)

    def loggedIn(self, user: ChatUser) -> None:
        self.sessions.begin(user)
        account = user.account is not None
        self._fire(
            "login",
            user.key,
            self.name,
            self._userInfo(user).toJSON(),
            self.sessions.of(user) if account else "",
            self._session(user) if account else "",
        )

    def keepPrivate(
        self, key: str, *, recipient: str, kind: str, sender: str, text: str
    ) -> None:
        self._fire(
            "private", key, self.historyMax, self.name, recipient, kind, sender, text
        )

    def sessionAdded(self, session: ChatUser) -> None:
        self.sessions.add(session, session.sessions[0])
        self._fire(
            "session",
            session.key,
            self.name,
            self.sessions.of(session),
            self._session(session),
        )

    def sessionEnded(self, session: ChatUser) -> None:
        ended = self.sessions.of(session)
        self.sessions.end(session)
        self._fire("session", session.key, self.name, ended, "")

    def loggedOut(self, user: ChatUser, rooms: tuple[Room, ...], reason: str) -> None:
        self.sessions.end(user)
        for room in rooms:
            self.streams.unfollowIfEmpty(room, user)
        if not self.ready:
            self._changedAway = True
            return
        d = defer.ensureDeferred(
            self.script("logout", user.key, self.name, user.name, reason)
        )

        def done(reply: object) -> None:
            remote = self.realm.remote.get(user.key)
            if str(reply) == "1" and remote is not None:
                # Left to the account's sessions on other nodes, which
                # ended meanwhile: it left the chat.
                self.realm.remoteLoggedOut(remote, reason)
            elif str(reply) == "2" and self.realm.lookup(user.key) is None:
                # Its sessions on another node began too recently to be
                # known here: it is told as that node's user.
                holder = defer.ensureDeferred(self.script("holder", user.key))
                holder.addCallback(self._heldElsewhere)
                holder.addErrback(self.fireFailed, "holder")

        d.addCallbacks(done, self.fireFailed, errbackArgs=("logout",))

    def _heldElsewhere(self, reply: Any) -> None:
        """
        Know the user the C{holder} script answered with C{reply} as
        another node's, in its rooms.
        """
        if not isinstance(reply, list):
            return
        info = UserInfo.fromJSON(str(reply[0]))
        rooms = tuple((str(key), str(name)) for key, name in reply[1])
        if info.node != self.name:
            self.mirror.arrived(info, rooms)

    def renamed(self, user: ChatUser, oldName: str) -> None:
        if not self.ready:
            self._changedAway = True
            return
        d = defer.ensureDeferred(
            self.script(
                "rename",
                name_key(oldName),
                user.key,
                self.name,
                oldName,
                self._userInfo(user).toJSON(),
            )
        )

        def done(reply: object) -> None:
            if str(reply) != "1":
                # The old name is not this node's in the cluster any more:
                # this node was taken for dead, and its user with it.
                self._lost(user)

        d.addCallbacks(done, self.fireFailed, errbackArgs=("rename",))

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
        for session in list(user.sessions):
            session.mind.disconnect(NAME_LOST)

    def joined(self, user: ChatUser, room: Room) -> None:
        if not self.ready:
            self._changedAway = True
            return
        self.streams.joining(room.key)
        d = defer.ensureDeferred(
            self.script("join", room.key, room.name, user.key, user.name, self.name)
        )

        def placed(place: object) -> None:
            self.streams.follow(room.key, str(place))

        def failed(reason: Failure) -> None:
            self.streams.joinFailed(room.key, reason)
            self.fireFailed(reason, "join")

        d.addCallbacks(placed, failed)

    def parted(self, user: ChatUser, room: Room, reason: str) -> None:
        self._fire("part", room.key, user.key, user.name, self.name, reason)
        self.streams.unfollowIfEmpty(room, user)

    def away(self, user: ChatUser) -> None:
        self._fire("away", user.key, self.name, self._userInfo(user).toJSON())

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
        self.outage.publish(
            room,
            kind,
            sender,
            self.sessions.of(sender),
            text,
            notice=notice,
            tags=tags,
        )

    def whisper(self, key: str, nodes: Iterable[str], event: Whispered) -> None:
        if not self.ready:
            who = event.sender if event.echo else event.recipient
            raise ClusterUnavailable(f"{who} cannot be reached")
        message = Whisper(
            to=key,
            sender=event.sender,
            text=event.text,
            time=event.time,
            notice=event.notice,
            action=event.action,
            tags=event.tags,
            msgid=event.msgid,
            recipient=event.recipient,
            echo=event.echo,
        )
        for node in nodes:
            self.inbox.send(node, message)

    def kick(self, key: str, nodes: Iterable[str], reason: str) -> None:
        for node in nodes:
            self.inbox.send(node, Kick(to=key, reason=reason))

    def endSession(self, key: str, session: str, node: str, reason: str) -> None:
        self.inbox.send(node, EndSession(to=key, session=session, reason=reason))

    def marked(
        self, key: str, nodes: Iterable[str], target: str, event: ReadMarked
    ) -> None:
        message = ReadMoved(
            to=key,
            target=target,
            shown=event.target,
            id=event.id or 0,
            stamp=event.stamp or 0,
            unread=event.unread,
        )
        for node in nodes:
            self.inbox.send(node, message)

    def historyMark(self, room: Room) -> defer.Deferred[int | None]:
        return self.streams.historyMark(room)

    def moderated(self, roomKey: str, event: ChatEvent) -> None:
        self.moderation.moderated(roomKey, event)

    def claimRoom(self, user: ChatUser, room: Room) -> None:
        self.moderation.claimRoom(user, room)

    # IModerationStore: the realm's moderation state is kept in Redis

    def loadModeration(self) -> defer.Deferred[list[StateRecord]]:
        return self.moderation.loadModeration()

    def putModeration(self, record: StateRecord) -> None:
        self.moderation.putModeration(record)

    def deleteModeration(self, kind: str, scope: str, key: str) -> None:
        self.moderation.deleteModeration(kind, scope, key)

    def expireModeration(self, record: StateRecord) -> defer.Deferred[bool]:
        return self.moderation.expireModeration(record)
