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
READ_MARKER = "draft/read-marker"
ACCOUNT_TAG = "account-tag"
EXTENDED_JOIN = "extended-join"
ACCOUNT_NOTIFY = "account-notify"
ACCOUNT_REGISTRATION = "draft/account-registration"
MULTI_PREFIX = "multi-prefix"
USERHOST_IN_NAMES = "userhost-in-names"

OFFERED = (
    SERVER_TIME,
    MESSAGE_TAGS,
    ECHO_MESSAGE,
    BATCH,
    LABELED_RESPONSE,
    CHATHISTORY,
    ACCOUNT_TAG,
    EXTENDED_JOIN,
    ACCOUNT_NOTIFY,
    MULTI_PREFIX,
    USERHOST_IN_NAMES,
)
"""
What every server offers; L{SASL} is added when there are accounts to log
in to (C{--auth} or C{--accounts}), L{ACCOUNT_REGISTRATION} when users may
register them.
"""

REGISTRATION_VALUE = "before-connect"
"""
The value of L{ACCOUNT_REGISTRATION}: C{REGISTER} is taken before the
connection is registered; no e-mail is asked for, and the account's name
is the nick.
"""

ENCODING = frozenset(
    {
        SERVER_TIME,
        MESSAGE_TAGS,
        BATCH,
        ACCOUNT_TAG,
        EXTENDED_JOIN,
        ACCOUNT_NOTIFY,
        READ_MARKER,
    }
)
"""
The capabilities that change how the chat's events are written.
"""


def offered(passwords: bool, registration: bool = False) -> tuple[str, ...]:
    """
    @param passwords: Whether there are accounts to log in to: then also
        L{SASL} and L{READ_MARKER} (read markers are an account's).
    @param registration: Whether users may register accounts.
    """
    extra: tuple[str, ...] = (SASL, READ_MARKER) if passwords else ()
    if registration:
        extra += (ACCOUNT_REGISTRATION,)
    return (*OFFERED, *extra)


def ls_tokens(passwords: bool, version: int, registration: bool = False) -> list[str]:
    """
    @return: The capabilities for C{CAP LS}, with values from version 302.
    """
    tokens = []
    for cap in offered(passwords, registration):
        if cap == SASL and version >= 302:
            tokens.append("sasl=PLAIN")
        elif cap == ACCOUNT_REGISTRATION and version >= 302:
            tokens.append(f"{cap}={REGISTRATION_VALUE}")
        else:
            tokens.append(cap)
    return tokens


def request(
    enabled: frozenset[str],
    wanted: str,
    passwords: bool,
    registration: bool = False,
) -> frozenset[str] | None:
    """
    @param wanted: The C{CAP REQ} argument: capabilities, C{-} before those
        to disable.
    @return: The client's capabilities after the request, or L{None} when
        it must be refused whole (a capability not offered, or
        C{labeled-response} without the C{batch} it needs).
    """
    available = offered(passwords, registration)
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
