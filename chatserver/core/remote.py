"""
What the realm knows of the rest of a cluster: the users logged in on other
nodes (L{RemoteUser}), the sessions of accounts on other nodes
(L{RemoteSession}; an account may have sessions on this node too), and the
other nodes themselves as the realm talks to them (L{Peers}, implemented by
L{chatserver.cluster.node.ClusterNode}).

A single node has no peers: the realm then keeps lines in its own history
store and tells its rooms at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from twisted.internet.defer import Deferred

from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.core.events import ChatEvent, ReadMarked, Tags, Whispered
    from chatserver.core.rooms import Room
    from chatserver.core.users import ChatUser


class RemoteUser:
    """
    A user logged in on another node.

    @ivar name: The user's name.
    @ivar key: The name's key.
    @ivar node: The name of the node the user is logged in on.
    @ivar since: When the user logged in, in POSIX seconds.
    @ivar away: Why the user is away; empty when here.
    @ivar rooms: The keys of the user's rooms, in the order this node
        learnt of them (a dict used as an ordered set).
    @ivar door: The door it came through (C{irc}, C{line}...), as its node
        told; the IRC door shows it.
    @ivar ident: What an IRC user gave as its user name, or empty.
    @ivar realname: What an IRC user gave as its real name, or empty.
    @ivar session: Its login's session id, the same on every node (a rename
        names its user by it), or empty.
    @ivar account: The account it logged in to, or L{None} for a guest (as
        its node told at login).
    """

    __slots__ = (
        "account",
        "away",
        "door",
        "ident",
        "key",
        "name",
        "node",
        "realname",
        "rooms",
        "session",
        "since",
    )

    def __init__(self, name: str, node: str, since: float, away: str = "") -> None:
        self.name = name
        self.key = name_key(name)
        self.node = node
        self.since = since
        self.away = away
        self.rooms: dict[str, None] = {}
        self.door = ""
        self.ident = ""
        self.realname = ""
        self.session = ""
        self.account: str | None = None

    @classmethod
    def fromInfo(cls, info: dict[str, object]) -> RemoteUser:
        """
        @return: The user its node described as C{info} (C{name}, C{node},
            C{since}, and maybe C{away}, C{door}, C{ident}, C{realname}).
        """
        user = cls(str(info["name"]), str(info["node"]), float(str(info["since"])))
        user.session = str(info.get("session", ""))
        user.update(info)
        return user

    def update(self, info: dict[str, object]) -> None:
        """
        Take what may change of C{info}: the away message and the door's
        details.
        """
        self.away = str(info.get("away", ""))
        self.door = str(info.get("door", ""))
        self.ident = str(info.get("ident", ""))
        self.realname = str(info.get("realname", ""))
        self.account = str(info.get("account", "")) or None

    def __repr__(self) -> str:
        return f"<RemoteUser {self.name} on {self.node}>"


@dataclass(frozen=True, slots=True)
class RemoteSession:
    """
    A session of an account logged in on another node (the account may
    have sessions on this node too): what C{/sessions} shows of it.

    @ivar node: The node it is logged in on.
    @ivar door: The door it came through.
    @ivar peer: Where it comes from.
    @ivar since: When it logged in, in POSIX seconds.
    """

    node: str
    door: str
    peer: str
    since: float


class Peers(Protocol):
    """
    The other nodes of a cluster, as the realm tells them what happens here.

    Each call but L{claim} returns at once: what must reach the other nodes
    is sent in the background, and kept while the cluster is unreachable.
    """

    def claim(self, name: str, account: bool = False) -> Deferred[bool]:
        """
        Claim C{name} for a user of this node, cluster-wide and atomically.

        @param account: Whether C{name} is an account's, which may be
            online on other nodes too (up to C{--max-sessions} sessions in
            all).
        @return: A L{Deferred} that fires with whether the name was free
            (or the account's, online elsewhere), or fails with
            L{chatwire.errors.TooManySessions}.
        """

    def reserve(self, name: str) -> Deferred[bool]:
        """
        Reserve one more session of the account C{name}, online here, for a
        login under way, counted with every node's sessions atomically (as
        L{claim} reserves an account's first session here).

        @return: A L{Deferred} that fires with whether this node still
            holds the account, or fails with
            L{chatwire.errors.TooManySessions}.
        """

    def unreserve(self, name: str) -> None:
        """
        Give back the session L{reserve} reserved for a login of C{name}
        that did not happen.
        """

    def loggedIn(self, user: ChatUser) -> None:
        """
        C{user}, whose name this node claimed, is now online here.
        """

    def loggedOut(self, user: ChatUser, rooms: tuple[Room, ...], reason: str) -> None:
        """
        C{user} left the chat from C{rooms}, for C{reason}: free its name.
        """

    def release(self, name: str) -> None:
        """
        Free C{name}, claimed for a user that went away before using it.
        """

    def keepPrivate(
        self, key: str, *, recipient: str, kind: str, sender: str, text: str
    ) -> None:
        """
        Keep a private line between two accounts in the cluster's history of
        their conversation C{key}, in the background.
        """

    def sessionAdded(self, session: ChatUser) -> None:
        """
        One more C{session} of an account online here (see
        L{ChatUser.sessions}): the other nodes still see one user.
        """

    def sessionEnded(self, session: ChatUser) -> None:
        """
        C{session}, one of several of its account here, ended; the others
        go on.
        """

    def renamed(self, user: ChatUser, oldName: str) -> None:
        """
        C{user}, whose new name this node claimed, was called C{oldName}:
        free the old name.
        """

    def joined(self, user: ChatUser, room: Room) -> None:
        """
        C{user} joined C{room}: follow the room if it is new here.
        """

    def parted(self, user: ChatUser, room: Room, reason: str) -> None:
        """
        C{user} left C{room}: stop following it if nobody here is in it.
        """

    def away(self, user: ChatUser) -> None:
        """
        C{user} set or cleared its away message.
        """

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
        """
        Send a line of C{room} to the whole cluster, where it is given its
        place and id; every node, this one included, tells its members when
        it reads the line back.
        """

    def whisper(self, key: str, nodes: Iterable[str], event: Whispered) -> None:
        """
        Send the private line C{event} to the user whose name's key is
        C{key} on each of C{nodes} (every session of it there).

        @raise chatwire.errors.ClusterUnavailable: If the cluster cannot be
            reached now.
        """

    def kick(self, key: str, nodes: Iterable[str], reason: str) -> None:
        """
        Ask each of C{nodes} to disconnect the user whose name's key is
        C{key}.
        """

    def endSession(self, key: str, session: str, node: str, reason: str) -> None:
        """
        Ask C{node} to end C{session}, a session of the account whose name's
        key is C{key}, for C{reason}.
        """

    def marked(
        self, key: str, nodes: Iterable[str], target: str, event: ReadMarked
    ) -> None:
        """
        The read marker of the account whose name's key is C{key} moved in
        C{target} (a room's or a private conversation's key) as C{event}
        says: tell its sessions on each of C{nodes}.
        """

    def moderated(self, roomKey: str, event: ChatEvent) -> None:
        """
        A moderator here changed the room whose key is C{roomKey} (C{""}
        for a kline), as C{event} tells (L{BanChanged}, L{RoleChanged},
        L{ModeChanged}, L{Kicked}, L{Invited}): every other node applies
        the change and tells its members.
        """

    def claimRoom(self, user: ChatUser, room: Room) -> None:
        """
        C{user} made C{room} here: it becomes its operator if no node's
        user made it first (L{ChatRealm.madeRoom}).
        """

    def historyMark(self, room: Room) -> Deferred[int | None]:
        """
        @return: A L{Deferred} firing with the id of the last line of
            C{room} that this node's members were not sent live: a history
            replay shows the lines up to it, and nothing after it.
        """
