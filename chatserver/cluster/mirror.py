"""
A node's mirror of the other nodes' users and rooms: taken whole from
Redis when the node (re)joins the cluster (the C{snapshot} script), then
kept from the presence stream, one handler per kind of message, each
telling the realm through its methods for remote users and rooms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.cluster import streams
from chatserver.cluster.heartbeat import NODE_LOST
from chatserver.cluster.link import REPLY_TIMEOUT
from chatserver.cluster.messages import (
    Away,
    Dispatcher,
    Join,
    Login,
    Logout,
    Lost,
    Part,
    Presence,
    Rename,
    RoomInfo,
    SessionBegun,
    SessionEnded,
    Topic,
    UserInfo,
    session_from_json,
)
from chatserver.core.remote import RemoteSession, RemoteUser

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode

log = Logger(namespace=LOG_NAMESPACE)

_T = TypeVar("_T")


def remote_user(info: UserInfo) -> RemoteUser:
    """
    @return: The user of another node C{info} describes.
    """
    return RemoteUser.fromInfo(info.details())


class PresenceMirror:
    """
    What C{node} knows of the others' users and rooms, and where it has
    read the presence stream to.

    @param node: This node.
    @ivar at: The id of the last presence entry read.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self.at = "0-0"
        # Claims waiting for the presence stream to be read up to a place.
        self._waits: list[tuple[tuple[int, int], defer.Deferred[None]]] = []
        self._dispatcher: Dispatcher[Presence] = Dispatcher(
            "presence",
            {
                Login: self._login,
                Logout: self._logout,
                Lost: self._lost,
                Join: self._join,
                Part: self._part,
                Rename: self._rename,
                Away: self._away,
                Topic: self._topic,
                SessionBegun: self._sessionBegun,
                SessionEnded: self._sessionEnded,
                **node.moderation.handlers,
            },
        )

    # The stream

    def read(self, id: str, fields: Mapping[str, str]) -> None:
        """
        Take the presence entry C{id}, unless it was read already.
        """
        if streams.stream_id(id) <= streams.stream_id(self.at):
            return
        self.at = id
        self.received(fields)

    def received(self, fields: Mapping[str, str]) -> None:
        """
        Take the presence entry C{fields}: give it to its kind's handler,
        unless this node made the change (and applied it then).
        """
        if fields.get("node") == self.node.name:
            return
        self._dispatcher.dispatch(fields)

    def readUpTo(self, place: str) -> defer.Deferred[None]:
        """
        @return: A L{Deferred} firing once this node has read the presence
            stream up to C{place}, or after L{REPLY_TIMEOUT} seconds, or
            when Redis is lost, whichever comes first.
        """
        at = streams.stream_id(place)
        if at <= streams.stream_id(self.at) or not self.node.ready:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self._waits.append((at, d))
        timeout = self.node.reactor.callLater(REPLY_TIMEOUT, _fire_once, d)
        return d.addBoth(lambda result: _cancelled(timeout, result))

    def caughtUp(self, giveUp: bool = False) -> None:
        """
        Fire the waits of L{readUpTo} for what was read (all of them if
        C{giveUp}).
        """
        if not self._waits:
            return
        read = streams.stream_id(self.at)
        waits, self._waits = self._waits, []
        for at, d in waits:
            if giveUp or at <= read:
                _fire_once(d)
            elif not d.called:
                self._waits.append((at, d))

    def sessionsAt(self, key: str, place: str, flat: Any) -> None:
        """
        Know C{flat} (a flat hash, session id to its JSON) as the sessions
        of the account whose name's key is C{key}, as the cluster held them
        at C{place} in the presence stream, unless this node has read the
        stream that far already (and knows them, or their end, from it).
        The stream's entries up to C{place} not read yet change nothing of
        them when read: a session's beginning is told again, and an end
        told up to C{place} is of a session not among them.
        """
        if streams.stream_id(place) <= streams.stream_id(self.at):
            return
        realm = self.node.realm
        for session, value in streams.fields(flat).items():
            kept = _read(session_from_json, value, "session")
            if kept is not None and kept.node != self.node.name:
                realm.remoteSessionBegun(key, session, kept)

    # The snapshot

    async def takeSnapshot(self) -> None:
        """
        Know the others' users and rooms as Redis holds them now.
        """
        node = self.node
        last, users, rooms, members, sessions = await node.script("snapshot")
        if streams.stream_id(str(last)) > streams.stream_id(self.at):
            self.at = str(last)
        realm = node.realm
        seen: dict[str, RemoteUser] = {}
        for key, value in streams.fields(users).items():
            info = _read(UserInfo.fromJSON, value, "user")
            if info is None or info.node == node.name:
                continue
            user = realm.remote.get(key)
            if user is None or user.node != info.node:
                user = remote_user(info)
            else:
                realm.remoteUpdated(user, info.details())
            seen[key] = user
        # Who left while this node was away.
        for key, user in list(realm.remote.items()):
            if key not in seen:
                realm.remoteLoggedOut(user, "Quit")
        for user in seen.values():
            realm.remoteLoggedIn(user)
        elsewhere: dict[str, dict[str, RemoteSession]] = {}
        for key, flat in sessions:
            for session, value in streams.fields(flat).items():
                kept = _read(session_from_json, value, "session")
                if kept is not None and kept.node != node.name:
                    elsewhere.setdefault(str(key), {})[session] = kept
        realm.remoteSessionsAre(elsewhere)
        roomInfo: dict[str, RoomInfo] = {}
        for key, value in streams.fields(rooms).items():
            described = _read(RoomInfo.fromJSON, value, "room")
            if described is not None:
                roomInfo[key] = described
        memberships = {room: streams.fields(flat) for room, flat in members}
        for roomKey, about in roomInfo.items():
            room = realm.remoteRoom(roomKey, about.name)
            realm.remoteTopic(room, about.topic, about.setter, about.time)
            there = memberships.get(roomKey, {})
            for key in list(room.remote):
                if key not in there:
                    realm.remoteParted(room, key, "Part")
            for key in there:
                remote = realm.remote.get(key)
                if remote is not None:
                    realm.remoteJoined(room, remote)
        for room in list(realm.rooms.values()):
            if room.key not in roomInfo:
                for key in list(room.remote):
                    realm.remoteParted(room, key, "Part")

    # One handler per kind

    def _login(self, message: Login) -> None:
        newcomer = remote_user(message.user)
        if self.node.realm.remoteLoggedIn(newcomer):
            log.info(
                "{name} logged in on node {node}",
                name=newcomer.name,
                node=newcomer.node,
                chat_event="peers",
            )

    def _logout(self, message: Logout) -> None:
        self._left(message.key, message.reason)

    def _lost(self, message: Lost) -> None:
        self._left(message.key, NODE_LOST)

    def _left(self, key: str, reason: str) -> None:
        # Its sessions end with it (they are not told one by one).
        self.node.realm.remoteSessionsEnded(key)
        user = self.node.realm.remote.get(key)
        if user is None:
            return
        self.node.realm.remoteLoggedOut(user, reason)
        log.info(
            "{name} left node {node} ({reason})",
            name=user.name,
            node=user.node,
            reason=reason,
            chat_event="peers",
        )

    def _join(self, message: Join) -> None:
        realm = self.node.realm
        user = realm.remote.get(message.key)
        if user is not None:
            realm.remoteJoined(realm.remoteRoom(message.room, message.roomName), user)
        elif realm.get(message.key) is not None:
            # An account online here too: its sessions here join as well.
            room = realm.remoteRoom(message.room, message.roomName)
            realm.joinedElsewhere(room, message.key)

    def _part(self, message: Part) -> None:
        realm = self.node.realm
        room = realm.rooms.get(message.room)
        if room is not None:
            realm.remoteParted(room, message.key, message.reason)

    def _rename(self, message: Rename) -> None:
        realm = self.node.realm
        if message.key == message.newKey:
            # An account's name changed case on one of its nodes: the same
            # account, whichever of its sessions the news names it by.
            here = realm.get(message.key)
            if here is not None and here.account is not None:
                realm.renamedElsewhere(here, message.newName)
                return
            known = realm.remote.get(message.key)
            if known is not None and known.account is not None:
                realm.remoteRenamed(known, message.newName)
                return
        session = message.user.session if message.user is not None else ""
        user = realm.remote.get(message.key)
        if user is None or (session and user.session != session):
            # This node no longer knows the user by its old name (the name
            # was claimed here since, or it heard the user leave first):
            # the user arrives under its new name, in its rooms.
            if message.user is not None:
                self.arrived(message.user, message.rooms)
            return
        realm.remoteRenamed(user, message.newName)

    def arrived(self, info: UserInfo, rooms: tuple[tuple[str, str], ...]) -> None:
        """
        Know the user of another node described by C{info}, in C{rooms}
        (pairs of room key and name), unless some user has its name here.
        """
        realm = self.node.realm
        user = remote_user(info)
        if not realm.remoteLoggedIn(user):
            return
        for roomKey, roomName in rooms:
            realm.remoteJoined(realm.remoteRoom(roomKey, roomName), user)

    def _away(self, message: Away) -> None:
        user = self.node.realm.remote.get(message.key)
        if user is not None:
            self.node.realm.remoteAway(user, message.away)
        here = self.node.realm.get(message.key)
        if here is not None:
            # An account online here too.
            self.node.realm.awayElsewhere(here, message.away)

    def _sessionBegun(self, message: SessionBegun) -> None:
        realm = self.node.realm
        realm.remoteSessionBegun(message.key, message.session, message.info)

    def _sessionEnded(self, message: SessionEnded) -> None:
        realm = self.node.realm
        realm.remoteSessionEnded(message.key, message.session, message.owner)

    def _topic(self, message: Topic) -> None:
        room = self.node.realm.rooms.get(message.room)
        if room is not None and not room.members:
            # Members here hear it from the room's stream.
            self.node.realm.remoteTopic(
                room, message.topic, message.setter, message.time
            )


def _read(parse: Callable[[str], _T], text: str, what: str) -> _T | None:
    """
    @return: What C{parse} reads in C{text}, a C{what} of the cluster's
        snapshot, or L{None} (logged) if it reads none.
    """
    try:
        return parse(text)
    except (ValueError, TypeError, KeyError) as e:
        log.warn(
            "A malformed {what} in the cluster's snapshot, skipped: {why}",
            what=what,
            why=str(e),
            chat_event="cluster",
        )
        return None


def _cancelled(call: IDelayedCall, result: Any) -> Any:
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
