"""
What one node sends another alone, through the other's inbox stream: a
private line to one of its users (L{Whisper}, also the copy of a line an
account sent from another node), the operator's kick (L{Kick}), the end
of an account's session asked on another node (L{EndSession}), an
account's read marker moved on another node (L{ReadMoved}), or a wake-up
of its reader (L{Wake}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatserver.cluster import keys
from chatserver.cluster.messages import (
    Dispatcher,
    EndSession,
    Kick,
    Message,
    ReadMoved,
    Wake,
    Whisper,
    to_fields,
)
from chatserver.core.events import ReadMarked, Whispered

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chatserver.cluster.node import ClusterNode

INBOX_LENGTH = 10000
"""
About the most entries a node's inbox keeps.
"""


class Inbox:
    """
    The inboxes of the cluster, as C{node} sends to them and reads its own.

    @param node: This node.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self._dispatcher: Dispatcher[Message] = Dispatcher(
            "inbox",
            {
                Whisper: self._whisper,
                Kick: self._kick,
                EndSession: self._endSession,
                ReadMoved: self._readMoved,
                Wake: _nothing,
            },
        )

    def send(self, node: str, message: Message) -> None:
        """
        Send C{message} to C{node}'s inbox.
        """
        words = [word for field in to_fields(message).items() for word in field]
        self.node.commands.execute(
            "XADD", keys.inbox(node), "MAXLEN", "~", str(INBOX_LENGTH), "*", *words
        ).addErrback(self.node.fireFailed, message.KIND)

    def received(self, fields: Mapping[str, str]) -> None:
        """
        Handle an entry of this node's inbox.
        """
        self._dispatcher.dispatch(fields)

    def _whisper(self, message: Whisper) -> None:
        realm = self.node.realm
        recipient = realm.get(message.to)
        if recipient is None:
            return
        event = Whispered(
            message.sender,
            message.recipient or recipient.name,
            message.text,
            message.time,
            message.notice,
            message.action,
            message.tags,
            message.msgid,
            message.echo,
        )
        realm.fanout.toAccount(recipient, event)

    def _kick(self, message: Kick) -> None:
        user = self.node.realm.get(message.to)
        if user is not None:
            for session in list(user.sessions):
                session.mind.disconnect(message.reason)

    def _endSession(self, message: EndSession) -> None:
        session = self.node.sessions.user(message.session)
        if session is not None and session.key == message.to:
            session.mind.disconnect(message.reason)

    def _readMoved(self, message: ReadMoved) -> None:
        event = ReadMarked(
            message.shown, message.id or None, message.stamp, message.unread
        )
        self.node.realm.remoteMarked(message.to, message.target, event)


def _nothing(message: Wake) -> None:
    pass
