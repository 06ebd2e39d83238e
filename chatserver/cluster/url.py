"""
Where the cluster's Redis is: C{redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]},
or C{rediss://} for TLS (C{?ca=FILE} trusts that certificate authority
instead of the system's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORT = 6379


@dataclass(frozen=True)
class RedisURL:
    """
    A parsed C{--cluster} URL.

    @ivar host: The server's host name or address.
    @ivar port: Its port.
    @ivar db: The database number (C{SELECT}).
    @ivar username: The ACL user name, or L{None}.
    @ivar password: The password, or L{None}.
    @ivar tls: Whether to speak TLS (C{rediss://}).
    @ivar ca: A PEM file of the certificate authority to trust, or L{None}
        for the system's.
    """

    host: str
    port: int = DEFAULT_PORT
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca: str | None = None

    def __str__(self) -> str:
        """
        @return: The URL without its password, fit for logs.
        """
        scheme = "rediss" if self.tls else "redis"
        auth = "***@" if self.password is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{auth}{host}:{self.port}/{self.db}"


def parse_redis_url(text: str) -> RedisURL:
    """
    @return: The Redis server C{text} names.
    @raise ValueError: With a one-line reason, if C{text} is not a Redis URL.
    """
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"bad Redis URL {text!r}: {e}") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(
            f"bad Redis URL {text!r}: it starts with redis:// or rediss://"
        )
    if not parts.hostname:
        raise ValueError(f"bad Redis URL {text!r}: it has no host")
    path = parts.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError(f"bad Redis URL {text!r}: the database is a number")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"ca"}
    if unknown:
        raise ValueError(f"bad Redis URL {text!r}: unknown option {min(unknown)}")
    ca = query.get("ca", [None])[-1]
    if ca is not None and parts.scheme != "rediss":
        raise ValueError(f"bad Redis URL {text!r}: ca= is for rediss://")
    return RedisURL(
        host=parts.hostname,
        port=DEFAULT_PORT if port is None else port,
        db=int(path) if path else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "rediss",
        ca=ca or None,
    )
