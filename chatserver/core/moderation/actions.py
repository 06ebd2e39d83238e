"""
What moderators do, as operations of a logged-in user (mixed into
L{chatserver.core.users.ChatUser}): each checks the actor's role and its
target, changes the state in L{chatserver.core.moderation.state}, tells
the rooms concerned with an event (L{chatserver.core.events}), logs a line
with C{actor}, C{target}, C{room}, C{reason} and C{duration} fields, and
records the action in the room's log.  A refusal raises a
L{chatserver.core.moderation.errors.ModerationError} (or another
L{ChatError}).

In a cluster every change also goes to the other nodes
(L{chatserver.core.realm.ChatRealm.moderated}), which apply it and tell
their members: a kick reaches a member of any node, a kline disconnects
who matches it on every node.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.core.events import (
    BanChanged,
    Invited,
    Kicked,
    ModeChanged,
    RoleChanged,
)
from chatserver.core.moderation.checks import ModerationChecks, who_of
from chatserver.core.moderation.durations import parse_duration
from chatserver.core.moderation.errors import (
    AlreadyInRoom,
    KeySet,
    NoSuchBan,
    NotRoomOperator,
    NotServerOperator,
    OperRefused,
    TargetNotInRoom,
)
from chatserver.core.moderation.masks import parse_mask
from chatserver.core.moderation.modes import RoomModes, parse_modes
from chatserver.core.moderation.records import BAN, KLINE, MUTE, Ban, LogEntry
from chatserver.core.moderation.roles import OPERATOR, VOICE
from chatwire.errors import NoSuchUser, NotInRoom
from chatwire.names import check_name, check_room_name, name_key, room_key
from chatwire.text import MAX_REASON_LENGTH, check_length, check_text

if TYPE_CHECKING:
    from chatserver.core.realm import ChatRealm
    from chatserver.core.rooms import Room

log = Logger(namespace=LOG_NAMESPACE)


def _reason(reason: str) -> str:
    reason = check_text(reason.strip())
    return check_length(reason, MAX_REASON_LENGTH, "a reason")


def _ends(realm: ChatRealm, duration: str | None) -> tuple[float | None, int | None]:
    if not duration:
        return None, None
    seconds = parse_duration(duration)
    return realm.now() + seconds, seconds


class ModerationActions(ModerationChecks):
    """
    The moderation operations of L{chatserver.core.users.ChatUser}, over
    its checks (L{ModerationChecks}).
    """

    __slots__ = ()

    # Helpers

    def _operated(self, name: str, what: str) -> Room:
        """
        @return: The existing room called C{name}, which this user may
            moderate.
        @raise NotRoomOperator: If it may not.
        """
        room = self._user().room(name)
        if not self.isRoomOperator(room):
            raise NotRoomOperator(room.name, what)
        return room

    def _needServerOperator(self, what: str) -> None:
        if not self.serverOperator:
            raise NotServerOperator(what)

    def _act(
        self,
        room: Room | None,
        action: str,
        target: str,
        reason: str = "",
        duration: float | None = None,
    ) -> None:
        """
        Log a moderation action, and record it in C{room}'s log.
        """
        where = room.name if room is not None else "the server"
        log.info(
            "{actor} did {action} on {target} in {room}"
            + (" for {duration}s" if duration else "")
            + (": {reason}" if reason else ""),
            chat_event="moderation",
            actor=self.name,
            action=action,
            target=target,
            room=where,
            reason=reason,
            duration=duration,
        )
        if room is not None:
            self.realm.moderation.record(
                room.key,
                LogEntry(self.realm.now(), self.name, action, target, reason, duration),
            )

    # Server operators

    def oper(self, name: str, password: str) -> defer.Deferred[None]:
        """
        Become a server operator with the C{--oper} credentials C{name} and
        C{password}.

        @return: A L{defer.Deferred} that fires once this user is one, or
            fails with L{OperRefused} (the door counts it as a failed
            login).
        """
        checkers = list(self.realm.moderation.operCheckers)
        credentials = UsernamePassword(name.encode("utf-8"), password.encode("utf-8"))

        def tryNext(reason: Failure | None = None) -> defer.Deferred[None]:
            if reason is not None and not reason.check(UnauthorizedLogin):
                log.failure(
                    "Checking the operator password of {name} failed",
                    failure=reason,
                    chat_event="error",
                    name=name,
                )
            if not checkers:
                log.info(
                    "{actor} failed to become a server operator as {target}",
                    chat_event="rejected",
                    actor=self.name,
                    target=name,
                    action="oper",
                )
                return defer.fail(OperRefused())
            checker = checkers.pop(0)
            return defer.maybeDeferred(
                checker.requestAvatarId, credentials
            ).addCallbacks(lambda _: self._opered(name), tryNext)

        return tryNext()

    def _opered(self, name: str) -> None:
        # The account is the operator, on every session of it.
        for session in self.sessions:
            session.serverOperator = True
        self._act(None, "oper", name)

    def kill(self, name: str, reason: str = "") -> str:
        """
        Disconnect the user called C{name}, on this node or another.

        @return: The killed user's name.
        @raise NotServerOperator: Unless this user is a server operator.
        """
        self._needServerOperator("kill")
        reason = _reason(reason)
        target = self.realm.lookup(name)
        if target is None:
            check_name(name)
            raise NoSuchUser(name)
        self._act(None, "kill", target.name, reason)
        said = (
            f"Killed by {self.name}: {reason}" if reason else f"Killed by {self.name}"
        )
        self.realm.kick(target.name, said)
        return target.name

    def kline(
        self, mask: str, duration: str | None = None, reason: str = ""
    ) -> tuple[Ban, list[str]]:
        """
        Ban C{mask} from the server: it cannot log in, and whoever on this
        node matches it now is disconnected (but this user).

        @param duration: How long (L{parse_duration}), or L{None}: until
            lifted.
        @return: The kline and the names disconnected.
        """
        self._needServerOperator("kline")
        parsed = parse_mask(mask)
        reason = _reason(reason)
        endsAt, seconds = _ends(self.realm, duration)
        ban = Ban(KLINE, parsed.text, self.name, self.realm.now(), endsAt, reason)
        self.realm.moderation.addBan("", parsed, ban)
        self._act(None, "kline", parsed.text, reason, seconds)
        self.realm.moderated(
            None, BanChanged("", self.name, KLINE, parsed.text, True, endsAt, reason)
        )
        # An account goes with all its sessions when one of them matches.
        gone = [
            user
            for user in list(self.realm.users())
            if user.sessions is not self.sessions
            and any(parsed.matches(who_of(session)) for session in user.sessions)
        ]
        said = (
            f"Banned from the server: {reason}" if reason else "Banned from the server"
        )
        for user in gone:
            for session in list(user.sessions):
                session.mind.disconnect(said)
        return ban, [user.name for user in gone]

    def unkline(self, mask: str) -> Ban:
        """
        Lift the kline on C{mask}.

        @raise NoSuchBan: If there is none.
        """
        self._needServerOperator("unkline")
        parsed = parse_mask(mask)
        ban = self.realm.moderation.removeBan("", KLINE, parsed.key)
        if ban is None:
            raise NoSuchBan("kline", parsed.text, "the server")
        self._act(None, "unkline", ban.mask)
        self.realm.moderated(None, BanChanged("", self.name, KLINE, ban.mask, False))
        return ban

    def klines(self) -> list[Ban]:
        """
        @return: The klines, oldest first.
        """
        self._needServerOperator("list klines")
        return self.realm.moderation.bans("", KLINE)

    # Room operators

    def kick(self, room: str, name: str, reason: str = "") -> Kicked:
        """
        Put the user called C{name} out of C{room}; every member, the
        kicked one included, is told who kicked whom and why.

        @raise TargetNotInRoom: If nobody of that name is in the room, on
            this node or another.
        """
        where = self._operated(room, "kick")
        reason = _reason(reason)
        key = name_key(name)
        target = where.members.get(key)
        remote = where.remote.get(key)
        if target is None and remote is None:
            check_name(name)
            raise TargetNotInRoom(name, where.name)
        shown = target.name if target is not None else remote
        assert shown is not None
        event = Kicked(where.name, self.name, shown, reason)
        self._act(where, "kick", shown, reason)
        if target is None:
            self.realm.kickRemote(where, event)
        else:
            # The other nodes hear the kick before the part it makes.
            self.realm.moderated(where, event, tell=False)
            self.realm.leave(target, where, event)
        return event

    def _ban(
        self, kind: str, room: str, mask: str, duration: str | None, reason: str
    ) -> Ban:
        where = self._operated(room, kind)
        parsed = parse_mask(mask)
        reason = _reason(reason)
        endsAt, seconds = _ends(self.realm, duration)
        ban = Ban(kind, parsed.text, self.name, self.realm.now(), endsAt, reason)
        self.realm.moderation.addBan(where.key, parsed, ban)
        self._act(where, kind, parsed.text, reason, seconds)
        self.realm.moderated(
            where,
            BanChanged(where.name, self.name, kind, parsed.text, True, endsAt, reason),
        )
        return ban

    def _unban(self, kind: str, room: str, mask: str) -> Ban:
        where = self._operated(room, f"un{kind}")
        parsed = parse_mask(mask)
        ban = self.realm.moderation.removeBan(where.key, kind, parsed.key)
        if ban is None:
            raise NoSuchBan(kind, parsed.text, where.name)
        self._act(where, f"un{kind}", ban.mask)
        self.realm.moderated(
            where, BanChanged(where.name, self.name, kind, ban.mask, False)
        )
        return ban

    def ban(
        self, room: str, mask: str, duration: str | None = None, reason: str = ""
    ) -> Ban:
        """
        Ban C{mask} from C{room}: who matches it cannot join, and cannot
        speak if in it.

        @param duration: How long (C{10m}), or L{None}: until lifted.
        """
        return self._ban(BAN, room, mask, duration, reason)

    def unban(self, room: str, mask: str) -> Ban:
        """
        Lift the ban on C{mask} in C{room}.

        @raise NoSuchBan: If there is none.
        """
        return self._unban(BAN, room, mask)

    def bans(self, room: str) -> list[Ban]:
        """
        @return: The bans of C{room} (which need not exist), oldest first.
        """
        check_room_name(room)
        return self.realm.moderation.bans(room_key(room), BAN)

    def mute(
        self, room: str, mask: str, duration: str | None = None, reason: str = ""
    ) -> Ban:
        """
        Mute C{mask} (a name, or any mask) in C{room}: who matches it reads
        but cannot speak.
        """
        return self._ban(MUTE, room, mask, duration, reason)

    def unmute(self, room: str, mask: str) -> Ban:
        """
        Lift the mute on C{mask} in C{room}.
        """
        return self._unban(MUTE, room, mask)

    def mutes(self, room: str) -> list[Ban]:
        """
        @return: The mutes of C{room}, oldest first.
        """
        check_room_name(room)
        return self.realm.moderation.bans(room_key(room), MUTE)

    def setRole(
        self, room: str, name: str, role: str, given: bool
    ) -> RoleChanged | None:
        """
        Give C{role} (C{o} operator, C{v} voice) in C{room} to the member
        called C{name}, or take it (unless C{given}).

        @return: The event the room was told, or L{None} if nothing changed.
        @raise TargetNotInRoom: If C{name} is not a member.
        """
        action = ("" if given else "de") + ("op" if role == OPERATOR else "voice")
        where = self._operated(room, action)
        key = name_key(name)
        member = where.members.get(key)
        shown = member.name if member is not None else where.remote.get(key)
        if shown is None:
            check_name(name)
            raise TargetNotInRoom(name, where.name)
        if not self.realm.moderation.setRole(where.key, key, role, given):
            return None
        self._act(where, action, shown)
        event = RoleChanged(where.name, self.name, shown, role, given)
        self.realm.moderated(where, event)
        return event

    def op(self, room: str, name: str) -> RoleChanged | None:
        return self.setRole(room, name, OPERATOR, True)

    def deop(self, room: str, name: str) -> RoleChanged | None:
        return self.setRole(room, name, OPERATOR, False)

    def voice(self, room: str, name: str) -> RoleChanged | None:
        return self.setRole(room, name, VOICE, True)

    def devoice(self, room: str, name: str) -> RoleChanged | None:
        return self.setRole(room, name, VOICE, False)

    def modes(self, room: str) -> RoomModes:
        """
        @return: The modes of C{room} (which need not exist); its key only
            for its members and operators (C{*} for others).
        """
        check_room_name(room)
        key = room_key(room)
        state = self.realm.moderation.rooms.get(key)
        modes = state.modes if state is not None else RoomModes()
        shown = replace(modes)
        member = any(r.key == key for r in self.rooms)
        if shown.key and not (member or self.isRoomOperator(key)):
            shown.key = "*"
        return shown

    def setModes(
        self, room: str, flags: str, arguments: list[str]
    ) -> ModeChanged | None:
        """
        Change the modes of C{room}: C{flags} as C{+mk-i}, with the
        arguments of C{k}, C{l}, C{o} and C{v} in order (see
        L{parse_modes}).

        @return: The event the room was told (without the role changes,
            told as L{RoleChanged}), or L{None} if no mode changed.
        @raise KeySet: For C{+k} when the room has a key.
        """
        where = self._operated(room, "change its modes")
        changes = parse_modes(flags, arguments)
        moderation = self.realm.moderation
        current = moderation.room(where.key).modes
        modes = replace(current)
        done: list[tuple[str, str]] = []
        for change in changes:
            letter, adding = change.letter, change.adding
            if letter in (OPERATOR, VOICE):
                self.setRole(where.name, change.argument, letter, adding)
                continue
            if letter == "k":
                if adding and modes.key:
                    raise KeySet(where.name)
                modes.key = change.argument if adding else ""
            elif letter == "l":
                modes.limit = int(change.argument) if adding else 0
            else:
                attribute = {
                    "m": "moderated",
                    "i": "inviteOnly",
                    "n": "noExternal",
                    "s": "secret",
                    "t": "topicLocked",
                }
                if getattr(modes, attribute[letter]) == adding:
                    continue
                setattr(modes, attribute[letter], adding)
            done.append((change.text(), change.argument))
        if not done or modes == current:
            return None
        moderation.setModes(where.key, modes)
        text = _join_changes([change for change, _ in done])
        arguments_ = tuple(argument for _, argument in done if argument)
        self._act(where, "mode", " ".join((text, *arguments_)))
        event = ModeChanged(where.name, self.name, text, arguments_)
        self.realm.moderated(where, event)
        return event

    def invite(self, name: str, room: str) -> str:
        """
        Invite the user called C{name} to C{room}, which this user is in
        (and operates, if it is invite-only).

        @return: The invited user's name.
        @raise AlreadyInRoom: If C{name} is in the room.
        """
        where = self._user().room(room)
        if where not in self.rooms and not self.serverOperator:
            raise NotInRoom(where.name)
        if self.realm.moderation.room(
            where.key
        ).modes.inviteOnly and not self.isRoomOperator(where):
            raise NotRoomOperator(where.name, "invite to it: it is invite-only (+i)")
        target = self.realm.lookup(name)
        if target is None:
            check_name(name)
            raise NoSuchUser(name)
        if target.key in where.members or target.key in where.remote:
            raise AlreadyInRoom(target.name, where.name)
        self.realm.moderation.room(where.key).invited.add(target.key)
        self._act(where, "invite", target.name)
        self.realm.moderated(where, Invited(where.name, self.name, target.name))
        local = self.realm.get(target.name)
        if local is not None:
            event = Invited(where.name, self.name, target.name)
            self.realm.fanout.toAccount(local, event)
        return target.name

    def modlog(self, room: str) -> list[LogEntry]:
        """
        @return: The last moderation actions in C{room}, oldest first.
        @raise NotRoomOperator: Unless this user may moderate it.
        """
        where = self._operated(room, "read its moderation log")
        return list(self.realm.moderation.room(where.key).log)


def _join_changes(changes: list[str]) -> str:
    """
    @return: C{["+m", "+k", "-i"]} as C{+mk-i}.
    """
    text = ""
    sign = ""
    for change in changes:
        if change[0] != sign:
            sign = change[0]
            text += sign
        text += change[1]
    return text
