"""
Telling systemd how the server is doing: datagrams such as C{READY=1} to
the unix socket named by C{$NOTIFY_SOCKET} (see C{sd_notify(3)}), with no
dependency beyond the standard library.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE

log = Logger(namespace=LOG_NAMESPACE)


class SystemdNotifier:
    """
    Sends notifications to systemd's socket, or does nothing when there is
    none.  A failure to send is logged once and never raised.

    @ivar address: The socket's address (C{"\\0..."} for an abstract
        socket), or C{None} when not run by systemd.
    @ivar watchdogInterval: Seconds between C{WATCHDOG=1} pings (half of
        C{$WATCHDOG_USEC}), or C{None} when systemd asks for none.
    """

    def __init__(
        self, address: str | None, watchdogInterval: float | None = None
    ) -> None:
        self.address = address
        self.watchdogInterval = watchdogInterval
        self._failed = False

    @classmethod
    def fromEnvironment(cls, environ: Mapping[str, str]) -> SystemdNotifier:
        """
        @param environ: The process's environment (C{os.environ}).
        @return: A notifier for C{$NOTIFY_SOCKET} (an abstract socket when
            it starts with C{@}), pinging the watchdog when
            C{$WATCHDOG_USEC} is set for this process (C{$WATCHDOG_PID},
            when set, is this process's id).
        """
        address = environ.get("NOTIFY_SOCKET") or None
        if address is not None and address.startswith("@"):
            address = "\0" + address[1:]
        interval = None
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        if address is not None and usec.isdigit() and int(usec) > 0 and ours:
            interval = int(usec) / 2_000_000
        return cls(address, interval)

    def notify(self, state: str) -> None:
        """
        Send C{state} (C{"READY=1"}) to systemd, if it listens.

        @param state: Newline-separated C{KEY=VALUE} assignments.
        """
        if self.address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never wait on systemd from the reactor thread.
                sock.setblocking(False)
                sock.sendto(state.encode("utf-8"), self.address)
        except OSError as error:
            if not self._failed:
                self._failed = True
                log.warn(
                    "Cannot notify systemd at {address!r}: {error}",
                    address=self.address,
                    error=error,
                )


class Watchdog:
    """
    Pings systemd's watchdog (C{WATCHDOG=1}) every
    L{SystemdNotifier.watchdogInterval} seconds while started.
    """

    def __init__(self, notifier: SystemdNotifier, clock: IReactorTime) -> None:
        self._notifier = notifier
        self._loop = LoopingCall(notifier.notify, "WATCHDOG=1")
        self._loop.clock = clock

    def start(self) -> None:
        """
        Ping now and every interval, if systemd asks for pings.
        """
        interval = self._notifier.watchdogInterval
        if interval is not None and not self._loop.running:
            self._loop.start(interval, now=True)

    def stop(self) -> None:
        """
        Stop pinging.
        """
        if self._loop.running:
            self._loop.stop()
