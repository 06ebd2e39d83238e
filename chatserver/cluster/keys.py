"""
The names of the cluster's keys in Redis, in one place (the Lua scripts of
L{chatserver.cluster.scripts} build the same names from the same prefix).
"""

import re

PREFIX = "chat:"

NODE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""
What a node's name may be (it is part of key names).
"""

PRESENCE = PREFIX + "presence"
"""
The stream every node follows: logins, logouts, joins, parts, renames,
away messages, topics and lost nodes.
"""


def room_lines(roomKey: str) -> str:
    """
    @return: The stream of a room's lines: its history, in the cluster's
        one order, each entry's id the line's id.
    """
    return f"{PREFIX}room:{roomKey}:lines"


def inbox(node: str) -> str:
    """
    @return: The stream a node follows for what is sent to it alone:
        private lines to its users, kicks, and wake-ups of its reader.
    """
    return f"{PREFIX}node:{node}:inbox"


def read_markers(account: str) -> str:
    """
    @return: The hash of an account's read markers (by its name's key): one
        field per room or private conversation, C{ID TIME}.
    """
    return f"{PREFIX}account:{account}:read"
