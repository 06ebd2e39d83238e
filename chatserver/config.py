"""
The limits and settings of one chat server, as one immutable value.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.limits.addresses import (
    DEFAULT_CONNECT_RATE,
    DEFAULT_EXEMPT,
    ConnectRate,
)


@dataclass(frozen=True)
class ChatConfig:
    """
    Everything a running chat server is told by its operator.

    @ivar serverName: Shown in the greeting and the welcome line.
    @ivar motd: The message of the day shown after login; empty for none.
    @ivar maxLine: The longest line, in bytes without its line end, a client
        may send; a longer one is discarded whole with an error line.
    @ivar maxClients: Open connections at most, named or not.
    @ivar loginTimeout: Seconds a connection has to choose a name; C{0} for
        no limit.
    @ivar headerTimeout: Seconds an HTTP connection of the web door has for
        each whole request, from accept or from its last response, however
        slowly it comes; C{0} for no limit.
    @ivar idleTimeout: Seconds a logged-in user may stay silent before being
        disconnected; C{0} (the default) for no limit.
    @ivar rate: Lines per second each connection may send on average; C{0}
        for no limit.
    @ivar burst: Lines a connection may send at once before L{rate} applies.
    @ivar maxBuffer: Bytes of output that may pile up for a client that does
        not read, beyond its transport's own buffer, before it is dropped.
    @ivar logMessages: Whether message bodies are logged.
    @ivar closeGrace: Seconds a closing connection has to take its last lines
        before it is aborted.
    @ivar maxPerAddress: Simultaneous connections per address (IPv6: per
        /64); C{0} for no limit.
    @ivar connectRate: New connections per address per time window.
    @ivar exempt: Networks (CIDR strings) the per-address limits do not
        apply to.
    @ivar defaultRoom: The room every user is in after logging in.
    @ivar maxRooms: Rooms at once, at most.
    @ivar maxRoomsPerUser: Rooms one user may be in at once.
    @ivar history: Where history is kept: C{memory}, C{none} or
        C{sqlite:PATH}.
    @ivar historyReplay: History lines a user is shown on joining a room.
    @ivar historyCatchup: History lines an account is shown of a room on
        login since its read marker there, at most (then the usual paging).
    @ivar maxSessions: Sessions one account may have at once (on any
        doors): a login of an account already online adds a session.
    @ivar historyMax: History lines kept per room, at most.
    @ivar historyKeep: Seconds a history line is kept.
    @ivar historyMemory: Bytes the memory history keeps over all rooms, at
        most; the rooms written least recently lose their oldest lines
        first.
    @ivar cluster: The cluster's Redis URL (C{redis://HOST:PORT/DB}), or
        empty for a single node.
    @ivar nodeName: This node's name in the cluster; empty for the host
        name and process id.
    @ivar clusterPasswordFile: A file whose first line is the cluster's
        Redis password (it wins over the URL's), or empty.
    @ivar accounts: Where accounts users register themselves are kept
        (C{memory}, C{sqlite:PATH}, C{redis} in a cluster), or empty for
        none.
    @ivar registration: Whether users may register accounts.
    @ivar requireAccount: Whether every user must log in to an account.
    """

    serverName: str = "chat"
    motd: str = ""
    maxLine: int = 4096
    maxClients: int = 1000
    loginTimeout: float = 60.0
    headerTimeout: float = 10.0
    idleTimeout: float = 0.0
    rate: float = 5.0
    burst: int = 10
    maxBuffer: int = 1048576
    logMessages: bool = False
    closeGrace: float = 5.0
    maxPerAddress: int = 16
    connectRate: ConnectRate = DEFAULT_CONNECT_RATE
    exempt: tuple[str, ...] = DEFAULT_EXEMPT
    defaultRoom: str = "#lobby"
    maxRooms: int = 1000
    maxRoomsPerUser: int = 20
    history: str = "memory"
    historyReplay: int = 20
    historyCatchup: int = 200
    maxSessions: int = 8
    historyMax: int = 10000
    historyKeep: float = 30 * 86400.0
    historyMemory: int = 64 * 1024 * 1024
    cluster: str = ""
    clusterPasswordFile: str = ""
    nodeName: str = ""
    accounts: str = ""
    registration: bool = True
    requireAccount: bool = False
