"""
C{--log-format json}: twistd's log as one JSON object per line
(twisted.logger's L{jsonFileLogObserver}), each event's fields (C{door},
C{name}, C{room}, C{peer}, C{reason}, C{chat_event}) as the object's keys.

twistd takes an observer factory by fully qualified name (its C{--logger}
option) and calls it with no arguments once its options are parsed: the
chat's options name L{json_log_observer} there and tell it, through
L{log_to}, where twistd would have written.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from twisted.logger import ILogObserver, jsonFileLogObserver
from twisted.python.logfile import LogFile

JSON_LOGGER = f"{__name__}.json_log_observer"

_where: dict[str, Any] = {"logfile": None, "nodaemon": False}


def log_to(logfile: str | None, nodaemon: bool) -> None:
    """
    Remember twistd's C{--logfile} and C{--nodaemon} for
    L{json_log_observer}.
    """
    _where["logfile"] = logfile
    _where["nodaemon"] = nodaemon


def json_log_observer() -> ILogObserver:
    """
    @return: An observer writing each event as one line of JSON where twistd
        would have written its text: the C{--logfile}, or standard output
        in the foreground without one (or with C{-}); C{twistd.log} for a
        daemon without one, as twistd does.
    """
    logfile = _where["logfile"]
    out: IO[Any]
    if logfile == "-" or (_where["nodaemon"] and not logfile):
        out = sys.stdout
    else:
        out = LogFile.fromFullPath(logfile or "twistd.log")
    return jsonFileLogObserver(out, recordSeparator="")
