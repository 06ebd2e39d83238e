"""
Everything the chat sends, coalesced per reactor turn and encoded once per
door.

A naive broadcast pays Python once per recipient per line: it formats,
encodes and writes each line for each user.  The L{Fanout} pays once per
event and door, and once per recipient per turn: sending an event only
appends it to the turn's log, and at the end of the turn (one
C{callLater(0)}, scheduled by the first event of the turn) each recipient
gets everything of that turn in one C{deliver}.  When the server is idle an
event is the only one of its turn and goes out as soon as the reactor has
finished reading: no delay is added.

Each recipient's door has a L{Codec}, which encodes events in one or more
I{forms} (the line door marks a room line with its room for a user in
several rooms, and leaves it unmarked for a user whose only room is the
default room).  An event is encoded at most once per codec and form, and
users who share a codec, a form and the same rooms share the very same
bytes.

The order is kept per recipient: what is sent to one user alone (replies,
errors, private messages) is merged with the room events at the place it
was sent; a user who joins a room in the middle of a turn gets only that
room's events from then on, one who leaves it only those from before, and
one excluded from an event does not get it.

There is one way to deliver, the one production runs: tests drive it on a
L{twisted.internet.task.Clock} and end the turn by advancing it (see
L{chatserver.testing}).

Nothing one event or one recipient does stops the others: an event a codec
cannot encode is logged once and left out for that codec's readers only,
a C{deliver} that raises is logged and the next recipient served, and the
turn's state is cleared whatever happens.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from itertools import count
from typing import TYPE_CHECKING, Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.core.events import ChatEvent

if TYPE_CHECKING:
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser


log = Logger(namespace=LOG_NAMESPACE)


class Codec(Protocol):
    """
    How one door encodes events: one per door, shared by its sessions.
    """

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        """
        @param rooms: The rooms the reader is in.
        @param room: The room the event is about, or L{None}.
        @return: Which form of the event this reader gets; readers given
            equal forms get the same bytes.
        """

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        """
        @return: C{event} in the given form, ready to write.
        """


# Something sent to one user alone: its log position, its order among such
# things, and bytes, the position of an event sent to chosen users, or an
# event (with its room) for this user only.
_Direct = tuple[int, int, "bytes | int | tuple[ChatEvent, Room | None]"]
# A room joined (True) or left: log position, order, room.
_Move = tuple[int, int, "Room", bool]


class Gap:
    """
    A place in one user's output kept for something not known yet.

    @ivar data: What fills it, once filled.
    @ivar filled: Whether it is filled.
    """

    __slots__ = ("data", "filled")

    def __init__(self) -> None:
        self.data = b""
        self.filled = False


class Fanout:
    """
    The output of one chat.

    @param clock: Schedules the flush at the end of the turn.
    @ivar heldLimit: Bytes that may wait behind an unfilled gap (see
        L{hold}) before the gap is given up.
    @ivar deliveries: Writes handed to recipients so far (one per recipient
        per turn), by the class of the recipients' minds (their door's).
    @ivar bytesOut: Bytes handed to recipients so far.
    @ivar bytesByMind: The same by the class of the recipients' minds.
    """

    def __init__(self, clock: IReactorTime, heldLimit: int = 1 << 20) -> None:
        self._clock = clock
        self.heldLimit = heldLimit
        self.deliveries: dict[type, int] = {}
        self.bytesOut = 0
        self.bytesByMind: dict[type, int] = {}
        self._flushCall: IDelayedCall | None = None
        self._order = count()
        # This turn's events in order, each with its room (None: sent to
        # chosen users).
        self._entries: list[tuple[ChatEvent, Room | None]] = []
        # The positions of each room's events in _entries.
        self._roomEntries: dict[Room, list[int]] = {}
        # Who was left out of which event.
        self._excluded: dict[ChatUser, set[int]] = {}
        # What was sent to one user alone, with the log position it follows:
        # bytes, an event of the log sent to chosen users, or an event for
        # this user only (with its room).
        self._direct: dict[ChatUser, list[_Direct]] = {}
        # Rooms joined (True) or left (False) during the turn.
        self._moves: dict[ChatUser, list[_Move]] = {}
        # Output held back for users waiting for a history replay.
        self._held: dict[ChatUser, list[bytes | Gap]] = {}
        self._heldSize: dict[ChatUser, int] = {}
        # The events (by identity) and codecs whose encoding failed and was
        # logged, this turn.
        self._failed: set[tuple[int, Codec]] = set()

    @property
    def pending(self) -> bool:
        """
        Whether anything waits for the end of the turn.
        """
        return bool(self._entries or self._direct)

    def _schedule(self) -> None:
        if self._flushCall is None:
            self._flushCall = self._clock.callLater(0, self.flush)

    def _encode(self, codec: Codec, event: ChatEvent, form: Hashable) -> bytes:
        """
        @return: C{event} encoded by C{codec} in C{form}, or nothing when
            the codec fails on it: the failure is logged (once per event and
            codec in a turn) and that codec's readers miss the event.
        """
        try:
            return codec.encode(event, form)
        except Exception:
            self._encodingFailed(codec, event)
            return b""

    def _encodingFailed(self, codec: Codec, event: ChatEvent) -> None:
        """
        Log, once per event and codec in a turn, the exception being
        handled: C{codec} could not encode C{event}.
        """
        key = (id(event), codec)
        if key not in self._failed:
            self._failed.add(key)
            log.failure(
                "Cannot encode {event!r} for the {codec} door: "
                "its readers there miss it",
                chat_event="error",
                event=event,
                codec=type(codec).__name__,
            )

    def _encodeFor(
        self,
        user: ChatUser,
        event: ChatEvent,
        rooms: Collection[Room],
        room: Room | None,
    ) -> bytes:
        """
        @return: C{event}, about C{room}, encoded for C{user} alone, who is
            in C{rooms}: as L{_encode}, the form included.
        """
        codec = user.codec
        try:
            return codec.encode(event, codec.form(rooms, room))
        except Exception:
            self._encodingFailed(codec, event)
            return b""

    def _deliveryFailed(self, user: ChatUser) -> None:
        """
        Log that delivering to C{user} raised: what it was sent is lost for
        it alone.
        """
        log.failure(
            "Delivering to {name} ({peer}) failed",
            chat_event="error",
            name=user.name,
            peer=user.mind.peer,
        )

    def _deliverEach(self, users: Iterable[ChatUser], data: bytes) -> None:
        """
        Deliver C{data} to each of C{users}, going on past any that fails.
        """
        for user in users:
            try:
                self._deliver(user, data)
            except Exception:
                self._deliveryFailed(user)

    def _deliver(self, user: ChatUser, data: bytes) -> None:
        held = self._held.get(user)
        if held is None:
            user.mind.deliver(data)
            return
        held.append(data)
        size = self._heldSize.get(user, 0) + len(data)
        self._heldSize[user] = size
        if size > self.heldLimit:
            # A gap that takes this long to fill must not cost unbounded
            # memory: what it was kept for is given up.
            self.unhold(user)

    # Sending

    def toRoom(
        self, room: Room, event: ChatEvent, exclude: ChatUser | None = None
    ) -> None:
        """
        Send C{event} to every member of C{room} but C{exclude}.
        """
        position = len(self._entries)
        self._entries.append((event, room))
        positions = self._roomEntries.get(room)
        if positions is None:
            self._roomEntries[room] = [position]
        else:
            positions.append(position)
        if exclude is not None:
            skip = self._excluded.get(exclude)
            if skip is None:
                self._excluded[exclude] = {position}
            else:
                skip.add(position)
        self._schedule()

    def toUsers(self, users: Iterable[ChatUser], event: ChatEvent) -> None:
        """
        Send C{event} to each of C{users} once (to every session of each),
        whatever rooms they share.
        """
        position = len(self._entries)
        self._entries.append((event, None))
        sessions = {session for user in users for session in user.sessions}
        for session in sessions:
            self._addDirect(session, position + 1, position)

    def toAccount(
        self, user: ChatUser, event: ChatEvent, room: Room | None = None
    ) -> None:
        """
        Send C{event}, about C{room} (if any), to every session of C{user}'s
        account.
        """
        for session in user.sessions:
            self._addDirect(session, len(self._entries), (event, room))

    def toUser(
        self, user: ChatUser, event: ChatEvent, room: Room | None = None
    ) -> None:
        """
        Send C{event}, about C{room} (if any), to C{user} alone (this
        session: a reply).
        """
        self._addDirect(user, len(self._entries), (event, room))

    def send(self, user: ChatUser, data: bytes) -> None:
        """
        Send C{data}, already encoded by the user's door, to C{user} alone,
        in order with the events it gets.
        """
        self._addDirect(user, len(self._entries), data)

    def _addDirect(
        self,
        user: ChatUser,
        position: int,
        item: bytes | int | tuple[ChatEvent, Room | None],
    ) -> None:
        direct = self._direct.get(user)
        if direct is None:
            direct = self._direct[user] = []
        direct.append((position, next(self._order), item))
        self._schedule()

    # Membership

    def joined(self, user: ChatUser, room: Room) -> None:
        """
        C{user} has just joined C{room}: it gets that room's events from now
        on.
        """
        if self._entries:
            self._moves.setdefault(user, []).append(
                (len(self._entries), next(self._order), room, True)
            )

    def parted(self, user: ChatUser, room: Room) -> None:
        """
        C{user} has just left C{room}: it gets none of that room's events
        from now on.
        """
        if self._entries:
            self._moves.setdefault(user, []).append(
                (len(self._entries), next(self._order), room, False)
            )

    def left(self, user: ChatUser) -> None:
        """
        C{user} is gone: forget what was waiting for it.
        """
        self._direct.pop(user, None)
        self._excluded.pop(user, None)
        self._moves.pop(user, None)
        self._held.pop(user, None)
        self._heldSize.pop(user, None)

    # Holding back

    def hold(self, user: ChatUser) -> Gap:
        """
        Keep a gap in C{user}'s output here, for something that is not known
        yet (a history replay being read): what was sent to it before goes
        out now, what is sent after waits until the gap is L{fill}ed.

        @return: The gap, to fill.
        """
        self.flushOne(user)
        gap = Gap()
        self._held.setdefault(user, []).append(gap)
        return gap

    def fill(
        self,
        user: ChatUser,
        gap: Gap,
        event: ChatEvent | None = None,
        room: Room | None = None,
    ) -> None:
        """
        Put C{event} (about C{room}), or nothing, in C{gap}, and send
        C{user} what no longer waits for an earlier gap.
        """
        held = self._held.get(user)
        if held is None or not any(item is gap for item in held):
            return
        self.flushOne(user)
        if event is not None:
            try:
                gap.data = self._encodeFor(user, event, user.rooms, room)
            finally:
                self._failed.clear()
        gap.filled = True
        ready: list[bytes] = []
        while held:
            first = held[0]
            if isinstance(first, Gap):
                if not first.filled:
                    break
                ready.append(first.data)
            else:
                ready.append(first)
            del held[0]
        if not held:
            del self._held[user]
            self._heldSize.pop(user, None)
        data = b"".join(ready)
        if data:
            self._handOver(user, data)

    def unhold(self, user: ChatUser) -> None:
        """
        Send C{user} everything held back, leaving out the gaps not filled
        yet (they will stay empty): before its connection closes, say.
        """
        if user not in self._held:
            return
        self.flushOne(user)
        held = self._held.pop(user)
        self._heldSize.pop(user, None)
        data = b"".join(item.data if isinstance(item, Gap) else item for item in held)
        if data:
            self._handOver(user, data)

    def _handOver(self, user: ChatUser, data: bytes) -> None:
        """
        Deliver C{data}, no longer held, to C{user}.
        """
        try:
            user.mind.deliver(data)
        except Exception:
            self._deliveryFailed(user)

    # Delivering

    def flushOne(self, user: ChatUser) -> None:
        """
        Deliver what waits for C{user} now (before its connection closes,
        say); the rest of the turn is unchanged.
        """
        if not self.pending:
            return
        try:
            data = b"".join(self._linesFor(user, {}))
        except Exception:
            log.failure(
                "The fan-out lost what waited for {name}",
                chat_event="error",
                name=user.name,
            )
            data = b""
        finally:
            self._direct.pop(user, None)
        self._excluded.pop(user, None)
        if self._entries:
            # From now on it gets this turn's events as if it had joined its
            # rooms now.
            self._moves[user] = [
                (len(self._entries), next(self._order), room, True)
                for room in user.rooms
            ]
        if data:
            self._deliverEach((user,), data)

    def _encoded(
        self,
        cache: dict[tuple[int, Codec, Hashable], bytes],
        position: int,
        codec: Codec,
        form: Hashable,
    ) -> bytes:
        """
        @return: The event at C{position} of this turn's log, encoded by
            C{codec} in C{form}, once per turn.
        """
        key = (position, codec, form)
        data = cache.get(key)
        if data is None:
            event = self._entries[position][0]
            data = cache[key] = self._encode(codec, event, form)
        return data

    def _linesFor(
        self, user: ChatUser, cache: dict[tuple[int, Codec, Hashable], bytes]
    ) -> list[bytes]:
        """
        @return: The encoded events of this turn for C{user}, who joined or
            left rooms, was sent something alone, or was excluded from
            something during the turn.
        """
        entries = self._entries
        codec = user.codec
        moves = self._moves.get(user, [])
        rooms = list(user.rooms)
        # The rooms it was in at the start of the turn: undo the moves.
        for _, _, room, joined in reversed(moves):
            if joined:
                if room in rooms:
                    rooms.remove(room)
            elif room not in rooms:
                rooms.append(room)
        concerned = set(rooms) | set(user.rooms) | {move[2] for move in moves}
        positions = sorted(
            p for room in concerned for p in self._roomEntries.get(room, ())
        )
        # What happens to this user alone, in the order it happened: rooms
        # joined or left (a Move), and what was sent to it alone.
        steps: list[_Move | _Direct] = [*moves, *self._direct.get(user, ())]
        steps.sort(key=lambda step: (step[0], step[1]))
        skip = self._excluded.get(user, ())
        out: list[bytes] = []
        done = 0

        def advance(upTo: int) -> None:
            nonlocal done
            while done < len(steps) and steps[done][0] <= upTo:
                step = steps[done]
                done += 1
                if len(step) == 4:
                    room, joined = step[2], step[3]
                    if joined and room not in rooms:
                        rooms.append(room)
                    elif not joined and room in rooms:
                        rooms.remove(room)
                    continue
                payload = step[2]
                if isinstance(payload, bytes):
                    out.append(payload)
                elif isinstance(payload, int):
                    out.append(self._encoded(cache, payload, codec, None))
                else:
                    event, about = payload
                    out.append(self._encodeFor(user, event, rooms, about))

        for position in positions:
            advance(position)
            about = entries[position][1]
            if about in rooms and position not in skip:
                form = codec.form(rooms, about)
                out.append(self._encoded(cache, position, codec, form))
        advance(len(entries))
        return out

    def _roomChunks(
        self,
        room: Room,
        codec: Codec,
        form: Hashable,
        cache: dict[tuple[int, Codec, Hashable], bytes],
        chunks: dict[tuple[Room, Codec, Hashable], list[bytes]],
    ) -> list[bytes]:
        """
        @return: This turn's events of C{room} encoded by C{codec} in
            C{form}, in the order of the room's positions, once per turn.
        """
        key = (room, codec, form)
        encoded = chunks.get(key)
        if encoded is None:
            encoded = chunks[key] = [
                self._encoded(cache, p, codec, form) for p in self._roomEntries[room]
            ]
        return encoded

    def _linesInRooms(
        self,
        user: ChatUser,
        cache: dict[tuple[int, Codec, Hashable], bytes],
        chunks: dict[tuple[Room, Codec, Hashable], list[bytes]],
    ) -> bytes:
        """
        @return: This turn's events of every room of C{user}, who stayed in
            the same rooms all turn and was sent nothing alone (but may have
            been left out of some events).
        """
        codec = user.codec
        rooms = user.rooms
        skip = self._excluded.get(user)
        mine: list[tuple[int, bytes]] = []
        for room in rooms:
            positions = self._roomEntries.get(room)
            if positions is None:
                continue
            encoded = self._roomChunks(
                room, codec, codec.form(rooms, room), cache, chunks
            )
            if skip is None:
                mine.extend(zip(positions, encoded, strict=True))
            else:
                mine.extend(
                    (p, data)
                    for p, data in zip(positions, encoded, strict=True)
                    if p not in skip
                )
        if len(rooms) > 1:
            mine.sort(key=lambda item: item[0])
        return b"".join(data for _, data in mine)

    def _soleRoomWrites(
        self,
        room: Room,
        *,
        special: set[ChatUser],
        several: set[ChatUser],
        cache: dict[tuple[int, Codec, Hashable], bytes],
        chunks: dict[tuple[Room, Codec, Hashable], list[bytes]],
        writes: list[tuple[bytes, list[ChatUser]]],
    ) -> None:
        """
        Add the writes of this turn's events of C{room} for its members whose
        only room it is: one encoding per codec, shared, with the list of
        the members who get it.  Members in several rooms, or left out of
        some events, and the sessions of an account with several, are
        added to C{several}.
        """
        excluded = self._excluded
        byCodec: dict[Codec, list[ChatUser]] = {}
        for member in room.members.values():
            if len(member.sessions) != 1:
                # An account's sessions each get the room's lines, in their
                # own door's codec.
                several.update(s for s in member.sessions if s not in special)
                continue
            if member in special:
                continue
            if len(member.rooms) != 1 or member in excluded:
                several.add(member)
                continue
            codec = member.codec
            sharing = byCodec.get(codec)
            if sharing is None:
                byCodec[codec] = [member]
            else:
                sharing.append(member)
        only = (room,)
        for codec, sharing in byCodec.items():
            form = codec.form(only, room)
            data = b"".join(self._roomChunks(room, codec, form, cache, chunks))
            if data:
                writes.append((data, sharing))

    def flush(self) -> None:
        """
        Deliver everything of this turn: one C{deliver} per recipient.
        """
        if self._flushCall is not None:
            if self._flushCall.active():
                self._flushCall.cancel()
            self._flushCall = None
        if not self.pending:
            self._moves.clear()
            self._excluded.clear()
            self._failed.clear()
            return
        try:
            writes = self._writes()
        except Exception:
            # Not an event's encoding (that costs the event alone): a fault
            # here loses the turn, and the fan-out goes on with the next.
            log.failure("The fan-out lost a turn", chat_event="error")
            writes = []
        finally:
            self._entries = []
            self._roomEntries = {}
            self._direct = {}
            self._moves = {}
            self._excluded = {}
            self._failed.clear()
        # Deliveries may send more (a user dropped for not reading leaves):
        # that belongs to the next turn.
        self._count(writes)
        if self._held:
            for data, users in writes:
                self._deliverEach(users, data)
            return
        for data, users in writes:
            try:
                # The loop that runs once per recipient per turn: kept to an
                # attribute look-up and a call.
                for user in users:
                    user.mind.deliver(data)
            except Exception:
                # Resume after the recipient that failed.
                self._deliveryFailed(user)
                self._deliverEach(users[users.index(user) + 1 :], data)

    def _count(self, writes: list[tuple[bytes, list[ChatUser]]]) -> None:
        """
        Count this turn's deliveries and bytes per write (a turn's bytes
        shared by many recipients of one codec), never per recipient: what
        C{--metrics} reports costs the fan-out nothing.
        """
        deliveries = self.deliveries
        byMind = self.bytesByMind
        bytesOut = 0
        for data, users in writes:
            if users:
                mind = type(users[0].mind)
                deliveries[mind] = deliveries.get(mind, 0) + len(users)
                written = len(data) * len(users)
                byMind[mind] = byMind.get(mind, 0) + written
                bytesOut += written
        self.bytesOut += bytesOut

    def _writes(self) -> list[tuple[bytes, list[ChatUser]]]:
        """
        @return: Everything of this turn encoded, with who gets it.
        """
        # Who joined or left rooms, or was sent something alone, this turn.
        special: set[ChatUser] = set()
        special.update(self._direct, self._moves)
        cache: dict[tuple[int, Codec, Hashable], bytes] = {}
        chunks: dict[tuple[Room, Codec, Hashable], list[bytes]] = {}
        # What to write, and to whom: most members of a room share one.
        writes: list[tuple[bytes, list[ChatUser]]] = []
        several: set[ChatUser] = set()
        for room in self._roomEntries:
            self._soleRoomWrites(
                room,
                special=special,
                several=several,
                cache=cache,
                chunks=chunks,
                writes=writes,
            )
        for member in several:
            data = self._linesInRooms(member, cache, chunks)
            if data:
                writes.append((data, [member]))
        for user in special:
            data = b"".join(self._linesFor(user, cache))
            if data:
                writes.append((data, [user]))
        return writes
