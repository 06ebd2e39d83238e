"""
The C{--metrics} listener: C{/metrics} in Prometheus' text format and
C{/health}, over twisted.web.  It is not a door: the chat's admission does
not count its connections.

Every gauge is computed when scraped, from the realm, the admission and the
counts the chat keeps as plain numbers: nothing is counted per line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from twisted.internet.task import LoopingCall
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from chatserver.metrics.doors import door_of, door_of_class
from chatserver.metrics.latency import Latencies, histogram

if TYPE_CHECKING:
    from chatserver.service import ChatService

_K = TypeVar("_K")
_L = TypeVar("_L")

# Seconds between two measures of the reactor's lateness.
TICK = 1.0


class ChatCollector:
    """
    The chat's figures, read from the service when scraped.
    """

    def __init__(self, service: ChatService) -> None:
        self._service = service

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        service = self._service
        server = service.server
        realm = server.realm
        connections = GaugeMetricFamily(
            "chat_connections", "Open connections, by door.", labels=["door"]
        )
        opened: dict[str, int] = {}
        for name, gates in service.gates.items():
            door = service.families.get(name, name)
            opened[door] = opened.get(door, 0) + sum(gate.open for gate in gates)
        for door, number in sorted(opened.items()):
            connections.add_metric([door], number)
        yield connections
        users = GaugeMetricFamily(
            "chat_users", "Logged-in users on this node, by door.", labels=["door"]
        )
        byDoor: dict[str, int] = {}
        for user in realm.users():
            door = door_of(user.mind)
            byDoor[door] = byDoor.get(door, 0) + 1
        for door, number in sorted(byDoor.items()):
            users.add_metric([door], number)
        yield users
        yield GaugeMetricFamily("chat_rooms", "Rooms.", value=len(realm.rooms))
        received = CounterMetricFamily(
            "chat_lines_received",
            "Lines users sent, by kind and door.",
            labels=["kind", "door"],
        )
        for (kind, door), number in sorted(
            _by_door(realm.received, lambda key: (key[0], door_of_class(key[1])))
        ):
            received.add_metric([kind, door], number)
        yield received
        fanout = realm.fanout
        deliveries = CounterMetricFamily(
            "chat_deliveries",
            "Writes handed to recipients (one per recipient per turn), by door.",
            labels=["door"],
        )
        for door, number in sorted(_by_door(fanout.deliveries, door_of_class)):
            deliveries.add_metric([door], number)
        yield deliveries
        bytesOut = CounterMetricFamily(
            "chat_bytes_out", "Bytes handed to recipients, by door.", labels=["door"]
        )
        for door, number in sorted(_by_door(fanout.bytesByMind, door_of_class)):
            bytesOut.add_metric([door], number)
        yield bytesOut
        yield _counter(
            "chat_logins_refused",
            "Logins refused, by reason.",
            "reason",
            server.counts.refusedLogins,
        )
        yield _counter(
            "chat_drops",
            "Connections refused or dropped by a limit, by limit.",
            "limit",
            server.counts.drops,
        )
        store: Any = getattr(realm, "history", None)
        if store is not None and hasattr(store, "writeLatency"):
            latency: Latencies = store.writeLatency
            yield HistogramMetricFamily(
                "chat_history_write_seconds",
                "Seconds each history batch took to be written to SQLite.",
                buckets=latency.cumulative(),
                sum_value=latency.sum,
            )
            yield CounterMetricFamily(
                "chat_history_write_failures",
                "History batches SQLite failed to write.",
                value=store.writeFailures,
            )
        cluster = server.cluster
        if cluster is not None:
            yield GaugeMetricFamily(
                "chat_redis_connected",
                "1 while this node's Redis link is up.",
                value=int(cluster.connected),
            )
            yield histogram(
                "chat_redis_command_seconds",
                "Seconds Redis took to answer each command (not the blocking "
                "reads), by link.",
                "link",
                {
                    link.purpose: link.latency
                    for link in (cluster.commands, cluster.reader)
                },
            )
            lag = GaugeMetricFamily(
                "chat_stream_lag_seconds",
                "Seconds between Redis's adding the newest entry of a stream "
                "and this node's reading it, at the last read (0: nothing new).",
                labels=["stream"],
            )
            for stream, seconds in sorted(cluster.streams.lag.items()):
                lag.add_metric([stream], seconds)
            yield lag


def _by_door(values: dict[_K, int], label: Callable[[_K], _L]) -> list[tuple[_L, int]]:
    """
    @return: C{values} summed by C{label} of their keys.
    """
    summed: dict[_L, int] = {}
    for key, number in values.items():
        labelled = label(key)
        summed[labelled] = summed.get(labelled, 0) + number
    return list(summed.items())


def _counter(
    name: str, documentation: str, label: str, values: dict[str, int]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class ReactorTicks:
    """
    How late the reactor runs a call due every L{TICK} seconds: Synapse's
    C{python_twisted_reactor_tick_time} and C{..._last_seen}.
    """

    def __init__(self, clock: Any, registry: CollectorRegistry) -> None:
        self._clock = clock
        self.tickTime = Histogram(
            "python_twisted_reactor_tick_time",
            "Seconds a call was late, measured every second.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=registry,
        )
        self.lastSeen = Gauge(
            "python_twisted_reactor_last_seen",
            "When the reactor last ran the measuring call (Unix time).",
            registry=registry,
        )
        self._loop = LoopingCall(self._tick)
        self._loop.clock = clock
        self._due = 0.0

    def start(self) -> None:
        self._due = self._clock.seconds() + TICK
        self._loop.start(TICK, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def _tick(self) -> None:
        now = self._clock.seconds()
        self.tickTime.observe(max(0.0, now - self._due))
        self.lastSeen.set(now)
        self._due = now + TICK


class MetricsResource(Resource):
    """
    C{/metrics}: rendered in the reactor, as Synapse's own resource does.
    """

    isLeaf = True

    def __init__(self, registry: CollectorRegistry) -> None:
        super().__init__()
        self._registry = registry

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode("ascii"))
        return generate_latest(self._registry)


class HealthResource(Resource):
    """
    C{/health}: 200 C{OK} while the server accepts users, 503 otherwise.
    """

    isLeaf = True

    def __init__(self, service: ChatService) -> None:
        super().__init__()
        self._service = service

    def render_GET(self, request: Request) -> bytes:
        why = unhealthy(self._service)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        if why:
            request.setResponseCode(503)
            return why.encode("utf-8") + b"\n"
        return b"OK\n"


def unhealthy(service: ChatService) -> str:
    """
    @return: Why C{service} does not accept users now (starting, stopping,
        Redis lost), or C{""} while it does.
    """
    server = service.server
    if service.stopping or server.realm.shuttingDown:
        return "stopping"
    if not service.accepting:
        return "starting"
    if server.cluster is not None and not server.cluster.connected:
        return "Redis lost"
    return ""


class _QuietSite(Site):
    """
    A site that does not log each request: a scrape every few seconds would
    fill the chat's log.
    """

    def log(self, request: object) -> None:
        pass


def metrics_site(service: ChatService, registry: CollectorRegistry) -> Site:
    """
    @return: The site the C{--metrics} listener serves.
    """
    root = Resource()
    root.putChild(b"metrics", MetricsResource(registry))
    root.putChild(b"health", HealthResource(service))
    site = _QuietSite(root)
    site.displayTracebacks = False
    return site


def make_registry(service: ChatService) -> CollectorRegistry:
    """
    @return: A registry of our own with the chat's figures.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ChatCollector(service))
    return registry
