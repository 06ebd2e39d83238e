"""
Moderation across a cluster: the state kept in Redis for every node (an
L{IModerationStore}), and the changes told to every node at once.

The state is one hash, C{chat:moderation}: a field for each record of
L{chatserver.core.moderation.store} (the JSON list C{[kind, scope, key]}),
its value the record's.  Every node reads it when it joins the cluster,
and again when it comes back after Redis was away.

A change a moderator makes on one node is applied there at once, kept in
the hash, and sent to the others as a typed message of the presence
stream (L{chatserver.cluster.messages.MODERATION}), which each applies to
its L{chatserver.core.moderation.state.Moderation} and tells its members
of: a ban set on one node refuses a join on every node from the moment
the others read it.  A ban's end is data (C{endsAt}): every node ends it
on its own clock, and the C{expire} script forgets it in Redis once, so
that one node (the first) logs it and adds it to the room's log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.cluster import keys
from chatserver.cluster.messages import (
    BanLifted,
    BanSet,
    InviteSent,
    Logged,
    Moderated,
    ModesSet,
    RoleSet,
    RoomKick,
    to_fields,
)
from chatserver.core.events import (
    BanChanged,
    ChatEvent,
    Invited,
    Kicked,
    ModeChanged,
    RoleChanged,
)
from chatserver.core.moderation.checks import who_of
from chatserver.core.moderation.masks import parse_mask
from chatserver.core.moderation.modes import RoomModes
from chatserver.core.moderation.records import KLINE, Ban, LogEntry
from chatserver.core.moderation.state import LOG
from chatserver.core.moderation.store import IModerationStore, StateRecord
from chatwire.errors import ChatError
from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser

log = Logger(namespace=LOG_NAMESPACE)

STATE = keys.PREFIX + "moderation"
"""
The hash of the cluster's moderation state.
"""


def _field(kind: str, scope: str, key: str) -> str:
    return json.dumps([kind, scope, key])


@implementer(IModerationStore)
class RedisModeration:
    """
    The cluster's moderation: its state in Redis, and the changes between
    nodes (see the module's documentation).

    @param node: This node.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self._first: defer.Deferred[list[StateRecord]] = defer.Deferred()
        handlers: dict[type[Any], Callable[[Any], None]] = {
            BanSet: self._banSet,
            BanLifted: self._banLifted,
            RoleSet: self._roleSet,
            ModesSet: self._modesSet,
            RoomKick: self._roomKick,
            InviteSent: self._inviteSent,
            Logged: self._logged,
        }
        self.handlers = {kind: _guarded(each) for kind, each in handlers.items()}

    # IModerationStore

    def loadModeration(self) -> defer.Deferred[list[StateRecord]]:
        """
        @return: A L{defer.Deferred} firing with the cluster's state once
            this node has first joined the cluster.
        """
        return self._first

    async def joined(self) -> None:
        """
        This node (re)joins the cluster: read the state (the first time,
        for L{loadModeration}; after Redis was away, to apply what
        changed meanwhile).
        """
        reply = await self.node.commands.execute("HGETALL", STATE)
        records = []
        for field, value in zip(reply[::2], reply[1::2], strict=True):
            try:
                kind, scope, key = json.loads(field)
            except (ValueError, TypeError):
                continue
            records.append(StateRecord(str(kind), str(scope), str(key), str(value)))
        if not self._first.called:
            self._first.callback(records)
        else:
            # What changed while this node was away (the snapshot it takes
            # skips the presence entries it missed).
            self.node.realm.moderation.replace(records)

    def putModeration(self, record: StateRecord) -> None:
        self._command(
            "HSET", STATE, _field(record.kind, record.scope, record.key), record.value
        )
        if record.kind == LOG:
            room = self.node.realm.rooms.get(record.scope)
            self._announce(
                Logged(
                    node=self.node.name,
                    room=record.scope,
                    roomName=room.name if room is not None else "",
                    entry=record.value,
                )
            )

    def deleteModeration(self, kind: str, scope: str, key: str) -> None:
        self._command("HDEL", STATE, _field(kind, scope, key))

    def expireModeration(self, record: StateRecord) -> defer.Deferred[bool]:
        if not self.node.ready:
            return defer.succeed(True)
        d = defer.ensureDeferred(
            self.node.script(
                "expire", _field(record.kind, record.scope, record.key), record.value
            )
        )
        return d.addCallback(lambda reply: str(reply) == "1")

    def _command(self, *args: object) -> None:
        if not self.node.ready:
            log.warn(
                "A moderation change is not kept in Redis: this node is cut off"
                " from its cluster",
                chat_event="cluster",
            )
            return
        self.node.commands.execute(*args).addErrback(self.node.fireFailed, "moderation")

    def _announce(self, message: Moderated) -> None:
        if not self.node.ready:
            return
        d = defer.ensureDeferred(self.node.script("moderate", *_words(message)))
        d.addErrback(self.node.fireFailed, message.KIND)

    # What this node's moderators did

    def moderated(self, roomKey: str, event: ChatEvent) -> None:
        """
        Tell the other nodes of C{event}, a change of the room whose key is
        C{roomKey} (C{""} for a kline).
        """
        message = self._message(roomKey, event)
        if message is not None:
            self._announce(message)

    def _message(self, roomKey: str, event: ChatEvent) -> Moderated | None:
        node = self.node.name
        moderation = self.node.realm.moderation
        if isinstance(event, BanChanged):
            room, scope = event.room, roomKey
            if not event.added:
                return BanLifted(
                    node=node,
                    room=scope,
                    roomName=room,
                    actor=event.actor,
                    kind=event.kind,
                    mask=event.mask,
                )
            maskKey = parse_mask(event.mask).key
            if event.kind == KLINE:
                found = moderation.klines.get(maskKey)
            else:
                found = moderation.room(scope).masks(event.kind).get(maskKey)
            if found is None:
                return None
            return BanSet(
                node=node,
                room=scope,
                roomName=room,
                actor=event.actor,
                ban=found[1].toJSON(),
            )
        if isinstance(event, RoleChanged):
            return RoleSet(
                node=node,
                room=roomKey,
                roomName=event.room,
                actor=event.actor,
                key=name_key(event.name),
                name=event.name,
                role=event.role,
                given=event.given,
            )
        if isinstance(event, ModeChanged):
            modes = moderation.room(roomKey).modes
            return ModesSet(
                node=node,
                room=roomKey,
                roomName=event.room,
                actor=event.actor,
                modes=json.dumps(modes.asDict()),
                changes=event.changes,
                arguments=tuple(event.arguments),
            )
        if isinstance(event, Kicked):
            return RoomKick(
                node=node,
                room=roomKey,
                roomName=event.room,
                actor=event.actor,
                key=name_key(event.name),
                name=event.name,
                reason=event.reason,
            )
        if isinstance(event, Invited):
            return InviteSent(
                node=node,
                room=roomKey,
                roomName=event.room,
                actor=event.actor,
                key=name_key(event.name),
                name=event.name,
            )
        return None

    def claimRoom(self, user: ChatUser, room: Room) -> None:
        """
        C{user} made C{room} on this node: it is its operator if the
        C{maker} script says no node's user made it first.
        """
        if not self.node.ready:
            return
        d = defer.ensureDeferred(
            self.node.script("maker", room.key, user.key, self.node.name)
        )

        def made(reply: object) -> None:
            if str(reply) == "1":
                self.node.realm.madeRoom(user, room)

        d.addCallbacks(made, self.node.fireFailed, errbackArgs=("maker",))

    # What other nodes' moderators did

    def _room(self, message: Moderated) -> Room | None:
        return self.node.realm.rooms.get(message.room)

    def _banSet(self, message: BanSet) -> None:
        realm = self.node.realm
        ban = Ban.fromJSON(message.ban)
        mask = realm.moderation.applyBan(message.room, ban)
        if ban.kind == KLINE:
            said = (
                f"Banned from the server: {ban.reason}"
                if ban.reason
                else "Banned from the server"
            )
            actor = name_key(message.actor)
            # An account goes with all its sessions when one of them matches.
            for user in list(realm.users()):
                sessions = list(user.sessions)
                if user.key != actor and any(
                    mask.matches(who_of(session)) for session in sessions
                ):
                    for session in sessions:
                        session.mind.disconnect(said)
            return
        room = self._room(message)
        if room is not None:
            realm.tell(
                room,
                BanChanged(
                    room.name,
                    message.actor,
                    ban.kind,
                    ban.mask,
                    True,
                    ban.endsAt,
                    ban.reason,
                ),
            )

    def _banLifted(self, message: BanLifted) -> None:
        realm = self.node.realm
        maskKey = parse_mask(message.mask).key
        ban = realm.moderation.removeBan(message.room, message.kind, maskKey, False)
        room = self._room(message)
        if ban is not None and room is not None:
            realm.tell(
                room, BanChanged(room.name, message.actor, ban.kind, ban.mask, False)
            )

    def _roleSet(self, message: RoleSet) -> None:
        realm = self.node.realm
        changed = realm.moderation.setRole(
            message.room, message.key, message.role, message.given, write=False
        )
        room = self._room(message)
        if changed and room is not None:
            realm.tell(
                room,
                RoleChanged(
                    room.name, message.actor, message.name, message.role, message.given
                ),
            )

    def _modesSet(self, message: ModesSet) -> None:
        realm = self.node.realm
        modes = RoomModes(**json.loads(message.modes))
        realm.moderation.setModes(message.room, modes, write=False)
        room = self._room(message)
        if room is not None:
            realm.tell(
                room,
                ModeChanged(
                    room.name, message.actor, message.changes, message.arguments
                ),
            )

    def _roomKick(self, message: RoomKick) -> None:
        realm = self.node.realm
        room = self._room(message)
        if room is not None:
            event = Kicked(room.name, message.actor, message.name, message.reason)
            realm.remoteKicked(room, message.key, event)

    def _inviteSent(self, message: InviteSent) -> None:
        realm = self.node.realm
        realm.moderation.room(message.room).invited.add(message.key)
        user = realm.get(message.key)
        if user is not None:
            realm.fanout.toUser(
                user, Invited(message.roomName, message.actor, message.name)
            )

    def _logged(self, message: Logged) -> None:
        self.node.realm.moderation.record(
            message.room, LogEntry.fromJSON(message.entry), write=False
        )


def _guarded(handler: Callable[[Any], None]) -> Callable[[Any], None]:
    """
    @return: C{handler}, logging a message it cannot read (a bad mask or
        JSON from another node) instead of raising.
    """

    def handle(message: Any) -> None:
        try:
            handler(message)
        except (ValueError, TypeError, KeyError, ChatError) as e:
            log.warn(
                "A {kind} message that cannot be applied, skipped: {why}",
                kind=message.KIND,
                why=str(e),
                chat_event="cluster",
            )

    return handle


def _words(message: Moderated) -> list[str]:
    return [word for field in to_fields(message).items() for word in field]
