"""
Strip telnet commands from a byte stream, incrementally.

A telnet client may send commands at any time: option negotiation
(C{IAC WILL/WONT/DO/DONT option}), subnegotiations (C{IAC SB ... IAC SE}),
and two-byte commands such as C{IAC IP}, which telnet sends when the user
presses Ctrl-C.  None of them is text, so none may reach a chat line.  A
command can be split across reads, so the filter keeps its state between
calls.  C{IAC IAC} stands for one literal 0xFF byte.

The filter is for raw connections only: a transport providing
L{ITelnetDecoded} (a C{--telnet} listener's) has parsed the telnet protocol
itself.
"""

from __future__ import annotations

from enum import Enum, auto

from zope.interface import Interface

IAC = 0xFF
SB = 0xFA
SE = 0xF0
_OPTION_COMMANDS = frozenset({0xFB, 0xFC, 0xFD, 0xFE})  # WILL WONT DO DONT
IAC_BYTE = bytes([IAC])


class ITelnetDecoded(Interface):
    """
    A transport that hands its protocol data with every telnet command taken
    out already and C{IAC IAC} unescaped (L{chatserver.doors.line.telnet}):
    L{TelnetFilter} must not run on it again, or a 0xFF byte the client sent
    escaped would be taken for the start of a command.
    """


class _State(Enum):
    DATA = auto()
    COMMAND = auto()  # after IAC
    OPTION = auto()  # after IAC WILL/WONT/DO/DONT
    SUBNEGOTIATION = auto()  # after IAC SB, until IAC SE
    SUBNEGOTIATION_IAC = auto()  # after IAC inside a subnegotiation


class TelnetFilter:
    """
    Feed it the bytes a client sent; it gives back those bytes with every
    telnet command taken out.
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state = _State.DATA

    def feed(self, data: bytes) -> bytes:
        """
        Filter the next chunk of the stream.

        @param data: Bytes as they arrived, possibly cutting a command in two.
        @return: The text bytes of this chunk.
        """
        if self._state is _State.DATA and IAC not in data:
            return data  # the usual case: no telnet command at all
        kept = bytearray()
        state = self._state
        for byte in data:
            if state is _State.DATA:
                if byte == IAC:
                    state = _State.COMMAND
                else:
                    kept.append(byte)
            elif state is _State.COMMAND:
                if byte == IAC:
                    kept.append(IAC)
                    state = _State.DATA
                elif byte in _OPTION_COMMANDS:
                    state = _State.OPTION
                elif byte == SB:
                    state = _State.SUBNEGOTIATION
                else:
                    state = _State.DATA
            elif state is _State.OPTION:
                state = _State.DATA
            elif state is _State.SUBNEGOTIATION:
                if byte == IAC:
                    state = _State.SUBNEGOTIATION_IAC
            elif byte == SE:
                state = _State.DATA
            else:  # IAC IAC or a stray byte inside a subnegotiation
                state = _State.SUBNEGOTIATION
        self._state = state
        return bytes(kept)
