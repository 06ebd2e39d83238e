"""
IRCv3 C{draft/read-marker}: C{MARKREAD <target> [timestamp=...]} sets the
account's read marker of a channel or a nick (the last line said at or
before that time) or asks where it is (C{*} for a guest, who keeps none);
the marker, kept by the core, is sent to every session of the account that
has the capability, and to a client after each C{JOIN}, before its
C{RPL_ENDOFNAMES} (see
L{chatserver.doors.irc.welcome.read_marker}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.python.failure import Failure

from chatserver.core.events import ReadMarked
from chatserver.doors.irc.chathistory import BadReference, parse_reference
from chatserver.doors.irc.refusals import refuse
from chatwire.errors import ChatError, NotAnAccount, NothingToRead
from chatwire.names import check_name, check_room_name

if TYPE_CHECKING:
    from chatserver.core.users import ChatUser
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol


def markread(connection: IrcProtocol, user: ChatUser, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        connection.fail("MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
        return
    target = msg.params[0]
    try:
        if len(msg.params) < 2:
            if not user.isAccount:
                # A guest keeps no marker: it is nowhere, as an account's
                # that never read the target.
                (check_room_name if target.startswith("#") else check_name)(target)
                connection.send(connection.codec.markread(ReadMarked(target, 0, 0, 0)))
                return
            user.tellReadMarker(target)
            return
        try:
            when = parse_reference(msg.params[1]).time
        except BadReference:
            when = None
        if when is None:
            connection.fail(
                "MARKREAD", "INVALID_PARAMS", msg.params[1], "Invalid parameters"
            )
            return
        marking = user.markRead(target, time=when)
    except NotAnAccount as e:
        connection.fail("MARKREAD", "ACCOUNT_REQUIRED", target, e.reason)
        return
    except ChatError as e:
        refuse(connection, "MARKREAD", target, e)
        return

    def failed(reason: Failure) -> None:
        if reason.check(NothingToRead):
            # Nothing said at or before that time: the marker stays, and
            # the client is told where it is.
            user.tellReadMarker(target)
            return
        connection.fail(
            "MARKREAD",
            "INTERNAL_ERROR",
            target,
            "The read timestamp could not be set",
        )

    marking.addErrback(failed)
