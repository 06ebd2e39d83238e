"""
IRCv3 C{draft/read-marker}: C{MARKREAD <target> timestamp=...} sets the
read marker of a channel or a nick to that time, and C{MARKREAD <target>}
asks where it is (C{*} for none).  An account's marker, kept by the core,
is sent to every session of the account that has the capability; a guest
keeps markers of its own, for its connection only.  The marker is also
sent to a client after each C{JOIN}, before its C{RPL_ENDOFNAMES} (see
L{chatserver.doors.irc.welcome.read_marker}).

The marker is answered with the time the client gave, exactly: a time only
ever moves forward, so an older one is answered with the time kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.python.failure import Failure

from chatserver.doors.irc.refusals import refuse
from chatserver.doors.irc.stamps import parse_stamp
from chatwire.errors import ChatError

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

_TIMESTAMP = "timestamp="


def markread(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        connection.fail("MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
        return
    target = msg.params[0]
    try:
        if len(msg.params) < 2:
            user.tellReadMarker(target)
            return
        kind, _, text = msg.params[1].partition("=")
        try:
            if kind + "=" != _TIMESTAMP:
                raise ValueError(msg.params[1])
            stamp = parse_stamp(text)
        except ValueError:
            connection.fail(
                "MARKREAD", "INVALID_PARAMS", msg.params[1], "Invalid parameters"
            )
            return
        marking = user.markRead(target, stamp=stamp, ownMarkers=True)
    except ChatError as e:
        refuse(connection, "MARKREAD", target, e)
        return

    def failed(reason: Failure) -> None:
        connection.fail(
            "MARKREAD",
            "INTERNAL_ERROR",
            target,
            "The read timestamp could not be set",
        )

    marking.addErrback(failed)
