"""
Notifications to systemd (C{$NOTIFY_SOCKET}): read from a real unix
datagram socket the test binds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogEvent, globalLogPublisher

from chatserver.config import ChatConfig
from chatserver.sdnotify import SystemdNotifier
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatserver.tap import Options


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """
    A unix datagram socket standing for systemd's, and its path.
    """
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.setblocking(False)
        yield sock, path


def received(sock: socket.socket) -> list[bytes]:
    """
    @return: Every datagram waiting on C{sock}.
    """
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


class Reactor(MemoryReactorClock):
    """
    A memory reactor with the signal handlers
    L{chatserver.tuning.signals.defer_stop_signals} looks for (never
    installed, so left alone).
    """

    def sigTerm(self, *args: object) -> None:
        pass

    def sigInt(self, *args: object) -> None:
        pass


def make_service(environ: dict[str, str]) -> ChatService:
    """
    A service listening with two doors (on a memory reactor), telling the
    systemd C{environ} names.
    """
    options = Options()
    options.parseOptions(["--port", "tcp:7", "--telnet", "tcp:8"])
    reactor = Reactor()
    return ChatService(
        ChatServer(ChatConfig(), reactor),
        options.listeners(),
        reactor,
        notifier=SystemdNotifier.fromEnvironment(environ),
    )


def test_ready_is_sent_once_every_listener_listens(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, path = systemd
    service = make_service({"NOTIFY_SOCKET": path})
    service.startService()
    try:
        assert len(service._reactor.tcpServers) == 2
        assert received(sock) == []
        service._reactor.run()
        assert received(sock) == [b"READY=1"]
    finally:
        service.stopService()


def test_stopping_is_sent_when_the_service_stops(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, path = systemd
    service = make_service({"NOTIFY_SOCKET": path})
    service.startService()
    service._reactor.run()
    received(sock)
    service.stopService()
    assert received(sock) == [b"STOPPING=1"]


def test_the_watchdog_is_pinged_every_half_of_watchdog_usec(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, path = systemd
    service = make_service({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    service.startService()
    service._reactor.run()
    try:
        assert received(sock) == [b"WATCHDOG=1", b"READY=1"]
        service._reactor.advance(14.9)
        assert received(sock) == []
        service._reactor.advance(0.1)
        assert received(sock) == [b"WATCHDOG=1"]
        service._reactor.advance(15)
        assert received(sock) == [b"WATCHDOG=1"]
    finally:
        service.stopService()


def test_the_watchdog_stops_with_the_service(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, path = systemd
    service = make_service({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    service.startService()
    service.stopService()
    received(sock)
    service._reactor.advance(60)
    assert received(sock) == []


def test_the_watchdog_of_another_process_is_not_pinged() -> None:
    notifier = SystemdNotifier.fromEnvironment(
        {
            "NOTIFY_SOCKET": "/run/systemd/notify",
            "WATCHDOG_USEC": "30000000",
            "WATCHDOG_PID": str(os.getpid() + 1),
        }
    )
    assert notifier.watchdogInterval is None


def test_nothing_is_sent_without_notify_socket(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, _ = systemd
    service = make_service({"WATCHDOG_USEC": "30000000"})
    assert service.notifier.address is None
    service.startService()
    service._reactor.run()
    service._reactor.advance(60)
    service.stopService()
    assert received(sock) == []


def test_an_abstract_socket_is_named_with_an_at_sign() -> None:
    name = f"chat-test-{os.getpid()}-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.setblocking(False)
        SystemdNotifier.fromEnvironment({"NOTIFY_SOCKET": "@" + name}).notify("READY=1")
        assert received(sock) == [b"READY=1"]


def test_a_notification_that_cannot_be_sent_is_logged_once(tmp_path: Path) -> None:
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)  # type: ignore[arg-type]
    try:
        notifier = SystemdNotifier(str(tmp_path / "nobody"))
        notifier.notify("READY=1")
        notifier.notify("STOPPING=1")
    finally:
        globalLogPublisher.removeObserver(events.append)  # type: ignore[arg-type]
    assert len([e for e in events if "Cannot notify systemd" in e["log_format"]]) == 1
