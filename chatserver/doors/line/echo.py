"""
Hiding what a user types: the one thing the line protocol may ask of a
transport that is a terminal protocol (telnet) rather than a plain stream.

Kept apart from L{chatserver.doors.line.telnet} so that the line protocol
can ask without importing twisted.conch.
"""

from __future__ import annotations

from zope.interface import Interface


class IInputHiding(Interface):
    """
    A transport that can ask the client's terminal not to show what the
    user types (for a password).
    """

    def setInputHidden(hidden: bool) -> None:
        """
        Hide, or show again, what the user types from now on.

        @param hidden: C{True} while a password is being typed.
        """


def hide_input(transport: object, hidden: bool) -> None:
    """
    Hide, or show again, what the user types, if C{transport} can; a plain
    stream (nc, scripts, the Tk client) cannot and is left alone.

    @param transport: The connection's transport.
    @param hidden: C{True} while a password is being typed.
    """
    hiding = IInputHiding(transport, None)
    if hiding is not None:
        hiding.setInputHidden(hidden)
