"""
The chat: one realm (twisted.cred's word) that every door logs its users
into, holding who is online, the rooms, the history store and the fan-out.

Every door logs in through a L{Portal} over this realm: with C{--auth} the
portal's checkers want a password, without it L{chatserver.auth.checkers}
takes any valid name.  The realm gives each login a L{ChatUser} avatar bound
to the door's mind, and puts it in the default room.

In a cluster the realm has L{Peers}: names are claimed cluster-wide, lines
go out through the cluster and come back in one order for every node, and
the realm knows the users of the other nodes as L{RemoteUser}s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from twisted.cred.portal import IRealm
from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from chatserver import LOG_NAMESPACE
from chatserver.auth.checkers import AccountName
from chatserver.config import ChatConfig
from chatserver.core.conversations import private_key
from chatserver.core.events import (
    AccountChanged,
    Acted,
    BanChanged,
    ChatEvent,
    Invited,
    Joined,
    Kicked,
    Parted,
    Quit,
    ReadMarked,
    Renamed,
    RoleChanged,
    Said,
    Tags,
    TopicChanged,
    Whispered,
    private_msgid,
)
from chatserver.core.fanout import Fanout
from chatserver.core.minds import IMind
from chatserver.core.moderation.checks import who_of
from chatserver.core.moderation.errors import Klined, ModerationError
from chatserver.core.moderation.records import KLINE, Ban
from chatserver.core.moderation.state import Moderation
from chatserver.core.moderation.store import IModerationStore
from chatserver.core.reading import unread_after
from chatserver.core.remote import Peers, RemoteSession, RemoteUser
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser, IChatUser
from chatserver.history.memory import MemoryHistory
from chatserver.history.store import (
    ACTION,
    MESSAGE,
    TOPIC,
    HistoryEntry,
    HistoryReader,
    HistoryStore,
)
from chatserver.metrics.doors import door_of
from chatserver.state.markers import MarkerStore, MemoryMarkers, ReadMarker
from chatwire.errors import (
    ClusterUnavailable,
    LoginAbandoned,
    NameTaken,
    NoSuchUser,
    TooManyRooms,
    TooManySessions,
)
from chatwire.names import check_name, check_room_name, name_key, room_key
from chatwire.text import MAX_REASON_LENGTH, clean_text

if TYPE_CHECKING:
    from chatserver.accounts.registry import Accounts

log = Logger(namespace=LOG_NAMESPACE)

_T = TypeVar("_T")
_Avatar = tuple[type[Interface], object, Callable[[], None]]


@implementer(IRealm)
class ChatRealm:
    """
    The chat itself.

    @ivar config: The server's settings.
    @ivar history: Where rooms' history is kept.
    @ivar fanout: Where every event goes out.
    @ivar rooms: The rooms by key.
    @ivar accounts: Whether names are accounts (with C{--auth}): then a
        user may change only the case of their name.
    @ivar registry: The accounts users register themselves
        (C{--accounts}), or L{None}: a guest may not take the name of one.
    @ivar shuttingDown: Set while the server stops: users leave without
        notices.
    @ivar peers: The other nodes of the cluster, or L{None} for a single
        node.
    @ivar remote: The users logged in on other nodes, by name key.
    @ivar elsewhere: The sessions of accounts on other nodes (an account
        may have sessions on this node too), by name key, then by session
        id.
    @ivar moderation: Roles, modes, bans, mutes and klines (kept by the
        history store when it is also an L{IModerationStore}, in memory
        otherwise; in a cluster, by Redis for every node).

    @param clock: The reactor's clock (a L{twisted.internet.task.Clock} in
        tests).
    """

    def __init__(
        self,
        config: ChatConfig | None = None,
        history: HistoryStore | HistoryReader | None = None,
        clock: IReactorTime | None = None,
        accounts: bool = False,
        *,
        peers: Peers | None = None,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.config = config if config is not None else ChatConfig()
        self.clock = clock
        if history is None:
            history = MemoryHistory(
                self.config.historyMax,
                self.config.historyKeep,
                clock=clock,
                maxBytes=self.config.historyMemory,
            )
        self.history: HistoryReader = history
        # Accounts' read markers, kept beside the lines when the store can.
        self.markers: MarkerStore = (
            history if isinstance(history, MarkerStore) else MemoryMarkers()
        )
        # What keeps lines on a single node; a cluster keeps its own.
        self._store = cast(HistoryStore, history) if peers is None else None
        self.peers = peers
        self.remote: dict[str, RemoteUser] = {}
        self.elsewhere: dict[str, dict[str, RemoteSession]] = {}
        # Names being claimed cluster-wide for a login or a rename.
        self._claiming: set[str] = set()
        self.fanout = Fanout(clock)
        self.accounts = accounts
        self.registry: Accounts | None = None
        self.shuttingDown = False
        # Lines users sent, by kind (said, acted, whispered) and the class
        # of the sender's mind (its door's): read by --metrics when scraped.
        self.received: dict[tuple[str, type], int] = {}
        # The ids of the first and last lines this process kept.
        self.firstKeptId: int | None = None
        self.lastKeptId: int | None = None
        self._users: dict[str, ChatUser] = {}
        self.rooms: dict[str, Room] = {}
        # The read markers of the accounts online here, by name key.
        self._readMarkers: dict[str, dict[str, ReadMarker]] = {}
        store = IModerationStore(history if peers is None else peers, None)
        self.moderation = Moderation(clock, store, keepRoles=accounts)
        self.moderation.expired = self._expired

    def now(self) -> float:
        return self.clock.seconds()

    # cred

    def requestAvatar(
        self, avatarId: bytes | str | tuple[()], mind: object, *interfaces: Any
    ) -> _Avatar | defer.Deferred[_Avatar]:
        """
        Log the user a checker vouched for in, bound to C{mind}; in a
        cluster, once its name is claimed.

        @raise NameTaken: If somebody online has that name.
        """
        if IChatUser not in interfaces:
            raise NotImplementedError("the chat realm only makes chat users")
        # Checkers give bytes, but twisted's memory: checker gives str.
        if isinstance(avatarId, bytes):
            name = avatarId.decode("utf-8")
        elif isinstance(avatarId, str):
            name = avatarId
        else:
            raise NotImplementedError("the chat has no anonymous users")
        account = self.accountOf(avatarId, name)
        key = name_key(name)
        if account is not None and key not in self._readMarkers:
            # An account's read markers are known before it logs in: its
            # doors show them, and its replays start from them, at once.
            def loaded(_: None) -> _Avatar | defer.Deferred[_Avatar]:
                return self._login(name, cast(IMind, mind), account)

            def notLoggedIn(reason: Failure) -> Failure:
                if key not in self._users:
                    self._readMarkers.pop(key, None)
                return reason

            loading = self._loadMarkers(key).addCallback(loaded)
            return cast("defer.Deferred[_Avatar]", loading).addErrback(notLoggedIn)
        return self._login(name, cast(IMind, mind), account)

    def _login(
        self, name: str, mind: IMind, account: str | None
    ) -> _Avatar | defer.Deferred[_Avatar]:
        """
        Log C{name} in, bound to C{mind}, to C{account} or as a guest (see
        L{requestAvatar}).
        """
        if self.peers is None:
            user = self.login(name, mind, account=account)
            return IChatUser, user, lambda: user.quit("Logged out")

        def loggedIn(user: ChatUser) -> _Avatar:
            return IChatUser, user, lambda: user.quit("Logged out")

        if account is not None and name_key(name) in self._users:
            return self.reserveAndLogin(name, mind, account).addCallback(loggedIn)
        # An account online on other nodes only is claimed here too.
        return self.claimAndLogin(name, mind, account).addCallback(loggedIn)

    def _loadMarkers(self, key: str) -> defer.Deferred[None]:
        """
        Read the read markers of the account whose name's key is C{key}
        into L{readMarker}'s memory; a store that cannot be read leaves it
        with none (said in the log), and the login goes on.
        """

        def loaded(markers: dict[str, ReadMarker]) -> None:
            self._readMarkers[key] = markers

        def failed(reason: Failure) -> None:
            log.warn(
                "Reading the read markers of {name} failed: {why}",
                name=key,
                why=reason.getErrorMessage(),
                chat_event="error",
            )
            self._readMarkers[key] = {}

        return self.markers.readMarkers(key).addCallbacks(loaded, failed)

    def readMarker(self, user: ChatUser, key: str) -> ReadMarker | None:
        """
        @return: The read marker of C{user}'s account in C{key} (a room's
            or a private conversation's key), or L{None}.
        """
        markers = self._readMarkers.get(user.key)
        return markers.get(key) if markers is not None else None

    def accountOf(self, avatarId: object, name: str) -> str | None:
        """
        The account a login is to: C{name} when a checker vouched for it
        as an account's, with its password (an L{AccountName}, from
        C{--accounts}), or when every name is an account (C{--auth}); a
        guest's login (a name with no password) is to none.

        A login to an account online here adds a session
        (L{ChatUser.sessions}) instead of being refused as a name taken; a
        guest has one session.

        @return: The account, or L{None} for a guest.
        """
        if isinstance(avatarId, AccountName) or self.accounts:
            return name
        return None

    # Users

    def __len__(self) -> int:
        return len(self._users)

    def __contains__(self, name: str) -> bool:
        key = name_key(name)
        return key in self._users or key in self.remote

    def get(self, name: str) -> ChatUser | None:
        """
        @return: The user called C{name} in any case logged in on this
            node, or L{None}.
        """
        return self._users.get(name_key(name))

    def lookup(self, name: str) -> ChatUser | RemoteUser | None:
        """
        @return: The user called C{name} in any case, on this node or
            another, or L{None}.
        """
        key = name_key(name)
        return self._users.get(key) or self.remote.get(key)

    def users(self) -> Iterable[ChatUser]:
        """
        @return: Everyone online on this node.
        """
        return self._users.values()

    def everyone(self) -> list[ChatUser | RemoteUser]:
        """
        @return: Everyone online in the whole chat, sorted by name key.
        """
        users: list[ChatUser | RemoteUser] = [*self._users.values()]
        users.extend(self.remote.values())
        users.sort(key=lambda user: user.key)
        return users

    def _checkFree(self, name: str) -> str:
        """
        @return: The key of C{name}, a valid name nobody online here has.
        @raise NameTaken: If somebody here has it, or is claiming it.  (Who
            has it on another node, the claim in the cluster says: what this
            node knows of the others may be a moment old.)
        """
        check_name(name)
        key = name_key(name)
        if key in self._users or key in self._claiming:
            raise NameTaken(name)
        return key

    def claimAndLogin(
        self, name: str, mind: IMind, account: str | None = None
    ) -> defer.Deferred[ChatUser]:
        """
        Claim C{name} across the cluster, then log it in (L{login}).

        A mind whose C{closing} is true once the name is claimed (its
        connection went away meanwhile) is not logged in: the name is given
        back, so that no user is left online without a connection.

        @return: A L{Deferred} firing with the user, or failing with
            L{NameTaken}, or L{LoginAbandoned} if the mind went away.
        """

        def claimed() -> ChatUser:
            if mind.closing:
                assert self.peers is not None
                self.peers.release(name)
                raise LoginAbandoned(name)
            return self.login(name, mind, claimed=True, account=account)

        return self.claimAndDo(name, claimed, account=account is not None)

    def reserveAndLogin(
        self, name: str, mind: IMind, account: str
    ) -> defer.Deferred[ChatUser]:
        """
        Log one more session of the account C{name}, online here, in once
        the cluster has reserved it (L{Peers.reserve}): the sessions of an
        account are counted over every node in the step that adds one.  A
        login that does not happen gives its reservation back.

        @return: A L{Deferred} firing with the session, or failing with
            L{TooManySessions}, or L{LoginAbandoned} if the mind went away.
        """
        peers = self.peers
        assert peers is not None

        def reserved(held: bool) -> ChatUser | defer.Deferred[ChatUser]:
            if not held or name_key(name) not in self._users:
                # Its last session here ended meanwhile: claimed anew.
                peers.unreserve(name)
                return self.claimAndLogin(name, mind, account)
            if mind.closing:
                peers.unreserve(name)
                raise LoginAbandoned(name)
            try:
                return self.login(name, mind, account=account)
            except Exception:
                peers.unreserve(name)
                raise

        return peers.reserve(name).addCallback(reserved)

    def login(
        self,
        name: str,
        mind: IMind,
        claimed: bool = False,
        account: str | None = None,
    ) -> ChatUser:
        """
        Log C{name} in, bound to C{mind}, and put it in the default room,
        unless the mind's C{joinsDefaultRoom} is false (an IRC client joins
        its channels itself).

        An account (L{accountOf}) already online here gets one more
        session instead (L{addSession}); an account online on other nodes
        only is in their rooms at once, and nobody is told (L{_adopt}).

        @param claimed: Whether the name was claimed across the cluster
            already (L{claimAndLogin}).
        @param account: The account the user logs in to, L{None} for a
            guest (with C{--auth}, every name is its account).
        @raise NameTaken: If somebody online has that name.
        @raise TooManySessions: If the account has all its sessions.
        """
        if account is None and self.accounts:
            account = name
        first = self._users.get(name_key(name))
        if (
            first is not None
            and not claimed
            and account is not None
            and first.account is not None
        ):
            return self.addSession(first, mind)
        if not claimed:
            self._checkFree(name)
        user = ChatUser(self, name, mind, self.now(), account)
        self._refuseKlined(user, claimed)
        if (
            account is not None
            and name_key(account) in self.moderation.operatorAccounts
        ):
            user.serverOperator = True
        self._users[user.key] = user
        if self.peers is not None:
            self.peers.loggedIn(user)
        log.info(
            "{name} logged in from {peer}",
            chat_event="login",
            name=name,
            peer=mind.peer,
            door=door_of(mind),
        )
        remote = self.remote.pop(user.key, None) if account is not None else None
        if remote is not None:
            self._adopt(user, remote)
        if not mind.joinsDefaultRoom or user.rooms:
            return user
        # The newcomer's door greets it; the room hears of it.
        try:
            room = self.enter(user, self.config.defaultRoom, announceToSelf=False)
        except ModerationError as e:
            # Banned from the default room (or kept out by its modes): the
            # user is in the chat, in no room, and may join others.
            log.info(
                "{name} is kept out of {room}: {why}",
                chat_event="rejected",
                name=name,
                room=self.config.defaultRoom,
                why=e.reason,
            )
            return user
        user.current = room
        return user

    def _adopt(self, user: ChatUser, remote: RemoteUser) -> None:
        """
        C{user}, the first session here of an account online on other
        nodes (known here as C{remote}), is in the account's rooms at once:
        nobody is told, it was there already.
        """
        user.away = remote.away
        for roomKey in remote.rooms:
            room = self.rooms.get(roomKey)
            if room is not None:
                room.removeRemote(user.key)
                self._admit(user, room)
        if user.rooms:
            user.current = user.rooms[0]

    def _refuseKlined(self, user: ChatUser, claimed: bool) -> None:
        """
        Refuse C{user}, logging in, if a kline matches it.

        @param claimed: Whether its name was claimed across the cluster
            (given back then).
        @raise Klined: If a kline matches it.
        """
        kline = self.moderation.matching("", KLINE, who_of(user))
        if kline is None:
            return
        if claimed and self.peers is not None:
            self.peers.release(user.name)
        log.info(
            "{name} was refused: klined ({mask})",
            chat_event="rejected",
            name=user.name,
            peer=user.mind.peer,
            mask=kline.mask,
        )
        raise Klined(kline.reason)

    def addSession(self, first: ChatUser, mind: IMind) -> ChatUser:
        """
        Log one more session of C{first}'s account in, bound to C{mind}:
        it is in the account's rooms at once, and nobody else is told.  An
        account in no room whose new door joins the default room joins it
        (all its sessions do).

        @raise TooManySessions: If the account has C{--max-sessions}
            sessions already.
        """
        sessions = first.sessions
        limit = self.config.maxSessions
        if len(sessions) + len(self.elsewhere.get(first.key, ())) >= limit:
            raise TooManySessions(first.name, limit)
        session = ChatUser(self, first.name, mind, self.now(), first.account)
        self._refuseKlined(session, False)
        session.serverOperator = first.serverOperator
        session.sessions = sessions
        session.rooms = first.rooms
        session.current = first.current
        session.away = first.away
        sessions.append(session)
        for room in session.rooms:
            self.fanout.joined(session, room)
        if self.peers is not None:
            self.peers.sessionAdded(session)
        log.info(
            "{name} logged in from {peer} (session {count})",
            chat_event="login",
            name=session.name,
            peer=mind.peer,
            door=door_of(mind),
            count=len(sessions),
        )
        if not session.rooms and mind.joinsDefaultRoom:
            session.current = self.enter(session, self.config.defaultRoom)
        return session

    def _endSession(self, session: ChatUser, reason: str) -> None:
        """
        C{session}, one of several of its account, ends: the others go on,
        and nobody else is told.
        """
        sessions = session.sessions
        sessions.remove(session)
        session.sessions = [session]
        session.online = False
        if self.peers is not None:
            self.peers.sessionEnded(session)
        stays = sessions[0]
        if self._users.get(session.key) is session:
            self._users[session.key] = stays
        for room in session.rooms:
            room.replaced(session, stays)
        self._goneHere(
            session,
            "{name} ended a session from {peer} ({reason}); {count} left",
            reason=reason,
            count=len(sessions),
        )

    def logout(self, user: ChatUser, reason: str) -> None:
        """
        C{user} leaves the chat, for C{reason}; each user who shared a room
        with it is told once.  C{reason} is cleaned of what text may not
        hold, and cut to L{MAX_REASON_LENGTH} bytes.  One session of
        several of an account only ends: nobody is told.
        """
        if not user.online or user.key not in self._users:
            return
        # The door's own reasons (Connection closed) are clean; a user's
        # (QUIT :bye) may hold anything, and cannot be refused.
        reason = clean_text(reason, MAX_REASON_LENGTH)
        if len(user.sessions) > 1:
            self._endSession(user, reason)
            return
        if self._users.get(user.key) is not user:
            return
        user.online = False
        del self._users[user.key]
        self._readMarkers.pop(user.key, None)
        if user.account is not None and self.elsewhere.get(user.key):
            self._leaveToOthers(user, reason)
            return
        audience = self._audience(user)
        audience.discard(user)
        rooms = user.rooms
        for room in rooms:
            room.remove(user)
            self.moderation.memberLeft(room.key, user.key)
            self._forgetIfEmpty(room)
        self._goneHere(user, "{name} left ({reason})", reason=reason)
        if audience and not self.shuttingDown:
            self.fanout.toUsers(audience, Quit(user.name, reason))
        if self.peers is not None:
            # Last: what the cluster answers may tell the rooms more.
            self.peers.loggedOut(user, rooms, reason)

    def _leaveToOthers(self, user: ChatUser, reason: str) -> None:
        """
        C{user}, the last session here of an account with sessions on
        other nodes, ended: the account stays in its rooms as a user of
        another node, and nobody is told.
        """
        assert self.peers is not None
        remote = RemoteUser(user.name, self.nodesOf(user.key)[0], user.since)
        remote.account, remote.away = user.account, user.away
        self.remote[user.key] = remote
        rooms = user.rooms
        for room in rooms:
            room.remove(user)
            room.addRemote(user.key, user.name)
            remote.rooms[room.key] = None
        self.peers.loggedOut(user, rooms, reason)
        self._goneHere(
            user,
            "{name} left this node ({reason}), still online on another",
            reason=reason,
        )

    def _goneHere(self, user: ChatUser, message: str, **fields: object) -> None:
        """
        C{user}, a session out of its rooms, gets nothing more here; the log
        says so in C{message}, with C{fields} beside the user's name and
        address.
        """
        user.rooms = ()
        user.current = None
        self.fanout.left(user)
        log.info(
            message,
            chat_event="leave",
            name=user.name,
            peer=user.mind.peer,
            **fields,
        )

    def rename(self, user: ChatUser, new: str) -> defer.Deferred[str]:
        """
        Call C{user} C{new}, once the name is claimed across the cluster; a
        change of case only keeps its key.

        @return: A L{Deferred} firing with the old name, or failing with
            L{NameTaken} if somebody else has C{new}.
        """
        newKey = name_key(new)
        registry = self.registry
        if registry is not None and newKey != user.key:
            # A guest may not take a registered name (an account may not
            # rename at all: ChatUser.rename).

            def free(registered: bool) -> defer.Deferred[str]:
                if registered:
                    raise NameTaken(new)
                return self._rename(user, new, newKey)

            return registry.isRegistered(new).addCallback(free)
        return self._rename(user, new, newKey)

    def _rename(self, user: ChatUser, new: str, newKey: str) -> defer.Deferred[str]:
        if newKey == user.key or self.peers is None:
            try:
                if newKey != user.key:
                    self._checkFree(new)
                return defer.succeed(self._renamed(user, new))
            except NameTaken:
                return defer.fail()
        return self.claimAndDo(new, lambda: self._renamed(user, new))

    def claimAndDo(
        self, name: str, then: Callable[[], _T], account: bool = False
    ) -> defer.Deferred[_T]:
        """
        Claim C{name} across the cluster, then call C{then}.

        @param account: Whether C{name} is an account's (L{Peers.claim}).
        @return: A L{Deferred} firing with what C{then} returns, or failing
            with L{NameTaken} if the name is not free.
        """
        assert self.peers is not None
        try:
            key = self._checkFree(name)
        except NameTaken:
            return defer.fail()
        self._claiming.add(key)

        def claimed(free: bool) -> _T:
            self._claiming.discard(key)
            if not free:
                raise NameTaken(name)
            return then()

        def failed(reason: Any) -> Any:
            self._claiming.discard(key)
            return reason

        return self.peers.claim(name, account).addCallbacks(claimed, failed)

    def _renamed(self, user: ChatUser, new: str) -> str:
        """
        Call C{user}, whose new name is free, C{new}.

        @return: The old name.
        """
        if not user.online:
            # Gone while its new name was claimed: give the name back.
            if self.peers is not None:
                self.peers.release(new)
            return user.name
        newKey = name_key(new)
        old, oldKey = user.name, user.key
        first = self._users.pop(oldKey)
        for session in user.sessions:
            session.name, session.key = new, newKey
        self._users[newKey] = first
        for room in user.rooms:
            room.renamed(user, oldKey)
            self.moderation.renamed(room.key, oldKey, newKey)
        if self.peers is not None:
            self.peers.renamed(user, old)
        log.info(
            "{old} is now known as {new}",
            chat_event="rename",
            old=old,
            new=new,
            peer=user.mind.peer,
        )
        audience = self._audience(user)
        audience.add(user)
        self.fanout.toUsers(audience, Renamed(old, new))
        return old

    def accountChanged(self, user: ChatUser, account: str | None) -> None:
        """
        C{user} logged in to C{account} (registered it) or out of its
        account (L{None}: gave it up): everyone who shares a room with it,
        and itself, is told.  Every session of C{user} is of C{account}
        now; an account given up keeps only C{user}'s session, as a guest
        has one: the others are disconnected.
        """
        given = "The account was given up on another session"
        for session in list(user.sessions):
            session.account = account
            if account is None and session is not user:
                session.mind.disconnect(given)
        if account is None and self.peers is not None and self.elsewhere.get(user.key):
            self.peers.kick(user.key, self.nodesOf(user.key), given)
        log.info(
            "{name} is now {what}",
            chat_event="account",
            name=user.name,
            what=f"the account {account}" if account else "a guest",
            peer=user.mind.peer,
        )
        audience = self._audience(user)
        audience.add(user)
        self.fanout.toUsers(audience, AccountChanged(user.name, account or ""))

    def _audience(self, user: ChatUser) -> set[ChatUser]:
        """
        @return: Everyone who shares a room with C{user}.
        """
        audience: set[ChatUser] = set()
        for room in user.rooms:
            audience.update(room.members.values())
        return audience

    def kick(self, name: str, reason: str = "") -> None:
        """
        Disconnect the user called C{name}, on this node or another, on the
        operator's behalf.

        @raise NoSuchUser: If nobody online has that name.
        """
        user = self.lookup(name)
        if user is None:
            raise NoSuchUser(name)
        if self.peers is not None and (
            isinstance(user, RemoteUser) or self.elsewhere.get(user.key)
        ):
            self.peers.kick(user.key, self.nodesOf(user.key), reason)
        if isinstance(user, ChatUser):
            for session in list(user.sessions):
                session.mind.disconnect(reason)

    # Rooms

    def getRoom(self, name: str) -> Room | None:
        """
        @return: The room called C{name} in any case, or L{None}.
        """
        return self.rooms.get(room_key(name))

    def enter(
        self, user: ChatUser, name: str, announceToSelf: bool = True, key: str = ""
    ) -> Room:
        """
        Put C{user} in the room called C{name}, creating it if needed, and
        tell the room.  Who creates a room (but the default room) is its
        operator, unless it has operators kept already.

        @param key: The key the user gave (C{+k}).
        @raise TooManyRooms: If the user or the server has as many rooms as
            allowed.
        @raise ModerationError: If the room's moderation refuses
            (L{ChatUser.checkJoin}).
        """
        room = self.getRoom(name)
        roomKey = room_key(name)
        user.checkJoin(roomKey, room.name if room else name, key, len(room or ()))
        if room is None:
            check_room_name(name)
            isDefault = room_key(name) == room_key(self.config.defaultRoom)
            if len(self.rooms) >= self.config.maxRooms and not isDefault:
                raise TooManyRooms(
                    f"the server has {self.config.maxRooms} rooms already, "
                    "join one of them"
                )
        if len(user.rooms) >= self.config.maxRoomsPerUser:
            raise TooManyRooms(
                f"you are in {self.config.maxRoomsPerUser} rooms already, "
                "/part one first"
            )
        makes = room is None and self._makesOperator(roomKey)
        if room is None:
            room = self.rooms[roomKey] = Room(name, self.now())
            if makes and self.peers is None:
                self.moderation.setRole(roomKey, user.key, "o", True)
        moderated = self.moderation.rooms.get(roomKey)
        if moderated is not None:
            moderated.invited.discard(user.key)
        self._admit(user, room)
        if self.peers is not None and makes:
            self.peers.claimRoom(user, room)
        self.tell(room, Joined(room.name, user.name), None if announceToSelf else user)
        return room

    def _admit(self, user: ChatUser, room: Room) -> None:
        """
        Make C{user}, every session of it, a member of C{room} (the room is
        not told).
        """
        room.add(user)
        for session in user.sessions:
            session.joined(room)
            self.fanout.joined(session, room)
        if self.peers is not None:
            self.peers.joined(user, room)
        log.info(
            "{name} joined {room}",
            chat_event="join",
            name=user.name,
            room=room.name,
        )

    def _makesOperator(self, roomKey: str) -> bool:
        """
        @return: Whether who makes the room whose key is C{roomKey} becomes
            its operator: unless it is the default room, or it has operators
            kept already.  In a cluster, the cluster says whether another
            node's user made it first (L{Peers.claimRoom}).
        """
        return roomKey != room_key(
            self.config.defaultRoom
        ) and not self.moderation.hasOperators(roomKey)

    def madeRoom(self, user: ChatUser, room: Room) -> None:
        """
        C{user} made C{room} first in the whole cluster: it is its
        operator, and every member, on every node, is told.
        """
        if room not in user.rooms or self.moderation.hasOperators(room.key):
            return
        if not self.moderation.setRole(room.key, user.key, "o", True):
            return
        self.moderated(room, RoleChanged(room.name, user.name, user.name, "o", True))

    def moderated(self, room: Room | None, event: ChatEvent, tell: bool = True) -> None:
        """
        A moderator changed C{room} (L{None}: the server) as C{event}
        tells: the room's members here are told (if C{tell}), and the other
        nodes of a cluster (L{Peers.moderated}).
        """
        if room is not None and tell and not isinstance(event, Invited):
            self.tell(room, event)
        if self.peers is not None:
            self.peers.moderated(room.key if room is not None else "", event)

    def kickRemote(self, room: Room, event: Kicked) -> None:
        """
        Put the member of another node C{event} names out of C{room}: the
        room is told here and on every node, and its node takes it out.
        """
        self.moderated(room, event, tell=False)
        self.remoteKicked(room, name_key(event.name), event)

    def remoteKicked(self, room: Room, key: str, event: Kicked) -> None:
        """
        A moderator of another node put the member whose name's key is
        C{key} out of C{room}: if it is this node's, it leaves (and the
        room is told); if another node's, the room here is told, and it is
        out of the room here at once (its node's part comes later).
        """
        user = self._users.get(key)
        if user is not None:
            if room in user.rooms:
                self.leave(user, room, event)
            return
        if key not in room.remote:
            return
        self.tell(room, event)
        room.removeRemote(key)
        self.moderation.memberLeft(room.key, key)
        remote = self.remote.get(key)
        if remote is not None:
            remote.rooms.pop(room.key, None)
        self._forgetIfEmpty(room)

    def leave(self, user: ChatUser, room: Room, notice: Parted | Kicked) -> None:
        """
        Take C{user} out of C{room}; the room, C{user} included, is told.
        """
        self.tell(room, notice)
        room.remove(user)
        self.moderation.memberLeft(room.key, user.key)
        for session in user.sessions:
            session.parted(room)
            self.fanout.parted(session, room)
        reason = notice.reason
        if isinstance(notice, Kicked):
            reason = f"Kicked by {notice.actor}" + (f": {reason}" if reason else "")
        if self.peers is not None:
            self.peers.parted(user, room, reason)
        log.info(
            "{name} left {room} ({reason})",
            chat_event="part",
            name=user.name,
            room=room.name,
            reason=reason,
        )
        self._forgetIfEmpty(room)

    def _forgetIfEmpty(self, room: Room) -> None:
        if not room.members and not room.remote and self.rooms.get(room.key) is room:
            del self.rooms[room.key]
            self.moderation.forgetRoom(room.key)

    def _expired(self, roomKey: str, ban: Ban) -> None:
        """
        A ban or a mute of the room whose key is C{roomKey} (or a kline)
        ended by itself: the room is told.
        """
        room = self.rooms.get(roomKey) if roomKey else None
        if room is not None:
            self.tell(room, BanChanged(room.name, "", ban.kind, ban.mask, False))

    def forgetIfEmpty(self, room: Room) -> None:
        """
        Forget C{room} if nobody, here or on another node, is in it.
        """
        self._forgetIfEmpty(room)

    # The users and rooms of other nodes, as the cluster tells them

    def remoteLoggedIn(self, user: RemoteUser) -> bool:
        """
        Know C{user}, logged in on another node, unless somebody has its
        name here already.

        @return: Whether C{user} is known now.
        """
        if user.key in self.remote or user.key in self._users:
            return False
        self.remote[user.key] = user
        return True

    def remoteLoggedOut(self, user: RemoteUser, reason: str) -> None:
        """
        C{user} of another node left the chat, for C{reason}: each user
        here who shared a room with it is told once.
        """
        if self.remote.get(user.key) is not user:
            return
        del self.remote[user.key]
        audience: set[ChatUser] = set()
        for roomKey in user.rooms:
            room = self.rooms.get(roomKey)
            if room is None:
                continue
            audience.update(room.members.values())
            room.removeRemote(user.key)
            self._forgetIfEmpty(room)
        if audience and not self.shuttingDown:
            self.fanout.toUsers(audience, Quit(user.name, reason))

    def remoteRenamed(self, user: RemoteUser, newName: str) -> None:
        """
        C{user} of another node is called C{newName} now: its rooms here
        are told.
        """
        if self.remote.get(user.key) is not user:
            return
        old, oldKey, newKey = user.name, user.key, name_key(newName)
        del self.remote[oldKey]
        user.name, user.key = newName, newKey
        self.remote[newKey] = user
        audience: set[ChatUser] = set()
        for roomKey in user.rooms:
            room = self.rooms.get(roomKey)
            if room is not None:
                room.renamedRemote(oldKey, newKey, newName)
                audience.update(room.members.values())
        if audience:
            self.fanout.toUsers(audience, Renamed(old, newName))

    def renamedElsewhere(self, user: ChatUser, new: str) -> None:
        """
        The account of C{user}, online here, changed the case of its name
        to C{new} on another node: its sessions here are called C{new}
        too, and they and who shares a room with it here are told.
        """
        old = user.name
        if old == new or name_key(new) != user.key:
            return
        for session in user.sessions:
            session.name = new
        for room in user.rooms:
            member = room.members.get(user.key)
            if member is not None:
                room.renamed(member, user.key)
        audience = self._audience(user)
        audience.add(user)
        self.fanout.toUsers(audience, Renamed(old, new))

    def nodesOf(self, key: str) -> list[str]:
        """
        @return: The other nodes the user whose name's key is C{key} is
            logged in on: those with sessions of its account, or the node
            of a user of another node.
        """
        nodes = sorted({s.node for s in self.elsewhere.get(key, {}).values()})
        remote = self.remote.get(key)
        if not nodes and remote is not None:
            nodes = [remote.node]
        return nodes

    def remoteSessionBegun(self, key: str, session: str, info: RemoteSession) -> None:
        """
        The session C{session} of the account whose name's key is C{key}
        began on another node, as C{info} tells.
        """
        self.elsewhere.setdefault(key, {})[session] = info

    def remoteSessionEnded(self, key: str, session: str, owner: str) -> None:
        """
        The session C{session} of the account whose name's key is C{key}
        ended on another node; the account stays online, on C{owner} among
        others (who it is known here by, when it has no session here).
        """
        sessions = self.elsewhere.get(key)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self.elsewhere[key]
        remote = self.remote.get(key)
        nodes = {s.node for s in self.elsewhere.get(key, {}).values()}
        if remote is not None and owner and remote.node not in nodes:
            remote.node = owner

    def endSession(self, key: str, session: str, node: str, reason: str) -> None:
        """
        End C{session}, on C{node}, of the account whose name's key is
        C{key}, for C{reason}.
        """
        if self.peers is not None:
            self.peers.endSession(key, session, node, reason)

    def remoteSessionsEnded(self, key: str) -> None:
        """
        The account whose name's key is C{key} left the chat: its sessions
        on other nodes are over.
        """
        self.elsewhere.pop(key, None)

    def awayElsewhere(self, user: ChatUser, away: str) -> None:
        """
        C{user}, an account online here, set its away message (C{away},
        empty when back) on another node: every session here has it too.
        """
        for session in user.sessions:
            session.away = away

    def remoteSessionsAre(self, sessions: dict[str, dict[str, RemoteSession]]) -> None:
        """
        The sessions of accounts on other nodes are C{sessions} (as
        L{elsewhere}), as the cluster holds them now.
        """
        self.elsewhere = sessions

    def remoteMarked(self, key: str, target: str, event: ReadMarked) -> None:
        """
        The read marker of the account whose name's key is C{key} moved on
        another node, in C{target}, as C{event} tells: its sessions here
        are told.
        """
        markers = self._readMarkers.get(key)
        if markers is not None and event.stamp is not None:
            markers[target] = ReadMarker(event.id, event.stamp)
        user = self._users.get(key)
        if user is not None:
            self.fanout.toAccount(user, event)

    def remoteAway(self, user: RemoteUser, away: str) -> None:
        """
        C{user} of another node set its away message (C{away}, empty when
        back).
        """
        user.away = away

    def remoteUpdated(self, user: RemoteUser, info: dict[str, object]) -> None:
        """
        C{user} of another node is described as C{info} now (see
        L{RemoteUser.update}).
        """
        user.update(info)

    def remoteRoom(self, key: str, name: str) -> Room:
        """
        @return: The room whose key is C{key}, made (called C{name}) if this
            node has no such room: a user of another node is in it.
        """
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name, self.now())
        return room

    def joinedElsewhere(self, room: Room, key: str) -> None:
        """
        The account whose name's key is C{key}, online here, joined C{room}
        on another node: its sessions here join it too, and the room's
        members here are told, as of a join here.
        """
        user = self._users.get(key)
        if user is None or user.account is None or room in user.rooms:
            return
        self._admit(user, room)
        if user.current is None:
            user.current = room
        self.tell(room, Joined(room.name, user.name))

    def remoteJoined(self, room: Room, user: RemoteUser) -> None:
        """
        C{user} of another node joined C{room}: its members here are told.
        """
        if user.key in room.remote:
            return
        room.addRemote(user.key, user.name)
        user.rooms[room.key] = None
        moderated = self.moderation.rooms.get(room.key)
        if moderated is not None:
            # An invitation lets its user join once, on any node.
            moderated.invited.discard(user.key)
        self.tell(room, Joined(room.name, user.name))

    def remoteParted(self, room: Room, key: str, reason: str) -> None:
        """
        The user of another node whose name's key is C{key} left C{room},
        for C{reason}: its members here are told.
        """
        here = self._users.get(key)
        if here is not None and here.account is not None and room in here.rooms:
            # An account online here too, which left the room elsewhere.
            self.leave(here, room, Parted(room.name, here.name, reason))
            return
        name = room.remote.get(key)
        if name is None:
            return
        self.tell(room, Parted(room.name, name, reason))
        room.removeRemote(key)
        user = self.remote.get(key)
        if user is not None:
            user.rooms.pop(room.key, None)
        self._forgetIfEmpty(room)

    def remoteTopic(self, room: Room, topic: str, setter: str, time: float) -> None:
        """
        C{setter} set C{room}'s topic to C{topic} at C{time}, as the cluster
        keeps it (the room's members here hear it from the room's lines:
        L{heard}).
        """
        room.topic, room.topicSetter, room.topicTime = topic, setter, time

    def tell(
        self, room: Room, event: ChatEvent, exclude: ChatUser | None = None
    ) -> None:
        """
        Send C{event} to the members of C{room} but C{exclude}.
        """
        self.fanout.toRoom(room, event, exclude)

    def line(
        self,
        room: Room,
        sender: ChatUser,
        kind: str,
        text: str,
        *,
        notice: bool = False,
        tags: Tags = (),
    ) -> ChatEvent | None:
        """
        Keep a line of C{room} that C{sender} said and tell the room: at
        once on a single node; in a cluster, when the line comes back from
        the cluster with its place and id (L{heard}).

        @return: The event the room was told, or L{None} in a cluster.
        """
        key = (kind, type(sender.mind))
        self.received[key] = self.received.get(key, 0) + 1
        if self.peers is not None:
            self.peers.publish(room, kind, sender, text, notice=notice, tags=tags)
            return None
        entry = self.keep(room, kind, sender.name, text)
        return self.heard(room, entry, notice=notice, tags=tags, sender=sender)

    def heard(
        self,
        room: Room,
        entry: HistoryEntry,
        *,
        notice: bool = False,
        tags: Tags = (),
        sender: ChatUser | None = None,
    ) -> ChatEvent:
        """
        Tell C{room} the kept line C{entry}: every member but C{sender}
        (when it is a user of this node), unless its door echoes a user's
        own lines.

        @return: The event told.
        """
        event: ChatEvent
        if entry.kind == TOPIC:
            room.topic, room.topicSetter = entry.text, entry.sender
            room.topicTime = entry.time
            event = TopicChanged(
                room.name, entry.sender, entry.text, entry.id, entry.time
            )
            self.tell(room, event)
            return event
        if entry.kind == ACTION:
            event = Acted(
                room.name, entry.sender, entry.text, entry.id, entry.time, tags
            )
        else:
            event = Said(
                room.name, entry.sender, entry.text, entry.id, entry.time, notice, tags
            )
        echoes = sender is not None and sender.mind.echoes
        self.tell(room, event, None if echoes else sender)
        return event

    def whisper(
        self,
        sender: ChatUser,
        recipient: ChatUser | RemoteUser,
        text: str,
        *,
        notice: bool,
        action: bool,
        tags: Tags,
    ) -> None:
        """
        Send C{text} from C{sender} to C{recipient} alone (every session of
        it), on this node or another; C{sender} gets it back too if its
        door echoes, and the other sessions of its account get it as their
        own line (L{Whispered.echo}).
        """
        key = ("whisper", type(sender.mind))
        self.received[key] = self.received.get(key, 0) + 1
        kept = self.keepPrivate(sender, recipient, text, action=action)
        event = Whispered(
            sender.name,
            recipient.name,
            text,
            kept.time if kept is not None else self.now(),
            notice,
            action,
            tags,
            private_msgid(),
            id=kept.id if kept is not None else 0,
        )
        if isinstance(recipient, RemoteUser):
            assert self.peers is not None
            self.peers.whisper(recipient.key, self.nodesOf(recipient.key), event)
        else:
            self.fanout.toAccount(recipient, event)
            self._toElsewhere(recipient.key, event)
        echo = replace(event, echo=True)
        for session in sender.sessions:
            if session is not sender or sender.mind.echoes:
                self.fanout.toUser(session, echo)
        self._toElsewhere(sender.key, echo)

    def _toElsewhere(self, key: str, event: Whispered) -> None:
        """
        Send C{event} to the sessions on other nodes of the account online
        here whose name's key is C{key}, if it has any (not when the
        cluster cannot be reached).
        """
        if self.peers is not None and self.elsewhere.get(key):
            with contextlib.suppress(ClusterUnavailable):
                self.peers.whisper(key, self.nodesOf(key), event)

    def keepPrivate(
        self,
        sender: ChatUser,
        recipient: ChatUser | RemoteUser,
        text: str,
        *,
        action: bool,
    ) -> HistoryEntry | None:
        """
        Keep a private line between two accounts (never a guest's) in the
        history of their conversation (L{private_key}), so that each of
        them reads it again on any device.  A cluster keeps it in Redis in
        the background.

        @return: The entry kept on a single node, or L{None}.
        """
        if sender.account is None or recipient.account is None:
            return None
        key = private_key(sender.name, recipient.name)
        kind = ACTION if action else MESSAGE
        if self._store is None:
            assert self.peers is not None
            self.peers.keepPrivate(
                key, recipient=recipient.name, kind=kind, sender=sender.name, text=text
            )
            return None
        entry = self._store.append(
            key,
            room=recipient.name,
            kind=kind,
            sender=sender.name,
            text=text,
            time=self.now(),
        )
        if self.firstKeptId is None:
            self.firstKeptId = entry.id
        self.lastKeptId = entry.id
        return entry

    def markRead(
        self, user: ChatUser, key: str, shown: str, marker: ReadMarker
    ) -> defer.Deferred[ReadMarker]:
        """
        Move the read marker of C{user}'s account in C{key} (shown as
        C{shown}) to C{marker}, unless it is there or farther already, and
        tell every session of the account where it is now, and how many
        lines are unread after it.

        @return: A L{Deferred} firing with the marker kept.
        """
        setting = self.markers.setReadMarker(user.key, key, marker)

        async def told(kept: ReadMarker) -> ReadMarker:
            markers = self._readMarkers.get(user.key)
            if markers is not None:
                markers[key] = kept
            unread = await unread_after(self.history, key, kept)
            if user.online:
                event = ReadMarked(shown, kept.id, kept.stamp, unread)
                self.fanout.toAccount(user, event)
                if self.peers is not None and self.elsewhere.get(user.key):
                    nodes = self.nodesOf(user.key)
                    self.peers.marked(user.key, nodes, key, event)
            return kept

        return setting.addCallback(
            lambda kept: defer.Deferred.fromCoroutine(told(kept))
        )

    def keep(self, room: Room, kind: str, sender: str, text: str) -> HistoryEntry:
        """
        Keep a line of C{room} in its history (on a single node).
        """
        assert self._store is not None, "a cluster keeps its own lines"
        entry = self._store.append(
            room.key,
            room=room.name,
            kind=kind,
            sender=sender,
            text=text,
            time=self.now(),
        )
        if self.firstKeptId is None:
            self.firstKeptId = entry.id
        self.lastKeptId = entry.id
        return entry

    def historyMark(self, room: Room) -> defer.Deferred[Callable[[HistoryEntry], bool]]:
        """
        @return: A L{Deferred} firing with whether an entry of C{room}'s
            history was kept before now, as a member who joins now sees
            it: the entries for which it is true are for a replay, the
            others reach the member live.
        """
        if self.peers is None:
            return defer.succeed(self.keptBefore(self.lastKeptId))

        def before(mark: int | None) -> Callable[[HistoryEntry], bool]:
            if mark is None:
                return lambda entry: False
            return lambda entry: entry.id <= mark

        return self.peers.historyMark(room).addCallback(before)

    def keptBefore(self, mark: int | None) -> Callable[[HistoryEntry], bool]:
        """
        @param mark: L{lastKeptId} as it was when a history query began.
        @return: Whether an entry was kept before that query began: a query
            of a store that writes in the background may also see lines
            kept while it ran, which its reader gets live.
        """
        if mark is not None:
            return lambda entry: entry.id <= mark
        # Nothing was kept by this process when the query began: whatever it
        # kept since is newer than what the query was for.
        return lambda entry: self.firstKeptId is None or entry.id < self.firstKeptId

    def logMessage(self, user: ChatUser, to: str, text: str) -> None:
        """
        Log what C{user} said to C{to} (a room or a user), with
        C{--log-messages} only.
        """
        if self.config.logMessages:
            log.info(
                "{to} <{name}> {text}"
                if to.startswith("#")
                else "<{name} -> {to}> {text}",
                chat_event="message",
                name=user.name,
                to=to,
                text=text,
            )
