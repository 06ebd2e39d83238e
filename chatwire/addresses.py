"""
How an address is written for people, the same by the server and its
clients, and how an IP address is read.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def format_address(host: str, port: int) -> str:
    """
    @return: C{host:port} as people write it, with an IPv6 address in
        brackets: C{127.0.0.1:5000}, C{[::1]:5000}.
    """
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def parse_ip_address(host: str) -> IPAddress | None:
    """
    @return: The IP address C{host} holds (its zone, C{%eth0}, left out; an
        IPv4-mapped IPv6 address as the IPv4 address it maps), or L{None} if
        it holds none.
    """
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address
