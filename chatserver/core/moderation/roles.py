"""
Roles in a room: operator (C{o}, shown C{@}) and voice (C{v}, shown C{+}).

A server operator (C{/oper}, or an account named by C{--operator}) is not a
room role: it may act in every room as its operators do.
"""

from __future__ import annotations

OPERATOR = "o"
VOICE = "v"
ROLES = (OPERATOR, VOICE)

PREFIXES = {OPERATOR: "@", VOICE: "+"}
"""
How a member with a role is shown in member lists, highest role first.
"""

NAMES = {OPERATOR: "operator", VOICE: "voice"}


def prefix(roles: str) -> str:
    """
    @param roles: The letters of a member's roles (C{"ov"}, C{""}).
    @return: The prefix of its highest role: C{@}, C{+} or nothing.
    """
    for role in ROLES:
        if role in roles:
            return PREFIXES[role]
    return ""
