"""
The C{twistd chat} command line: its options and the service they make.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from twisted.cred import strcred
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.python import usage

from chatserver.auth.checkers import accept_bytes
from chatserver.cluster.keys import NODE_NAME
from chatserver.cluster.url import parse_redis_url
from chatserver.config import ChatConfig
from chatserver.core.errors import InvalidRoomName, InvalidText
from chatserver.core.names import check_room_name
from chatserver.core.text import check_text
from chatserver.history.spec import make_store, parse_history
from chatserver.history.store import HistoryUnavailable
from chatserver.limits.addresses import DEFAULT_EXEMPT, ConnectRate, parse_network
from chatserver.server import ChatServer
from chatserver.service import ChatService

if TYPE_CHECKING:
    from chatserver.console.service import ConsoleService

DEFAULT_PORT = "tcp:8123"
# The options default to what a ChatConfig defaults to.
DEFAULTS = ChatConfig()


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"{value} is not a positive whole number")
    return number


def _non_negative(value: str) -> float:
    number = float(value)
    if not number >= 0:  # also refuses NaN
        raise ValueError(f"{value} is not zero or more")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{value} is not a whole number of 0 or more")
    return number


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:  # also refuses NaN
        raise ValueError(f"{value} is not more than zero")
    return number


_non_negative_int.coerceDoc = "Must be a whole number of 0 or more."  # type: ignore[attr-defined]
_positive.coerceDoc = "Must be a number more than 0."  # type: ignore[attr-defined]
_positive_int.coerceDoc = "Must be a whole number of 1 or more."  # type: ignore[attr-defined]
_non_negative.coerceDoc = "Must be a number of 0 or more."  # type: ignore[attr-defined]


class Options(usage.Options, strcred.AuthOptionMixin):
    """
    Options of C{twistd chat}, with twisted.cred's C{--auth} (and
    C{--help-auth}): with any C{--auth}, names are accounts and need a
    password.
    """

    supportedInterfaces = (IUsernamePassword,)

    synopsis = (
        "[--port ENDPOINT ...] [--telnet ENDPOINT ...] [--irc ENDPOINT ...] "
        "[--web ENDPOINT ...] [options]"
    )
    longdesc = (
        "A group chat server for telnet, nc, the Tk client and browsers. "
        "--port, --telnet and --web take any Twisted server endpoint string "
        "and may be repeated."
    )
    optFlags = [
        ["log-messages", None, "Log message bodies (off by default)."],
        ["console", None, "Show a Tk console window (needs twistd -n)."],
    ]
    optParameters = [
        [
            "max-line",
            None,
            DEFAULTS.maxLine,
            "Longest line a client may send, in bytes.",
            _positive_int,
        ],
        [
            "max-clients",
            None,
            DEFAULTS.maxClients,
            "Most open connections, named or not.",
            _positive_int,
        ],
        [
            "login-timeout",
            None,
            DEFAULTS.loginTimeout,
            "Seconds to choose a name before being disconnected (0: no limit).",
            _non_negative,
        ],
        [
            "idle-timeout",
            None,
            DEFAULTS.idleTimeout,
            "Seconds a logged-in user may stay silent (0: no limit).",
            _non_negative,
        ],
        [
            "rate",
            None,
            DEFAULTS.rate,
            "Lines per second per connection (0: no limit).",
            _non_negative,
        ],
        [
            "burst",
            None,
            DEFAULTS.burst,
            "Lines a connection may send at once.",
            _positive_int,
        ],
        [
            "max-buffer",
            None,
            DEFAULTS.maxBuffer,
            "Bytes of output that may pile up for a client that does not read.",
            _positive_int,
        ],
        ["motd", None, DEFAULTS.motd, "Message of the day, shown after login."],
        [
            "server-name",
            None,
            DEFAULTS.serverName,
            "Name of this server, shown to users.",
        ],
        [
            "max-per-ip",
            None,
            DEFAULTS.maxPerAddress,
            "Connections at once from one address, IPv6 by /64 (0: no limit).",
            int,
        ],
        [
            "connect-rate",
            None,
            str(DEFAULTS.connectRate),
            "New connections per address: N/SECONDS (N 0: no limit).",
        ],
        [
            "default-room",
            None,
            DEFAULTS.defaultRoom,
            "The room every user is in after logging in.",
        ],
        [
            "max-rooms",
            None,
            DEFAULTS.maxRooms,
            "Rooms at once, at most.",
            _positive_int,
        ],
        [
            "max-rooms-per-user",
            None,
            DEFAULTS.maxRoomsPerUser,
            "Rooms one user may be in at once.",
            _positive_int,
        ],
        [
            "history",
            None,
            DEFAULTS.history,
            "Where room history is kept: memory, none, or sqlite:PATH.",
        ],
        [
            "history-replay",
            None,
            DEFAULTS.historyReplay,
            "History lines shown on joining a room (0: none).",
            _non_negative_int,
        ],
        [
            "history-keep",
            None,
            DEFAULTS.historyKeep / 86400,
            "Days a history line is kept.",
            _positive,
        ],
        [
            "history-max",
            None,
            DEFAULTS.historyMax,
            "History lines kept per room, at most.",
            _positive_int,
        ],
        [
            "history-memory",
            None,
            DEFAULTS.historyMemory,
            "Bytes of history kept in memory over all rooms, at most "
            "(--history memory); the rooms written least recently lose "
            "their oldest lines first.",
            _positive_int,
        ],
        [
            "cluster",
            None,
            "",
            "Be a node of the cluster whose Redis is at this URL: "
            "redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://... for TLS.",
        ],
        [
            "node-name",
            None,
            "",
            "This node's name in the cluster (default: host name and process id).",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["port"] = []
        self["telnet"] = []
        self["irc"] = []
        self["web"] = []
        self["web-origin"] = []
        self["exempt"] = []

    def opt_exempt(self, network: str) -> None:
        """
        A network (CIDR) the per-address limits do not apply to; repeatable
        [default: 127.0.0.1/32 and ::1/128].
        """
        try:
            parse_network(network)
        except ValueError as e:
            raise usage.UsageError(f"--exempt {network!r}: {e}") from None
        self["exempt"].append(network)

    def opt_port(self, description: str) -> None:
        """
        Endpoint to listen on, such as tcp:8123:interface=127.0.0.1 or
        ssl:8124:privateKey=server.pem [default: tcp:8123]. Repeatable.
        """
        self["port"].append(description)

    opt_p = opt_port

    def opt_telnet(self, description: str) -> None:
        """
        Endpoint to listen on for telnet clients, such as
        tcp:8023:interface=127.0.0.1: the same chat, with 8-bit input
        (telnet BINARY) and no echo while a password is typed. Repeatable.
        """
        self["telnet"].append(description)

    def opt_irc(self, description: str) -> None:
        """
        Endpoint to listen on for IRC clients, such as tcp:6667 or
        ssl:6697:privateKey=server.pem: the same chat, over IRC (RFC 1459
        and 2812, with IRCv3). Repeatable.
        """
        self["irc"].append(description)

    def opt_web(self, description: str) -> None:
        """
        Endpoint to serve the chat page (/) and its WebSocket (/ws) on, such
        as tcp:8080 or ssl:8443:privateKey=server.pem. Repeatable.
        """
        self["web"].append(description)

    def opt_web_origin(self, origin: str) -> None:
        """
        An origin (https://chat.example.org) whose pages may use the
        WebSocket; repeatable [default: the page's own origin].
        """
        if "://" not in origin:
            raise usage.UsageError(
                f"--web-origin {origin!r}: an origin is SCHEME://HOST[:PORT]"
            )
        self["web-origin"].append(origin)

    def postOptions(self) -> None:
        if not any(self[door] for door in ("port", "telnet", "irc", "web")):
            self["port"] = [DEFAULT_PORT]
        from twisted.internet import reactor

        for option in ("port", "telnet", "irc", "web"):
            for description in self[option]:
                try:
                    serverFromString(reactor, description)
                except (ValueError, TypeError, KeyError) as e:
                    raise usage.UsageError(
                        f"--{option} {description!r} is not a server endpoint: {e}"
                    ) from None
        for option in ("motd", "server-name"):
            try:
                check_text(self[option].replace("\n", ""))
            except InvalidText as e:
                raise usage.UsageError(f"--{option}: {e}") from None
        if not self["server-name"].strip():
            raise usage.UsageError("--server-name cannot be empty")
        if self["max-per-ip"] < 0:
            raise usage.UsageError("--max-per-ip must be 0 or more")
        try:
            self["connect-rate"] = ConnectRate.parse(self["connect-rate"])
        except ValueError as e:
            raise usage.UsageError(f"--connect-rate: {e}") from None
        if not self["exempt"]:
            self["exempt"] = list(DEFAULT_EXEMPT)
        try:
            check_room_name(self["default-room"])
        except InvalidRoomName as e:
            raise usage.UsageError(f"--default-room: {e.reason}") from None
        try:
            parse_history(self["history"])
        except ValueError as e:
            raise usage.UsageError(f"--history: {e}") from None
        self._checkCluster()
        for checker in self.get("credCheckers", []):
            accept_bytes(checker)
        if self["console"]:
            from chatserver.console.service import check_console

            check_console(self.parent)

    def _checkCluster(self) -> None:
        if not self["cluster"]:
            if self["node-name"]:
                raise usage.UsageError("--node-name is for a node of a --cluster")
            return
        try:
            parse_redis_url(self["cluster"])
        except ValueError as e:
            raise usage.UsageError(f"--cluster: {e}") from None
        if self["history"] != DEFAULTS.history:
            raise usage.UsageError(
                "--history: a cluster keeps its history in Redis; leave it out"
            )
        if self["node-name"] and not NODE_NAME.fullmatch(self["node-name"]):
            raise usage.UsageError(
                "--node-name: letters, digits, '.', '_' and '-', at most 64"
            )
        if importlib.util.find_spec("txredisapi") is None:
            raise usage.UsageError(
                "--cluster needs txredisapi: pip install 'twisted-groupchat[cluster]'"
            )

    def checkers(self) -> list[ICredentialsChecker]:
        """
        @return: The C{--auth} checkers; none for an open server.
        """
        return list(self.get("credCheckers", []))

    def config(self) -> ChatConfig:
        """
        @return: The server settings these options describe.
        """
        return ChatConfig(
            serverName=self["server-name"],
            motd=self["motd"],
            maxLine=self["max-line"],
            maxClients=self["max-clients"],
            loginTimeout=self["login-timeout"],
            idleTimeout=self["idle-timeout"],
            rate=self["rate"],
            burst=self["burst"],
            maxBuffer=self["max-buffer"],
            logMessages=bool(self["log-messages"]),
            maxPerAddress=self["max-per-ip"],
            connectRate=self["connect-rate"],
            exempt=tuple(self["exempt"]),
            defaultRoom=self["default-room"],
            maxRooms=self["max-rooms"],
            maxRoomsPerUser=self["max-rooms-per-user"],
            history=self["history"],
            historyReplay=self["history-replay"],
            historyKeep=self["history-keep"] * 86400,
            historyMax=self["history-max"],
            historyMemory=self["history-memory"],
            cluster=self["cluster"],
            nodeName=self["node-name"],
        )


class _CannotListenInOneLine:
    """
    A C{sys.excepthook} that makes a port that cannot be listened on end
    twistd with one line, not a traceback.

    twistd starts the listeners before the reactor runs and lets what they
    raise end the process: in daemon mode it reports the error in one line
    itself, in the foreground Python prints the traceback.  This hook prints
    only the error for L{CannotListenError} and leaves everything else to
    the hook it wraps.
    """

    def __init__(
        self,
        previous: Callable[
            [type[BaseException], BaseException, TracebackType | None], object
        ],
    ) -> None:
        self.previous = previous

    def __call__(
        self,
        kind: type[BaseException],
        value: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(value, CannotListenError):
            sys.stderr.write(f"twistd chat: {value}\n")
        else:
            self.previous(kind, value, traceback)

    @classmethod
    def install(cls) -> None:
        """
        Wrap the current C{sys.excepthook}, once however often it is called.
        """
        if not isinstance(sys.excepthook, cls):
            sys.excepthook = cls(sys.excepthook)


def makeService(options: Options) -> ChatService | ConsoleService:
    """
    Make the chat service C{twistd chat} runs.
    """
    _CannotListenInOneLine.install()
    config = options.config()
    store = None
    if not config.cluster:
        store = make_store(
            parse_history(config.history),
            config.historyMax,
            config.historyKeep,
            maxMemory=config.historyMemory,
        )
        check = getattr(store, "check", None)
        if check is not None:
            try:
                check()
            except HistoryUnavailable as e:
                raise SystemExit(f"twistd chat: {e}") from None
    server = ChatServer(config, checkers=options.checkers(), history=store)
    service = ChatService(
        server,
        options["port"],
        telnet=options["telnet"],
        irc=options["irc"],
        web=options["web"],
        webOrigins=options["web-origin"],
        freezeAtStart=True,
    )
    if options["console"]:
        from chatserver.console.service import ConsoleService

        return ConsoleService(service)
    return service
