"""
What the chat asks of a door's side of one session, its "mind" (as in
twisted.cred and twisted.words): a complete interface that every door's
mind provides, so the core reads each fact by name and never probes.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IMind(Interface):
    """
    A door's side of one logged-in session: where the chat's output for
    that user goes, and what the others are told of where it comes from.
    """

    codec = Attribute(
        "How this session's door encodes events (a "
        "L{chatserver.core.fanout.Codec}, shared by the door's sessions)."
    )
    door = Attribute(
        "The door the session came through (C{line}, C{telnet}, C{irc}, "
        "C{web}), as other doors show it; empty when it has none to tell."
    )
    ident = Attribute(
        "What an IRC user gave as its user name, shown in masks; empty for "
        "the other doors."
    )
    realname = Attribute(
        "What an IRC user gave as its real name; empty for the other doors."
    )
    echoes = Attribute(
        "Whether the user gets its own room and private lines back, in their "
        "place among the others (L{chatserver.core.realm.ChatRealm.heard})."
    )
    joinsDefaultRoom = Attribute(
        "Whether logging in puts the user in the default room (an IRC "
        "client joins its channels itself)."
    )
    lastActive = Attribute(
        "When the user last did something, in POSIX seconds, or C{0.0} when "
        "the door does not tell (its login time is shown then)."
    )
    closing = Attribute(
        "Whether the session is going away: a login whose connection ends "
        "while its name is claimed in a cluster is then abandoned."
    )
    peer = Attribute(
        "Where the session comes from, for logs and the console (C{127.0.0.1:5000})."
    )

    def deliver(data: bytes) -> None:
        """
        Write C{data}, encoded events and replies, to the session.
        """

    def disconnect(reason: str) -> None:
        """
        The operator disconnected the user, for C{reason} (which may be
        empty): say so and close the session.
        """
