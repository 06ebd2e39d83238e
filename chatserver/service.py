"""
The chat server as a Twisted service: one chat, its doors listening on any
number of endpoints, with a graceful stop.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from typing import Any, cast

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import Logger
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.doors.plugin import IChatDoor, kind_of, refusal_of
from chatserver.limits.addresses import describe_address
from chatserver.limits.gate import AdmittingFactory, no_refusal
from chatserver.metrics.doors import door_of_class
from chatserver.metrics.http import ReactorTicks, make_registry, metrics_site
from chatserver.ops.listeners import listening
from chatserver.sdnotify import SystemdNotifier, Watchdog
from chatserver.server import ChatServer
from chatserver.tuning.fdlimit import raise_open_files_limit
from chatserver.tuning.gcfreeze import freeze_start_up
from chatserver.tuning.leantcp import lean_reactor
from chatserver.tuning.leantls import LeanTLSFactory
from chatserver.tuning.memory import MemoryTrimmer, find_malloc_trim
from chatserver.tuning.signals import defer_stop_signals

log = Logger(namespace=LOG_NAMESPACE)


@implementer(IStreamServerEndpoint)
class _AnnouncingEndpoint:
    """
    An endpoint that logs the address it actually listens on (the port
    C{tcp:0} was given, for instance) and records it for the console.
    """

    def __init__(
        self,
        wrapped: IStreamServerEndpoint,
        description: str,
        found: list[str],
        up: list[defer.Deferred[None]],
    ) -> None:
        """
        @param found: Where to append the address listened on.
        @param up: Where to append, at each listen, a Deferred that fires
            once listening (and never if listening fails).
        """
        self._wrapped = wrapped
        self._description = description
        self._found = found
        self._up = up

    def listen(self, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        def announce(port: IListeningPort) -> IListeningPort:
            address = describe_address(port.getHost())
            self._found.append(address)
            log.info(
                "Chat server listening on {address} ({description})",
                chat_event="listening",
                address=address,
                description=self._description,
            )
            up.callback(None)
            return port

        up: defer.Deferred[None] = defer.Deferred()
        self._up.append(up)
        return self._wrapped.listen(factory).addCallback(announce)


class ChatService(MultiService):
    """
    Listens on every endpoint of C{listeners}, each with its door's factory
    (L{IChatDoor.makeFactory}, made once per door and shared by the door's
    listeners) behind the gate (L{chatserver.limits.gate}): each connection
    is admitted at accept by the server's one admission, whatever its door.
    Stopping it stops listening, then says goodbye to every connection and
    closes the history store.

    @ivar server: What every door shares.
    @ivar factories: Each door's factory, by the door's name.
    @ivar addresses: The addresses actually listened on, once listening.
    @ivar gates: Each door's gated factories (one per listener), by the
        door's name.
    @ivar families: Each door's family (C{line} for C{--port} and
        C{--telnet}), as C{--metrics} labels every figure, by the door's
        name.
    @ivar accepting: Whether every listener is up and the service is not
        stopping.
    @ivar stopping: Whether the service is stopping.
    @ivar notifier: Tells systemd C{READY=1} once every listener is up,
        C{STOPPING=1} when stopping, and pings its watchdog.
    """

    def __init__(
        self,
        server: ChatServer,
        listeners: Iterable[tuple[IChatDoor, str]],
        reactor: object | None = None,
        *,
        freezeAtStart: bool = False,
        metrics: str = "",
        notifier: SystemdNotifier | None = None,
        reloadOnHangUp: bool = False,
    ) -> None:
        """
        @param listeners: Each door with an endpoint (a Twisted server
            endpoint string) it listens on, in the order to listen.
        @param freezeAtStart: Once the reactor runs, freeze the objects made
            to start (L{freeze_start_up}): C{twistd chat} does, tests that
            start a service in their own process do not.
        @param metrics: An endpoint to serve C{/metrics} and C{/health} on
            (not a door: not behind the gate), or C{""} for none.
        @param notifier: What tells systemd how the service is doing; by
            default the one C{$NOTIFY_SOCKET} names, if any.
        @param reloadOnHangUp: Once the reactor runs, L{reload} on
            C{SIGHUP}: C{twistd chat} does, tests that start a service in
            their own process do not.
        """
        super().__init__()
        self.freezeAtStart = freezeAtStart
        self.reloadOnHangUp = reloadOnHangUp
        if reactor is None:
            from twisted.internet import reactor
        self._reactor: Any = reactor
        self.server = server
        self.factories: dict[str, IProtocolFactory] = {}
        self.addresses: list[str] = []
        self.gates: dict[str, list[AdmittingFactory]] = {}
        self.families: dict[str, str] = {}
        self.accepting = False
        self.stopping = False
        self.trimmer = MemoryTrimmer(server.clock, find_malloc_trim())
        if notifier is None:
            notifier = SystemdNotifier.fromEnvironment(os.environ)
        self.notifier = notifier
        self._watchdog = Watchdog(notifier, cast(IReactorTime, self._reactor))
        self._up: list[defer.Deferred[None]] = []
        self._listeningReactor = lean_reactor(reactor)
        for door, description in listeners:
            factory = self.factories.get(door.name)
            if factory is None:
                factory = self.factories[door.name] = door.makeFactory(server)
            self.families[door.name] = door_of_class(type(door))
            kind = kind_of(door)
            gate = self.listen(
                description, factory, f"{kind} " if kind else "", refusal_of(door)
            )
            self.gates.setdefault(door.name, []).append(gate)
        self.ticks: ReactorTicks | None = None
        self._metrics: StreamServerEndpointService | None = None
        if metrics:
            registry = make_registry(self)
            self.ticks = ReactorTicks(self._reactor, registry)
            endpoint = _AnnouncingEndpoint(
                serverFromString(reactor, metrics), "metrics " + metrics, [], self._up
            )
            # Not a child: it answers /health (503) while the children stop
            # and the users are told goodbye, and stops after them.
            self._metrics = StreamServerEndpointService(
                endpoint, metrics_site(self, registry)
            )
            self._metrics._raiseSynchronously = True

    def listen(
        self,
        description: str,
        factory: IProtocolFactory,
        kind: str = "",
        refusal: Callable[[str], bytes] = no_refusal,
    ) -> AdmittingFactory:
        """
        Listen on the endpoint C{description} with C{factory} behind the
        gate: each connection is admitted at accept by the server's one
        admission, or told C{refusal(why)} and closed before C{factory}
        builds a protocol for it.  C{kind} (C{"telnet "}) is logged before
        the description.

        @return: The gated factory.
        """
        how = listening(self._listeningReactor, description)
        endpoint = _AnnouncingEndpoint(
            how.endpoint, kind + description, self.addresses, self._up
        )
        gate = self.server.gate(factory, refusal)
        outermost: IProtocolFactory = gate
        if how.certificate is not None:
            # TLS outside the gate, as the reactor's own ssl: listener puts
            # it, with a certificate the reload reads again.
            outermost = LeanTLSFactory(how.certificate.context, gate)
            self.server.reloader.register(how.certificate)
        listener = StreamServerEndpointService(endpoint, outermost)
        # As twisted.application.strports.service does: a port that cannot
        # be bound stops twistd at start instead of being only logged.
        listener._raiseSynchronously = True
        listener.setServiceParent(self)
        return gate

    def startService(self) -> None:
        # Every connection is a file descriptor: allow as many as the hard
        # limit does, before the first one is accepted.
        soft, hard = raise_open_files_limit()
        log.info("open files limit {soft} (hard {hard})", soft=soft, hard=hard)
        self.server.start()
        if self.reloadOnHangUp:
            # Before listening: a SIGHUP sent once a door listens reloads.
            self._handleHangUp()
        del self._up[:]
        if self._metrics is not None:
            self._metrics.startService()
        super().startService()
        self.accepting = True
        if self.ticks is not None:
            self.ticks.start()
        self.trimmer.start()
        self._watchdog.start()
        # After the reactor has installed its own signal handlers.
        self._reactor.callWhenRunning(defer_stop_signals, self._reactor)
        # Ready once listening and running: a SIGTERM systemd sends from
        # then on is handled as a graceful stop.
        defer.gatherResults(self._up).addCallback(
            lambda _: self._reactor.callWhenRunning(self._ready)
        )
        if self.freezeAtStart:
            self._reactor.callWhenRunning(self._freeze)

    def _handleHangUp(self) -> None:
        def hangUp(number: int, frame: object) -> None:
            # Only hand it over: the reload runs in the reactor loop (see
            # chatserver.tuning.signals for why).
            self._reactor.callFromThread(self.reload)

        signal.signal(signal.SIGHUP, hangUp)

    def reload(self) -> list[str]:
        """
        Read again every part of the settings read from a file (the
        message of the day, the password files, the TLS certificates, and
        whatever else registered with the server's
        L{chatserver.ops.reload.Reloader}), with nobody disconnected: on
        C{SIGHUP}, C{systemctl reload}, or the console's Reload.  A part
        that cannot be read keeps what it had.  systemd is told
        C{RELOADING=1} before and C{READY=1} after.

        @return: One line for each part that could not be read (each also
            logged); empty when all were.
        """
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notifier.notify(f"RELOADING=1\nMONOTONIC_USEC={usec}")
        try:
            return self.server.reloader.reload()
        finally:
            if not self.stopping:
                self.notifier.notify("READY=1")

    def _ready(self) -> None:
        if not self.stopping:
            self.notifier.notify("READY=1")

    def _freeze(self) -> None:
        frozen = freeze_start_up()
        log.info("{frozen} objects made at start frozen", frozen=frozen)

    def stopService(self) -> defer.Deferred[None]:
        self.accepting = False
        self.stopping = True
        self.notifier.notify("STOPPING=1")
        self._watchdog.stop()
        if self.ticks is not None:
            self.ticks.stop()
        self.trimmer.stop()
        stopped = defer.maybeDeferred(super().stopService)
        stopped.addCallback(lambda _: self.server.stop())
        metrics = self._metrics
        if metrics is not None:
            stopped.addCallback(lambda _: metrics.stopService())
        return stopped
