"""
Client addresses: how they are written (C{host:port}, for the server's logs
and console and for the client alike), and the per-address limits: how many
connections one address may hold at once, and how fast it may open new ones.

An IPv4 address counts on its own; an IPv6 address counts by its /64, since
one host usually holds a whole /64.  Addresses in the exempt networks
(loopback by default) are never limited, so local tools and benchmarks work.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from twisted.internet.interfaces import IAddress, IReactorTime

from chatwire.addresses import IPAddress, format_address, parse_ip_address

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_EXEMPT = ("127.0.0.1/32", "::1/128")


@dataclass(frozen=True)
class ConnectRate:
    """
    At most C{count} new connections per C{seconds} from one address;
    C{count} 0 means no limit.
    """

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> ConnectRate:
        """
        Read C{N/SECONDS}, as in C{32/600}.

        @raise ValueError: With what is wrong, fit for a usage error.
        """
        count, slash, seconds = text.partition("/")
        try:
            rate = cls(int(count), float(seconds))
        except ValueError:
            raise ValueError(f"{text!r} is not N/SECONDS, as in 32/600") from None
        if not slash or rate.count < 0 or not rate.seconds > 0:
            raise ValueError(f"{text!r} is not N/SECONDS, as in 32/600")
        return rate

    def __str__(self) -> str:
        """
        @return: The rate as L{parse} reads it: C{32/600}.
        """
        seconds = self.seconds
        if float(seconds).is_integer():
            seconds = int(seconds)
        return f"{self.count}/{seconds}"


DEFAULT_CONNECT_RATE = ConnectRate(32, 600.0)


def describe_address(address: IAddress) -> str:
    """
    @return: C{address} by L{format_address}, or the address's own text for
        kinds without a host and a port.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is None or port is None:
        return str(address)
    return format_address(host, port)


def parse_network(text: str) -> IPNetwork:
    """
    @return: The network C{text} names (C{10.0.0.0/8}, C{::1/128}, or a lone
        address).
    @raise ValueError: If it names none.
    """
    return ipaddress.ip_network(text.strip(), strict=False)


def _key(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def address_key(host: str) -> str | None:
    """
    @return: What C{host} is counted as: itself for IPv4, its /64 for IPv6
        (IPv4-mapped IPv6 addresses count as IPv4), L{None} for anything that
        is not an IP address (a UNIX socket, say).
    """
    address = parse_ip_address(host)
    return None if address is None else _key(address)


class AddressLimits:
    """
    Counts connections per address and refuses those over the limits.

    @ivar maxPerAddress: Simultaneous connections per address; 0 for no
        limit.
    @ivar connectRate: New connections per address per window.
    """

    def __init__(
        self,
        maxPerAddress: int,
        connectRate: ConnectRate,
        exempt: Iterable[IPNetwork],
        clock: IReactorTime,
    ) -> None:
        self.maxPerAddress = maxPerAddress
        self.connectRate = connectRate
        self._exempt = tuple(exempt)
        self._clock = clock
        self._open: dict[str, int] = {}
        self._recent: dict[str, deque[float]] = {}
        self._admissions = 0

    def _counted(self, host: str) -> str | None:
        """
        @return: The key C{host} is counted under, or L{None} when it is not
            counted (not an IP address, or in an exempt network).
        """
        address = parse_ip_address(host)
        if address is None or any(address in net for net in self._exempt):
            return None
        return _key(address)

    def counted(self, host: str) -> str | None:
        """
        @return: The key connections from C{host} are counted under, or
            L{None} when they are not counted (not an IP address, or in an
            exempt network): what other per-address limits count by too.
        """
        return self._counted(host)

    def admit(self, host: str) -> str | None:
        """
        Count a new connection from C{host}, if the limits allow it.

        @return: L{None} when admitted (call L{release} when it closes), or
            the reason it is refused, fit to show the client.
        """
        key = self._counted(host)
        if key is None:
            return None
        if self.maxPerAddress and self._open.get(key, 0) >= self.maxPerAddress:
            return (
                f"too many connections from your address (at most "
                f"{self.maxPerAddress} at once)"
            )
        if self.connectRate.count:
            now = self._clock.seconds()
            recent = self._recent.setdefault(key, deque())
            while recent and recent[0] <= now - self.connectRate.seconds:
                recent.popleft()
            if len(recent) >= self.connectRate.count:
                return (
                    f"too many new connections from your address (at most "
                    f"{self.connectRate.count} per {self.connectRate.seconds:g} "
                    "seconds), try again later"
                )
            recent.append(now)
            self._sweep(now)
        self._open[key] = self._open.get(key, 0) + 1
        return None

    def release(self, host: str) -> None:
        """
        A connection that L{admit} let in has closed.
        """
        key = self._counted(host)
        if key is None or key not in self._open:
            return
        self._open[key] -= 1
        if not self._open[key]:
            del self._open[key]

    def _sweep(self, now: float) -> None:
        # Forget addresses with no recent connection, now and then, so the
        # table stays as small as the set of recently seen addresses.
        self._admissions += 1
        if self._admissions % 1024:
            return
        horizon = now - self.connectRate.seconds
        stale = [k for k, t in self._recent.items() if not t or t[-1] <= horizon]
        for key in stale:
            del self._recent[key]

    def tracked(self) -> int:
        """
        @return: How many addresses are being counted (for tests and
            benchmarks).
        """
        return len(self._open) + len(self._recent)
