"""
How an address is written for people, the same by the server and its
clients.
"""

from __future__ import annotations


def format_address(host: str, port: int) -> str:
    """
    @return: C{host:port} as people write it, with an IPv6 address in
        brackets: C{127.0.0.1:5000}, C{[::1]:5000}.
    """
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"
