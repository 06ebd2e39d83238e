"""
Reload without a restart: the parts of a running server read from files (the
message of the day, password files, TLS certificates, an operators' or bans
file) register here, and one reload (C{SIGHUP}, C{systemctl reload}, the
console's button) reads each again.

A part that cannot be read again (a bad file) keeps what it had and its
failure is logged in one line; the other parts are reloaded all the same, and
nobody is disconnected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from twisted.logger import Logger
from zope.interface import Attribute, Interface, implementer

from chatserver import LOG_NAMESPACE

log = Logger(namespace=LOG_NAMESPACE)

_T = TypeVar("_T")


class IReloadable(Interface):
    """
    A part of the server's settings read from somewhere it can be read
    again.
    """

    name = Attribute("What it is, for the log: C{'password file /etc/chat/passwd'}.")

    def reload() -> None:
        """
        Read it again now and use what was read from now on.

        @raise Exception: If it cannot be read (a missing or bad file); the
            part then keeps what it had.
        """


class Reloader:
    """
    The reloadable parts of one server, reloaded together.

    @ivar parts: Each registered part, in the order registered.
    """

    def __init__(self) -> None:
        self.parts: list[IReloadable] = []

    def register(self, part: IReloadable) -> None:
        """
        Reload C{part} with the others from now on.
        """
        self.parts.append(IReloadable(part))

    def reload(self) -> list[str]:
        """
        Reload every part; one that fails keeps what it had.

        @return: One line for each part that failed (also logged), empty
            when every part was reloaded.
        """
        failures: list[str] = []
        reloaded: list[str] = []
        for part in self.parts:
            try:
                part.reload()
            except Exception as error:  # a part's bad file: keep the old
                line = f"{part.name}: {describe_error(error)}; kept the old one"
                failures.append(line)
                log.error(
                    "Reload failed: {failure}",
                    chat_event="reload-failed",
                    failure=line,
                )
            else:
                reloaded.append(part.name)
        log.info(
            "Reloaded {count} of {total} parts: {parts}",
            chat_event="reloaded",
            count=len(reloaded),
            total=len(self.parts),
            parts=", ".join(reloaded) or "none",
        )
        return failures


def describe_error(error: BaseException) -> str:
    """
    @return: C{error} in one line, without a traceback.
    """
    text = " ".join(str(error).split())
    if isinstance(error, OSError) and error.strerror:
        filename = f" {error.filename}" if error.filename else ""
        text = f"{error.strerror}{filename}"
    return text or type(error).__name__


@implementer(IReloadable)
class ReloadableFile(Generic[_T]):
    """
    A file read at start and again at each reload: C{parse} turns its text
    into a value, C{use} puts the value in place.  A file C{parse} refuses
    (or that cannot be read) leaves the value in place as it was.

    This is how the message of the day reloads; an operators' or bans file
    can do the same.

    @ivar path: The file.
    @ivar name: What it is, for the log.
    """

    def __init__(
        self,
        name: str,
        path: str | Path,
        parse: Callable[[str], _T],
        use: Callable[[_T], None],
    ) -> None:
        self.name = f"{name} {path}"
        self.path = Path(path)
        self._parse = parse
        self._use = use

    def reload(self) -> None:
        """
        Read, parse and use the file.

        @raise OSError: If it cannot be read.
        @raise ValueError: If it is not UTF-8 or C{parse} refuses it.
        """
        value = self._parse(self.path.read_text(encoding="utf-8"))
        self._use(value)
