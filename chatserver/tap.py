"""
The C{twistd chat} command line: its options and the service they make.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING

from twisted.cred import strcred
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.internet.endpoints import serverFromString
from twisted.internet.error import CannotListenError
from twisted.logger import Logger
from twisted.python import usage

from chatserver import LOG_NAMESPACE
from chatserver.accounts.spec import parse_accounts
from chatserver.accounts.store import AccountsUnavailable
from chatserver.auth.checkers import accept_bytes
from chatserver.cluster.keys import NODE_NAME
from chatserver.cluster.url import parse_redis_url
from chatserver.config import ChatConfig
from chatserver.doors.plugin import (
    DoorOption,
    IChatDoor,
    default_endpoint_of,
    find_doors,
    options_of,
    short_name_of,
)
from chatserver.history.spec import make_store, parse_history
from chatserver.history.store import HistoryUnavailable
from chatserver.limits.addresses import DEFAULT_EXEMPT, ConnectRate, parse_network
from chatserver.metrics.jsonlog import JSON_LOGGER, log_to
from chatserver.ops.listeners import listening
from chatserver.ops.reload import IReloadable, ReloadableFile, describe_error
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatwire.errors import InvalidName, InvalidRoomName, InvalidText
from chatwire.names import check_name, check_room_name
from chatwire.text import check_text

if TYPE_CHECKING:
    from chatserver.console.service import ConsoleService

log = Logger(namespace=LOG_NAMESPACE)

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

    # The doors' options, and what the synopsis and longdesc say of them,
    # are made by __init__ from the door plugins found.
    synopsis = "[--DOOR ENDPOINT ...] [options]"
    optFlags = [
        ["log-messages", None, "Log message bodies (off by default)."],
        ["console", None, "Show a Tk console window (needs twistd -n)."],
        [
            "require-account",
            None,
            "Refuse guests: every user logs in to an account (with --accounts).",
        ],
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
            "header-timeout",
            None,
            DEFAULTS.headerTimeout,
            "Seconds an HTTP connection (to --web, or any door that speaks "
            "HTTP) has for each whole request (0: no limit).",
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
            "motd-file",
            None,
            "",
            "A file whose text is the message of the day (wins over --motd), "
            "read again on reload (SIGHUP).",
        ],
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
            "accounts",
            None,
            "",
            "Accounts users register themselves, kept in: memory, "
            "sqlite:PATH (may be the --history file), or redis (a cluster's).",
        ],
        [
            "registration",
            None,
            "open",
            "Whether users may register accounts (with --accounts): open or closed.",
        ],
        [
            "history-replay",
            None,
            DEFAULTS.historyReplay,
            "History lines shown on joining a room (0: none).",
            _non_negative_int,
        ],
        [
            "history-catchup",
            None,
            DEFAULTS.historyCatchup,
            "History lines an account is shown of each of its rooms on login "
            "since its read marker there, at most (then paging).",
            _positive_int,
        ],
        [
            "max-sessions",
            None,
            DEFAULTS.maxSessions,
            "Sessions one account may have at once, on any doors.",
            _positive_int,
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
            "metrics",
            None,
            "",
            "Serve /metrics (Prometheus) and /health over HTTP on this "
            "endpoint, e.g. tcp:9123:interface=127.0.0.1.",
        ],
        [
            "log-format",
            None,
            "text",
            "The log file's format: text, or json (one object per line).",
        ],
        [
            "console-theme",
            None,
            "light",
            "The --console window's colours: light or dark (the desktop "
            "client's themes).",
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
        [
            "cluster-password-file",
            None,
            "",
            "A file whose first line is the cluster's Redis password (wins over "
            "the URL's; or set CHAT_REDIS_PASSWORD): ps does not show it.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["exempt"] = []
        self["oper"] = []
        self["operator"] = []
        self.doors: list[IChatDoor] = []
        self._doorOptions: list[str] = []
        for door in find_doors():
            if door.name in self.synonyms:
                log.warn(
                    "Door {door!r} left out: --{name} is an option already",
                    door=door,
                    name=door.name,
                )
                continue
            self._addDoor(door)
        doors = " ".join(f"[--{door.name} ENDPOINT ...]" for door in self.doors)
        self.synopsis = f"{doors} [options]"
        names = ", ".join(f"--{door.name}" for door in self.doors)
        self.longdesc = (
            "A group chat server for telnet, nc, the Tk client and browsers. "
            f"Each door ({names}) takes any Twisted server endpoint string "
            "and may be repeated; every door shares one chat and its limits."
        )

    def _addDoor(self, door: IChatDoor) -> None:
        """
        Add C{--NAME ENDPOINT} (repeatable) for C{door}, and the options
        the door adds for itself.
        """
        self.doors.append(door)
        doc = f"{door.description} Repeatable."
        default = default_endpoint_of(door)
        if default is not None:
            doc += f" [default: {default}, when no door is given]"
        self[door.name] = []
        self._addOption(door.name, doc, self[door.name].append)
        short = short_name_of(door)
        if short is not None and short not in self.synonyms:
            self.shortOpt += f"{short}:"
            self.synonyms[short] = door.name
        for option in options_of(door):
            if option.name in self.synonyms:
                log.warn(
                    "Option --{name} of door {door!r} left out: taken",
                    name=option.name,
                    door=door,
                )
                continue
            self._addDoorOption(option)

    def _addOption(self, name: str, help: str, take: Callable[[str], None]) -> None:
        """
        Add the option C{--NAME VALUE}, handed to C{take}.
        """
        self.longOpt.append(f"{name}=")
        self.docs[name] = help
        self.synonyms[name] = name
        self._dispatch[name] = lambda _, value: take(value)

    def _addDoorOption(self, option: DoorOption) -> None:
        """
        Add an option a door adds for itself: its value goes in
        L{doorOptions}.
        """
        name = option.name
        self._doorOptions.append(name)

        def coerced(text: str) -> object:
            try:
                return option.coerce(text)
            except ValueError as e:
                raise usage.UsageError(f"--{name} {text!r}: {e}") from None

        if option.repeatable:
            self[name] = []
            self._addOption(
                name, option.help, lambda text: self[name].append(coerced(text))
            )
        else:
            self[name] = self.defaults[name] = option.default

            def take(text: str) -> None:
                self[name] = coerced(text)

            self._addOption(name, option.help, take)

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

    def opt_oper(self, description: str) -> None:
        """
        Credentials of server operators (for /oper NAME PASSWORD), apart
        from accounts: a checker as --auth takes (memory:NAME:PASSWORD,
        file:PATH, passwd:PATH); repeatable.
        """
        try:
            checker = strcred.makeChecker(description)
        except Exception as e:
            raise usage.UsageError(f"--oper: {e}") from None
        accept_bytes(checker)
        self["oper"].append(checker)

    def opt_operator(self, name: str) -> None:
        """
        An account that is a server operator when it logs in (with --auth);
        repeatable.
        """
        try:
            check_name(name)
        except InvalidName as e:
            raise usage.UsageError(f"--operator: {e.reason}") from None
        self["operator"].append(name)

    def postOptions(self) -> None:
        if self["operator"] and not self.get("credCheckers"):
            raise usage.UsageError("--operator names an account: it needs --auth")
        if not any(self[door.name] for door in self.doors):
            for door in self.doors:
                default = default_endpoint_of(door)
                if default is not None:
                    self[door.name] = [default]
        self._checkEndpoints()
        if self["log-format"] not in ("text", "json"):
            raise usage.UsageError("--log-format: text or json")
        if self["console-theme"] not in ("light", "dark"):
            raise usage.UsageError("--console-theme: light or dark")
        if self["log-format"] == "json" and self.parent is not None:
            # twistd resolves its --logger after this, by name.
            if self.parent.get("logger") is None:
                self.parent["logger"] = JSON_LOGGER
            log_to(self.parent.get("logfile"), bool(self.parent.get("nodaemon")))
        if self["motd-file"]:
            try:
                with open(self["motd-file"], encoding="utf-8") as motd:
                    self["motd"] = parse_motd(motd.read())
            except (OSError, ValueError) as e:
                raise usage.UsageError(
                    f"--motd-file {self['motd-file']!r}: {describe_error(e)}"
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
        self._checkAccounts()
        for checker in self.get("credCheckers", []):
            accept_bytes(checker)
        if self["console"]:
            from chatserver.console.service import check_console

            check_console(self.parent)

    def _checkEndpoints(self) -> None:
        from twisted.internet import reactor

        for door, description in self.listeners():
            try:
                listening(reactor, description)
            except (ValueError, TypeError, KeyError) as e:
                raise usage.UsageError(
                    f"--{door.name} {description!r} is not a server endpoint: {e}"
                ) from None
        if self["metrics"]:
            try:
                serverFromString(reactor, self["metrics"])
            except (ValueError, TypeError, KeyError) as e:
                raise usage.UsageError(
                    f"--metrics {self['metrics']!r} is not a server endpoint: {e}"
                ) from None

    def _checkAccounts(self) -> None:
        if self["registration"] not in ("open", "closed"):
            raise usage.UsageError("--registration: open or closed")
        if not self["accounts"]:
            if self["require-account"] or self["registration"] != "open":
                raise usage.UsageError(
                    "--require-account and --registration are for --accounts"
                )
            return
        try:
            parse_accounts(self["accounts"], cluster=bool(self["cluster"]))
        except ValueError as e:
            raise usage.UsageError(f"--accounts: {e}") from None

    def _checkCluster(self) -> None:
        if not self["cluster"]:
            for option in ("node-name", "cluster-password-file"):
                if self[option]:
                    raise usage.UsageError(f"--{option} is for a node of a --cluster")
            return
        if self["cluster-password-file"]:
            try:
                with open(self["cluster-password-file"], "rb"):
                    pass
            except OSError as e:
                raise usage.UsageError(
                    f"--cluster-password-file: cannot read "
                    f"{self['cluster-password-file']}: {e.strerror}"
                ) from None
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

    def listeners(self) -> list[tuple[IChatDoor, str]]:
        """
        @return: Each door given with an endpoint it listens on, the doors
            in the order of L{find_doors}, each one's endpoints in the
            order given.
        """
        return [
            (door, description)
            for door in self.doors
            for description in self[door.name]
        ]

    def doorOptions(self) -> dict[str, object]:
        """
        @return: The values of the options the doors add, by name.
        """
        return {name: self[name] for name in self._doorOptions}

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
            headerTimeout=self["header-timeout"],
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
            historyCatchup=self["history-catchup"],
            maxSessions=self["max-sessions"],
            historyKeep=self["history-keep"] * 86400,
            historyMax=self["history-max"],
            historyMemory=self["history-memory"],
            cluster=self["cluster"],
            clusterPasswordFile=self["cluster-password-file"],
            nodeName=self["node-name"],
            accounts=self["accounts"],
            registration=self["registration"] == "open",
            requireAccount=bool(self["require-account"]),
        )


def parse_motd(text: str) -> str:
    """
    @return: The message of the day a file holds: its lines (ended by LF or
        CRLF), without the blank ones at its end.
    @raise ValueError: If it is not text a user may be shown.
    """
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    motd = "\n".join(lines)
    try:
        check_text(motd.replace("\n", ""))
    except InvalidText as e:
        raise ValueError(str(e)) from None
    return motd


def _reloadables(options: Options, server: ChatServer) -> None:
    """
    Register with C{server}'s reloader what C{options} read from files:
    the message of the day, and the password files of C{--auth} and
    C{--oper}.
    """
    if options["motd-file"]:

        def use(motd: str) -> None:
            server.config = replace(server.config, motd=motd)

        server.reloader.register(
            ReloadableFile("message of the day", options["motd-file"], parse_motd, use)
        )
    for checker in [*options.checkers(), *options["oper"]]:
        if IReloadable.providedBy(checker):
            server.reloader.register(checker)


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

    The one module-level function not in snake_case: Twisted's
    L{twisted.application.service.ServiceMaker} (the C{chat} plugin in
    C{twisted/plugins/chatserver_plugin.py}) calls its module's C{makeService} by
    that name.
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
    server = ChatServer(
        config,
        checkers=options.checkers(),
        history=store,
        doorOptions=options.doorOptions(),
        operCheckers=options["oper"],
        operators=options["operator"],
    )
    _reloadables(options, server)
    if server.accounts is not None:
        check = getattr(server.accounts.store, "check", None)
        if check is not None:
            try:
                check()
            except AccountsUnavailable as e:
                raise SystemExit(f"twistd chat: {e}") from None
    service = ChatService(
        server,
        options.listeners(),
        freezeAtStart=True,
        metrics=options["metrics"],
        reloadOnHangUp=True,
    )
    if options["console"]:
        from chatserver.console.service import ConsoleService

        return ConsoleService(service, theme=options["console-theme"])
    return service
