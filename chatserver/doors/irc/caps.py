"""
IRCv3 capability negotiation (C{CAP LS 302}, C{REQ}, C{LIST}, C{END}):
which capabilities the door offers and what a request makes of a client's
set.
"""

from __future__ import annotations

SERVER_TIME = "server-time"
MESSAGE_TAGS = "message-tags"
ECHO_MESSAGE = "echo-message"
BATCH = "batch"
SASL = "sasl"
CHATHISTORY = "draft/chathistory"
LABELED_RESPONSE = "labeled-response"
MULTI_PREFIX = "multi-prefix"

OFFERED = (
    SERVER_TIME,
    MESSAGE_TAGS,
    ECHO_MESSAGE,
    BATCH,
    LABELED_RESPONSE,
    CHATHISTORY,
    MULTI_PREFIX,
)
"""
What every server offers; L{SASL} is added when logging in takes a password.
"""

ENCODING = frozenset({SERVER_TIME, MESSAGE_TAGS, BATCH})
"""
The capabilities that change how the chat's events are written.
"""


def offered(passwords: bool) -> tuple[str, ...]:
    return (*OFFERED, SASL) if passwords else OFFERED


def ls_tokens(passwords: bool, version: int) -> list[str]:
    """
    @return: The capabilities for C{CAP LS}, with values from version 302.
    """
    tokens = []
    for cap in offered(passwords):
        if cap == SASL and version >= 302:
            tokens.append("sasl=PLAIN")
        else:
            tokens.append(cap)
    return tokens


def request(
    enabled: frozenset[str], wanted: str, passwords: bool
) -> frozenset[str] | None:
    """
    @param wanted: The C{CAP REQ} argument: capabilities, C{-} before those
        to disable.
    @return: The client's capabilities after the request, or L{None} when
        it must be refused whole (a capability not offered, or
        C{labeled-response} without the C{batch} it needs).
    """
    available = offered(passwords)
    result = set(enabled)
    for token in wanted.split():
        remove = token.startswith("-")
        name = token[1:] if remove else token
        if name not in available:
            return None
        if remove:
            result.discard(name)
        else:
            result.add(name)
    if LABELED_RESPONSE in result and BATCH not in result:
        return None
    return frozenset(result)
