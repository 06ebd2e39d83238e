"""
The key a private conversation between two accounts is kept under, in the
history and the read markers, beside the rooms' keys.
"""

from __future__ import annotations

from chatwire.names import name_key

PRIVATE_PREFIX = "@"
"""
What a private conversation's key begins with: no room key does (they begin
with C{#}), and no name holds a space.
"""


def private_key(one: str, other: str) -> str:
    """
    @return: The key of the private conversation between the users called
        C{one} and C{other}, the same whichever is named first and whatever
        the case of the names.
    """
    first, second = sorted((name_key(one), name_key(other)))
    return f"{PRIVATE_PREFIX}{first} {second}"


def is_private_key(key: str) -> bool:
    """
    @return: Whether C{key} is a private conversation's (L{private_key}).
    """
    return key.startswith(PRIVATE_PREFIX)
