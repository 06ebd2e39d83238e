"""
The moderation state of the whole server, in memory: each room's modes,
bans, mutes, roles, invitations and log, and the server's klines, with
the checks the core makes before a join, a line, a topic and a login.

Every change is written behind to an L{IModerationStore}; what has an end
ends by itself on the clock (an L{IReactorTime}: a
L{twisted.internet.task.Clock} in tests), and the chat is told through
L{Moderation.expired}.

In a cluster every node holds the whole state, and applies the changes
the others make (the methods that take C{write=False}); the end of a ban
is data (its C{endsAt}), and every node ends it on its own clock.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.core.moderation.masks import BanMask, Who, parse_mask
from chatserver.core.moderation.modes import RoomModes
from chatserver.core.moderation.records import KLINE, Ban, LogEntry
from chatserver.core.moderation.roles import OPERATOR, ROLES
from chatserver.core.moderation.store import (
    IModerationStore,
    MemoryModerationStore,
    StateRecord,
)
from chatwire.errors import ChatError

log = Logger(namespace=LOG_NAMESPACE)

MODLOG_SIZE = 50
"""
How many moderation actions each room's log keeps (C{/modlog}).
"""

MODES = "modes"
ROLE = "role"
LOG = "log"


@dataclass(slots=True)
class RoomModeration:
    """
    The moderation state of one room (which need not exist now).

    @ivar bans: The bans, by mask key.
    @ivar mutes: The mutes, by mask key.
    @ivar roles: The members' roles (C{"o"}, C{"v"}, C{"ov"}), by name key.
    @ivar invited: Who was invited (C{+i}), by name key, until they join.
    @ivar log: The last L{MODLOG_SIZE} actions, oldest first.
    """

    modes: RoomModes = field(default_factory=RoomModes)
    bans: dict[str, tuple[BanMask, Ban]] = field(default_factory=dict)
    mutes: dict[str, tuple[BanMask, Ban]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    invited: set[str] = field(default_factory=set)
    log: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=MODLOG_SIZE))
    logKeys: deque[str] = field(default_factory=lambda: deque(maxlen=MODLOG_SIZE))

    def kept(self) -> bool:
        """
        @return: Whether anything is set that outlives the room's members.
        """
        return bool(
            self.bans
            or self.mutes
            or self.roles
            or self.log
            or not self.modes.isDefault()
        )

    def masks(self, kind: str) -> dict[str, tuple[BanMask, Ban]]:
        return self.mutes if kind == "mute" else self.bans


class Moderation:
    """
    The server's moderation state (see the module's documentation).

    @ivar keepRoles: Whether roles are kept when a member leaves, and
        across restarts: names are accounts (C{--auth}).  Without accounts
        a role is the session's, and ends when it leaves the room.
    @ivar operatorAccounts: The name keys of the accounts that are server
        operators at login (C{--operator}).
    @ivar operCheckers: The credentials checkers of C{/oper} (C{--oper}).
    @ivar expired: Called with the room's key (C{""} for a kline) and the
        ban, mute or kline that ended by itself.
    """

    def __init__(
        self,
        clock: IReactorTime,
        store: IModerationStore | None = None,
        *,
        keepRoles: bool = False,
    ) -> None:
        self.clock = clock
        self.store: IModerationStore = (
            store if store is not None else MemoryModerationStore()
        )
        self.keepRoles = keepRoles
        self.operatorAccounts: frozenset[str] = frozenset()
        self.operCheckers: Sequence[ICredentialsChecker] = ()
        self.rooms: dict[str, RoomModeration] = {}
        self.klines: dict[str, tuple[BanMask, Ban]] = {}
        self.expired: Callable[[str, Ban], None] = lambda scope, ban: None
        self._timers: dict[tuple[str, str, str], IDelayedCall] = {}
        self._logCount = 0

    # Reading the store

    def load(self) -> defer.Deferred[None]:
        """
        Read the state kept by the store (once, at start); what ended while
        the server was down is forgotten.
        """
        return self.store.loadModeration().addCallback(self.restore)

    def replace(self, records: Iterable[StateRecord]) -> None:
        """
        Hold what C{records} say instead of the bans, mutes, klines, modes
        and (with accounts) roles held now: in a cluster, the state kept in
        Redis when this node comes back after losing it.  The logs, the
        invitations and the roles of sessions are kept.
        """
        self.stop()
        self.klines.clear()
        for state in self.rooms.values():
            state.bans.clear()
            state.mutes.clear()
            state.modes = RoomModes()
            if self.keepRoles:
                state.roles.clear()
        self.restore(record for record in records if record.kind != LOG)

    def restore(self, records: Iterable[StateRecord]) -> None:
        """
        Apply C{records} (at start, or in a cluster that this node joins
        again): a record that cannot be read is logged and skipped.
        """
        records = list(records)
        logged = sorted(
            (record for record in records if record.kind == LOG),
            key=lambda record: (record.scope, _log_order(record.key)),
        )
        others = [record for record in records if record.kind != LOG]
        for record in [*others, *logged]:
            try:
                self._restoreOne(record)
            except (ValueError, TypeError, KeyError, ChatError) as e:
                log.warn(
                    "Moderation record {kind} {scope} {key} is unreadable: {why}",
                    kind=record.kind,
                    scope=record.scope,
                    key=record.key,
                    why=str(e),
                    chat_event="error",
                )

    def _restoreOne(self, record: StateRecord) -> None:
        if record.kind == MODES:
            self.room(record.scope).modes = RoomModes(**json.loads(record.value))
        elif record.kind == ROLE:
            self.room(record.scope).roles[record.key] = record.value
        elif record.kind == LOG:
            self._log(record.scope, LogEntry.fromJSON(record.value), record.key, True)
        else:
            ban = Ban.fromJSON(record.value)
            if ban.endsAt is not None and ban.endsAt <= self.clock.seconds():
                self.store.deleteModeration(record.kind, record.scope, record.key)
                return
            self._addBan(record.scope, parse_mask(ban.mask), ban, write=False)

    # Rooms and roles

    def room(self, roomKey: str) -> RoomModeration:
        """
        @return: The state of the room whose key is C{roomKey}, made if new.
        """
        state = self.rooms.get(roomKey)
        if state is None:
            state = self.rooms[roomKey] = RoomModeration()
        return state

    def forgetRoom(self, roomKey: str) -> None:
        """
        The room whose key is C{roomKey} has no member any more: forget its
        state unless some of it is kept.
        """
        state = self.rooms.get(roomKey)
        if state is not None and not state.kept():
            del self.rooms[roomKey]

    def roles(self, roomKey: str, nameKey: str) -> str:
        """
        @return: The role letters of C{nameKey} in the room, C{""} if none.
        """
        state = self.rooms.get(roomKey)
        return state.roles.get(nameKey, "") if state is not None else ""

    def hasOperators(self, roomKey: str) -> bool:
        state = self.rooms.get(roomKey)
        return state is not None and any(
            OPERATOR in roles for roles in state.roles.values()
        )

    def setRole(
        self, roomKey: str, nameKey: str, role: str, given: bool, write: bool = True
    ) -> bool:
        """
        Give (or take) C{role} to C{nameKey} in the room.

        @param write: Whether to keep the change (not when another node of
            the cluster made and kept it).

        @return: Whether that changed anything.
        """
        assert role in ROLES
        state = self.room(roomKey)
        before = state.roles.get(nameKey, "")
        after = "".join(
            r for r in ROLES if (r == role and given) or (r != role and r in before)
        )
        if after == before:
            return False
        if after:
            state.roles[nameKey] = after
        else:
            del state.roles[nameKey]
        if self.keepRoles and write:
            if after:
                self.store.putModeration(StateRecord(ROLE, roomKey, nameKey, after))
            else:
                self.store.deleteModeration(ROLE, roomKey, nameKey)
        return True

    def memberLeft(self, roomKey: str, nameKey: str) -> None:
        """
        C{nameKey} left the room: without accounts, its roles end.
        """
        state = self.rooms.get(roomKey)
        if state is None:
            return
        state.invited.discard(nameKey)
        if not self.keepRoles:
            state.roles.pop(nameKey, None)

    def renamed(self, roomKey: str, oldKey: str, newKey: str) -> None:
        """
        A member of the room, once C{oldKey}, is C{newKey} now.
        """
        state = self.rooms.get(roomKey)
        if state is not None and oldKey != newKey and oldKey in state.roles:
            roles = state.roles.pop(oldKey)
            if not self.keepRoles:
                state.roles[newKey] = roles

    def setModes(self, roomKey: str, modes: RoomModes, write: bool = True) -> None:
        self.room(roomKey).modes = modes
        if not write:
            return
        if modes.isDefault():
            self.store.deleteModeration(MODES, roomKey, "")
        else:
            self.store.putModeration(
                StateRecord(MODES, roomKey, "", json.dumps(modes.asDict()))
            )

    def record(self, roomKey: str, entry: LogEntry, write: bool = True) -> None:
        """
        Add C{entry} to the room's log, and keep it (unless not C{write});
        the entry it pushes out of the log is forgotten.
        """
        self._logCount += 1
        key = f"{entry.time!r}/{self._logCount}"
        self._log(roomKey, entry, key, write)
        if write:
            self.store.putModeration(StateRecord(LOG, roomKey, key, entry.toJSON()))

    def _log(self, roomKey: str, entry: LogEntry, key: str, forget: bool) -> None:
        state = self.room(roomKey)
        if forget and len(state.logKeys) == MODLOG_SIZE:
            self.store.deleteModeration(LOG, roomKey, state.logKeys[0])
        state.log.append(entry)
        state.logKeys.append(key)

    # Bans, mutes and klines

    def _masks(self, scope: str, kind: str) -> dict[str, tuple[BanMask, Ban]]:
        if kind == KLINE:
            return self.klines
        return self.room(scope).masks(kind)

    def addBan(self, scope: str, mask: BanMask, ban: Ban) -> None:
        """
        Set C{ban} (of its kind) on C{mask} in the room whose key is
        C{scope} (C{""} for a kline), replacing one on the same mask.
        """
        self._addBan(scope, mask, ban, write=True)

    def applyBan(self, scope: str, ban: Ban) -> BanMask:
        """
        Set C{ban}, which another node of the cluster set and kept.

        @return: Its mask.
        """
        mask = parse_mask(ban.mask)
        self._addBan(scope, mask, ban, write=False)
        return mask

    def _addBan(self, scope: str, mask: BanMask, ban: Ban, write: bool) -> None:
        self._masks(scope, ban.kind)[mask.key] = (mask, ban)
        where = (ban.kind, scope, mask.key)
        timer = self._timers.pop(where, None)
        if timer is not None and timer.active():
            timer.cancel()
        if ban.endsAt is not None:
            delay = max(0.0, ban.endsAt - self.clock.seconds())
            self._timers[where] = self.clock.callLater(
                delay, self._expire, scope, ban.kind, mask.key
            )
        if write:
            self.store.putModeration(
                StateRecord(ban.kind, scope, mask.key, ban.toJSON())
            )

    def removeBan(
        self, scope: str, kind: str, maskKey: str, write: bool = True
    ) -> Ban | None:
        """
        Lift the ban of C{kind} on the mask whose key is C{maskKey}.

        @param write: Whether to forget it in the store too (not when
            another node lifted it, nor when it ends by itself).

        @return: The ban lifted, or L{None} if there was none.
        """
        found = self._masks(scope, kind).pop(maskKey, None)
        if found is None:
            return None
        timer = self._timers.pop((kind, scope, maskKey), None)
        if timer is not None and timer.active():
            timer.cancel()
        if write:
            self.store.deleteModeration(kind, scope, maskKey)
        return found[1]

    def _expire(self, scope: str, kind: str, maskKey: str) -> None:
        self._timers.pop((kind, scope, maskKey), None)
        ban = self.removeBan(scope, kind, maskKey, write=False)
        if ban is None:
            return
        self.expired(scope, ban)
        ended = self.store.expireModeration(
            StateRecord(kind, scope, maskKey, ban.toJSON())
        )
        ended.addCallback(self._ended, scope, ban)
        ended.addErrback(
            lambda reason: log.failure(
                "Forgetting an ended ban failed", reason, chat_event="error"
            )
        )

    def _ended(self, forgotten: bool, scope: str, ban: Ban) -> None:
        """
        The store forgot C{ban}, which ended: if this call did (in a
        cluster, one node's), log it, once.
        """
        if forgotten:
            kind = ban.kind
            if scope:
                self.record(
                    scope,
                    LogEntry(self.clock.seconds(), "", f"{kind} ended", ban.mask),
                )
            log.info(
                "The {kind} on {mask} in {room} ended",
                chat_event="moderation",
                action="expired",
                kind=kind,
                mask=ban.mask,
                room=scope or "the server",
                target=ban.mask,
            )

    def bans(self, scope: str, kind: str) -> list[Ban]:
        """
        @return: The bans of C{kind} in the room whose key is C{scope}
            (C{""} for klines), oldest first.
        """
        if kind != KLINE and scope not in self.rooms:
            return []
        found = [ban for _, ban in self._masks(scope, kind).values()]
        return sorted(found, key=lambda ban: ban.setAt)

    def matching(self, scope: str, kind: str, who: Who) -> Ban | None:
        """
        @return: A ban of C{kind} that matches C{who} in the room whose key
            is C{scope} (C{""} for klines), or L{None}.
        """
        if kind == KLINE:
            entries = self.klines
        else:
            state = self.rooms.get(scope)
            if state is None:
                return None
            entries = state.masks(kind)
        for mask, ban in entries.values():
            if mask.matches(who):
                return ban
        return None

    def stop(self) -> None:
        """
        Cancel the timers of the bans that end (the reactor is stopping).
        """
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        self._timers.clear()


def _log_order(key: str) -> tuple[float, int]:
    """
    @return: Where the log entry kept under C{key} (C{TIME/N}) goes in its
        room's log: by time, then by the node's count.
    """
    time, _, count = key.partition("/")
    try:
        return float(time), int(count or 0)
    except ValueError:
        return 0.0, 0
