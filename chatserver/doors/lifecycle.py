"""
What every door does at the edges of a connection's life, written once:
logging what it sent that was refused, and ending it (the user leaves the
chat, or a connection that never logged in is logged), with the same log
events for the server console whatever the door.  Admitting a connection
is not a door's business: the service's gate
(L{chatserver.limits.gate}) has admitted every connection a door sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import error
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser

log = Logger(namespace=LOG_NAMESPACE)


def describe_loss(reason: Failure) -> str:
    """
    @return: Why a connection was lost, as the others are told.
    """
    if reason.check(error.ConnectionDone):
        return "Connection closed"
    if reason.check(error.ConnectionAborted):
        return "Connection aborted"
    if reason.check(error.ConnectionLost):
        return "Connection reset by peer"
    return f"Connection lost: {reason.getErrorMessage()}"


def log_rejected(peer: str, name: str, why: str) -> None:
    """
    Log that what the client at C{peer} (called C{name}, once logged in)
    sent was refused, and why.
    """
    log.info(
        "Rejected input from {peer}: {why}",
        chat_event="rejected",
        peer=peer,
        name=name,
        why=why,
    )


def ended(peer: str, *, user: ChatUser | None, why: str) -> None:
    """
    A connection has ended, for C{why}: its user, if it logged in, leaves
    the chat.
    """
    if user is not None:
        user.quit(why)
    else:
        log.info(
            "Connection from {peer} closed before login ({reason})",
            chat_event="disconnect",
            peer=peer,
            reason=why,
        )
