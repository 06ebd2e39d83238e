"""
What every door of one chat server shares: the chat (realm and portal), the
settings, the clock, and the limits that count across doors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.portal import Portal
from twisted.internet import defer
from twisted.internet.interfaces import IProtocolFactory, IReactorTime

from chatserver.accounts.checker import AccountsChecker
from chatserver.accounts.registry import Accounts
from chatserver.accounts.spec import make_accounts_store
from chatserver.auth.checkers import AnyNameChecker, wants_password
from chatserver.config import ChatConfig
from chatserver.core.realm import ChatRealm
from chatserver.history.store import HistoryReader, HistoryStore
from chatserver.limits.addresses import AddressLimits, parse_network
from chatserver.limits.admission import Admission
from chatserver.limits.flow import TokenBucket
from chatserver.limits.gate import AdmittingFactory, no_refusal
from chatserver.limits.throttle import LoginThrottle, RegistrationRate
from chatserver.metrics.counts import ChatCounts
from chatserver.ops.reload import Reloader
from chatwire.names import name_key

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode


class ChatServer:
    """
    One chat server, as its doors see it.

    @ivar config: The server's settings.
    @ivar clock: The reactor's clock (a L{twisted.internet.task.Clock} in
        tests).
    @ivar realm: The chat.
    @ivar portal: Where every login goes: over the C{--auth} checkers, or
        over L{AnyNameChecker} for an open server.
    @ivar passwords: Whether logging in needs a password.
    @ivar accounts: The accounts users register themselves
        (C{--accounts}), or L{None}.
    @ivar admission: The open connections and the limits on opening more.
    @ivar loginThrottle: Slows down failed logins per address.
    @ivar bucket: The token bucket policy that paces every client's input.
    @ivar counts: Refused logins and dropped connections, for C{--metrics}.
    @ivar reloader: The parts of the settings read again on reload (the
        message of the day, password files, TLS certificates; an operators'
        or bans file registers there too).
    @ivar doorOptions: The values of the options doors add to C{twistd chat}
        (L{chatserver.doors.DoorOption}), by option name; an option not in
        it was not known when the server was made (its door reads its
        default).

    @param checkers: The C{--auth} checkers; none for an open server.
    @param operCheckers: The C{--oper} checkers, which C{/oper} asks.
    @param operators: The accounts that are server operators at login
        (C{--operator}).
    """

    def __init__(
        self,
        config: ChatConfig,
        clock: IReactorTime | None = None,
        checkers: list[ICredentialsChecker] | None = None,
        history: HistoryStore | HistoryReader | None = None,
        *,
        doorOptions: Mapping[str, Any] | None = None,
        operCheckers: list[ICredentialsChecker] | None = None,
        operators: Iterable[str] = (),
    ) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.config = config
        self.doorOptions: Mapping[str, Any] = dict(doorOptions or {})
        self.clock: IReactorTime = clock
        self.cluster: ClusterNode | None = None
        if config.cluster:
            from chatserver.cluster.node import ClusterNode, default_node_name
            from chatserver.cluster.url import parse_redis_url, with_password
            from chatserver.history.redis import RedisHistory

            self.cluster = ClusterNode(
                with_password(
                    parse_redis_url(config.cluster), config.clusterPasswordFile
                ),
                config.nodeName or default_node_name(),
                clock,
                config.historyMax,
                config.historyKeep,
            )
            history = RedisHistory(self.cluster.commands, config.historyKeep, clock)
        addresses = AddressLimits(
            config.maxPerAddress,
            config.connectRate,
            [parse_network(network) for network in config.exempt],
            clock,
        )
        self.accounts: Accounts | None = None
        if config.accounts:
            self.accounts = Accounts(
                make_accounts_store(
                    config.accounts,
                    None if self.cluster is None else self.cluster.commands,
                ),
                clock,
                registration=config.registration,
                required=config.requireAccount,
                operator=checkers or (),
                rate=RegistrationRate(clock, addresses.counted),
            )
        self.realm = ChatRealm(
            config,
            history,
            clock,
            accounts=bool(checkers) and self.accounts is None,
            peers=self.cluster,
        )
        if self.cluster is not None:
            self.cluster.attach(self.realm)
        self.realm.moderation.operCheckers = list(operCheckers or ())
        self.realm.moderation.operatorAccounts = frozenset(
            name_key(name) for name in operators
        )
        open: list[ICredentialsChecker] = [AnyNameChecker()]
        if self.accounts is not None:
            self.realm.registry = self.accounts
            open = [AccountsChecker(self.accounts)]
        elif checkers:
            open = checkers
        self.portal = Portal(self.realm, open)
        self.passwords = wants_password(self.portal)
        self.admission = Admission(config.maxClients, addresses)
        self.loginThrottle = LoginThrottle(clock)
        self.bucket = TokenBucket(config.rate, config.burst, clock)
        self.counts = ChatCounts()
        # The logins waiting for start to end, while it runs.
        self._starting: list[defer.Deferred[None]] | None = None
        self.reloader = Reloader()

    def gate(
        self,
        factory: IProtocolFactory,
        refusal: Callable[[str], bytes] = no_refusal,
    ) -> AdmittingFactory:
        """
        @return: C{factory}, a door's, behind the gate: each connection is
            admitted at accept by this server's admission, or told
            C{refusal(why)} and closed before C{factory} builds a protocol
            for it (see L{chatserver.limits.gate}).
        """
        return AdmittingFactory(
            factory,
            self.admission,
            self.clock,
            self.config.closeGrace,
            refusal,
            counts=self.counts,
        )

    def start(self) -> defer.Deferred[None]:
        """
        Open the history store, and join the cluster if there is one.
        """
        if self.cluster is not None:
            self.cluster.start()
        moderation = self.realm.moderation
        started = self.realm.history.start()
        started.addCallback(lambda _: moderation.load())
        if self.accounts is not None:
            accounts = self.accounts
            started.addCallback(lambda _: accounts.start())
        if self.cluster is None:
            # A cluster's node answers logins while Redis is away (each is
            # refused in one line): only a node of its own waits.
            self._starting = []

        def done(result: object) -> object:
            waiting, self._starting = self._starting or [], None
            for waiter in waiting:
                waiter.callback(None)
            return result

        return started.addBoth(done)

    def whenStarted(self) -> defer.Deferred[None]:
        """
        @return: A L{Deferred} that fires once L{start} has read what the
            server keeps (its history, the moderation state, the accounts),
            at once when no start is under way or in a cluster: a login
            waits for it, so that a ban kept across a restart holds from the
            first login on.
        """
        if self._starting is None:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._starting.append(waiter)
        return waiter

    def stop(self) -> defer.Deferred[None]:
        """
        Say goodbye to every connection, then close the history store and
        leave the cluster.
        """
        self.realm.shuttingDown = True
        closed = self.admission.shutdown()
        self.realm.moderation.stop()
        closed.addCallback(lambda _: self.realm.history.stop())
        if self.accounts is not None:
            accounts = self.accounts
            closed.addCallback(lambda _: accounts.stop())
        if self.cluster is not None:
            cluster = self.cluster
            closed.addCallback(lambda _: cluster.stop())
        return closed
