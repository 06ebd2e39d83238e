"""
C{/health} of the C{--metrics} listener: 200 while the server accepts
users, 503 while it starts or stops.
"""

from __future__ import annotations

from twisted.internet.testing import MemoryReactorClock
from twisted.web.test.requesthelper import DummyRequest

from chatserver.config import ChatConfig
from chatserver.metrics.http import HealthResource
from chatserver.server import ChatServer
from chatserver.service import ChatService


def make_service() -> ChatService:
    reactor = MemoryReactorClock()
    return ChatService(
        ChatServer(ChatConfig(), reactor),
        [],
        reactor,
        metrics="tcp:9123:interface=127.0.0.1",
    )


def health(service: ChatService) -> tuple[int, bytes]:
    request = DummyRequest([b""])
    body = HealthResource(service).render_GET(request)  # type: ignore[arg-type]
    return request.responseCode or 200, body


def test_health_is_503_before_the_service_starts() -> None:
    assert health(make_service()) == (503, b"starting\n")


def test_health_is_ok_once_the_service_listens() -> None:
    service = make_service()
    service.startService()
    try:
        assert health(service) == (200, b"OK\n")
    finally:
        service.stopService()


def test_health_is_503_while_the_service_stops() -> None:
    service = make_service()
    service.startService()
    service.stopService()
    assert health(service) == (503, b"stopping\n")


def test_the_metrics_listener_is_not_behind_the_gate() -> None:
    service = make_service()
    assert service.gates == {}
    service.startService()
    try:
        reactor = service._reactor
        [(port, factory, _, interface)] = reactor.tcpServers
        assert (port, interface) == (9123, "127.0.0.1")
        assert type(factory).__name__ == "_QuietSite"
    finally:
        service.stopService()


class LostCluster:
    connected = False


def test_health_is_503_while_a_cluster_node_has_lost_redis() -> None:
    service = make_service()
    service.startService()
    try:
        service.server.cluster = LostCluster()  # type: ignore[assignment]
        assert health(service) == (503, b"Redis lost\n")
    finally:
        service.server.cluster = None
        service.stopService()
