"""
Where the cluster's Redis is: C{redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]},
or C{rediss://} for TLS (C{?ca=FILE} trusts that certificate authority
instead of the system's).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORT = 6379

PASSWORD_VARIABLE = "CHAT_REDIS_PASSWORD"
"""
The environment variable that may hold the Redis password, which C{ps}
does not show (a password in the URL wins over it).
"""

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:(?://)?)[^/?#]*@")


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


def redacted(text: str) -> str:
    """
    @return: C{text}, a URL as given, with whatever comes before the host
        (a user name and password) shown as C{***}: fit for an error.
    """
    return _USERINFO.sub(r"\1***@", text, count=1)


def parse_redis_url(text: str) -> RedisURL:
    """
    @return: The Redis server C{text} names.
    @raise ValueError: With a one-line reason, if C{text} is not a Redis URL;
        the reason shows no password.
    """
    return _parse(text, redacted(text))


def with_password(
    url: RedisURL,
    passwordFile: str = "",
    environ: Mapping[str, str] = os.environ,
) -> RedisURL:
    """
    @param passwordFile: A file whose first line is the password, or empty.
    @param environ: The environment, where L{PASSWORD_VARIABLE} may hold
        the password.
    @return: C{url} with the password the operator gave: the file's first,
        then the URL's, then the environment's.
    @raise OSError: If the file cannot be read.
    """
    if passwordFile:
        with open(passwordFile, encoding="utf-8") as f:
            return replace(url, password=f.readline().rstrip("\r\n"))
    if url.password is None and environ.get(PASSWORD_VARIABLE):
        return replace(url, password=environ[PASSWORD_VARIABLE])
    return url


def _parse(text: str, shown: str) -> RedisURL:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"bad Redis URL {shown!r}: {e}") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(
            f"bad Redis URL {shown!r}: it starts with redis:// or rediss://"
        )
    if not parts.hostname:
        raise ValueError(f"bad Redis URL {shown!r}: it has no host")
    path = parts.path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError(f"bad Redis URL {shown!r}: the database is a number")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"ca"}
    if unknown:
        raise ValueError(f"bad Redis URL {shown!r}: unknown option {min(unknown)}")
    ca = query.get("ca", [None])[-1]
    if ca is not None and parts.scheme != "rediss":
        raise ValueError(f"bad Redis URL {shown!r}: ca= is for rediss://")
    return RedisURL(
        host=parts.hostname,
        port=DEFAULT_PORT if port is None else port,
        db=int(path) if path else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "rediss",
        ca=ca or None,
    )
