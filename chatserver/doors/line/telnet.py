"""
The line door over telnet: the same chat connection (a L{ChatProtocol} from
the line door's one factory) behind a real telnet protocol layer, for
C{--telnet} listeners, a door of its own (L{TelnetDoor}).

On a raw C{--port} listener a telnet client gets by, because the line
protocol strips telnet commands, but it never agrees to send 8-bit data:
Debian's telnet then drops part of a UTF-8 character.  Here the server
negotiates (with L{twisted.conch.telnet}) on connect C{IAC DO BINARY}: the
client sends 8-bit data, so what the user types arrives whole.  It accepts
BINARY and SGA (suppress go-ahead) on either side when the client asks for
them, and refuses every other option.  While a password is typed it offers
C{IAC WILL ECHO}: the client stops echoing and the server does not echo
either (L{IInputHiding}); then C{IAC WONT ECHO} gives the echo back.

It does not offer C{WILL BINARY} or C{WILL SGA} itself (see L{NEGOTIATED}
for what they do to Debian's telnet); UTF-8 output reaches the terminal
whole without them.

What reaches the line protocol is plain data: commands taken out, C{IAC IAC}
one 0xFF byte, and every telnet line end (C{CR LF}, C{CR NUL}, a lone C{CR})
one C{LF}.  What it writes goes out with 0xFF doubled.  Everything else it
asks of its transport (the send-queue guard registered as a producer,
pausing, keepalive, addresses) is the real transport's underneath, so a
telnet connection is counted, limited and guarded like a raw one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.conch import telnet
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IConsumer,
    IProtocol,
    IProtocolFactory,
    IPushProducer,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.plugin import IPlugin
from twisted.python.failure import Failure
from zope.interface import alsoProvides, implementer

from chatserver.doors.line.echo import IInputHiding
from chatserver.doors.line.factory import LineFactory, refusal
from chatserver.doors.line.iac import ITelnetDecoded
from chatserver.doors.plugin import IChatDoor
from chatserver.server import ChatServer

BINARY = b"\x00"  # RFC 856; conch does not name it

# What the server asks for on connect: (option, WILL it, DO it).
#
# Only DO BINARY: Debian's telnet then stops stripping the 8th bit of what is
# typed.  Both offers telnet servers often add break Debian's telnet for a
# line chat (tried in tmux, see docs/protocol.md): after WILL SGA it goes to
# character mode (no local line editing: Backspace arrives as DEL and the
# line is refused; Enter echoes as ^M), and after WILL BINARY it turns off
# its terminal's output processing, so its local echo of Enter is a bare LF
# and every server line after a typed one starts in mid-screen.
NEGOTIATED = ((BINARY, False, True),)
# Options that may be on, on each side; every other one is refused.
_LOCAL = frozenset({BINARY, telnet.SGA, telnet.ECHO})
_REMOTE = frozenset({BINARY, telnet.SGA})

_IAC = telnet.IAC
_CR = b"\r"[0]
_LINE_END_TAILS = frozenset(b"\n\x00")
# The bytes after IAC that conch parses; on any other it raises ValueError.
_COMMANDS = frozenset(
    b"".join(
        (
            telnet.IAC,
            telnet.SB,
            telnet.WILL,
            telnet.WONT,
            telnet.DO,
            telnet.DONT,
            telnet.EOR,
            telnet.NOP,
            telnet.DM,
            telnet.BRK,
            telnet.IP,
            telnet.AO,
            telnet.AYT,
            telnet.EC,
            telnet.EL,
            telnet.GA,
        )
    )
)


def _escape(data: bytes) -> bytes:
    return data.replace(_IAC, _IAC + _IAC) if _IAC in data else data


def _ignore(reason: Failure) -> None:
    """
    A negotiation the client refused, or that the connection outlived: the
    chat works without it.
    """


@implementer(ITransport, IConsumer, IPushProducer, IInputHiding, ITelnetDecoded)
class ChatTelnetTransport(telnet.TelnetTransport):
    """
    The telnet protocol between the client and one chat connection: a
    protocol to the real (TCP or TLS) transport below, a transport to the
    line protocol above.

    It provides L{ITCPTransport} as well when the transport below does.

    @ivar protocol: The line protocol (C{None} once the connection is gone).
    """

    # The TCP or TLS transport below (ITCPTransport, IConsumer,
    # IPushProducer), or a StringTransport in the tests.
    transport: Any
    protocol: Any

    def __init__(self, protocol: IProtocol) -> None:
        super().__init__()
        self.protocol = protocol
        self._afterCR = False
        self._inputHidden = False
        self._gone = False

    # Connection life

    def connectionMade(self) -> None:
        if ITCPTransport.providedBy(self.transport):
            alsoProvides(self, ITCPTransport)
        for option, ours, theirs in NEGOTIATED:
            if theirs:
                self._ask(option, theirs=True)
            if ours:
                self._ask(option, theirs=False)
        self.protocol.makeConnection(self)

    def _ask(self, option: bytes, theirs: bool) -> None:
        """
        Send C{IAC DO option} (C{theirs}) or C{IAC WILL option}, as conch's
        L{do} and L{will} do, without their refusal to negotiate one side of
        an option while the other side is being negotiated: C{DO BINARY}
        and C{WILL BINARY} go out together.  The two sides are apart in
        RFC 1143 and in conch's own state tables.  For a fresh connection
        only: it does not check what the option's state is.
        """
        state = self.getOptionState(option)
        side = state.him if theirs else state.us
        side.negotiating = True
        side.onResult = Deferred()
        side.onResult.addErrback(_ignore)
        if theirs:
            self._do(option)
        else:
            self._will(option)

    def serverStopping(self) -> None:
        """
        The server is stopping: the line protocol says goodbye and closes.
        """
        if self.protocol is not None:
            self.protocol.serverStopping()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._gone = True
        # Fails the negotiations still waiting for an answer, then tells the
        # line protocol.
        super().connectionLost(reason)

    # Options

    def enableLocal(self, option: bytes) -> bool:
        if option == telnet.ECHO:
            # We "echo" (that is, show nothing) only while input is hidden.
            return self._inputHidden
        return option in _LOCAL

    def enableRemote(self, option: bytes) -> bool:
        return option in _REMOTE

    def disableLocal(self, option: bytes) -> None:
        # Nothing to undo: BINARY and SGA change nothing we send, and ECHO
        # off is what a connection does anyway.
        pass

    def disableRemote(self, option: bytes) -> None:
        pass

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        # IAC IP (Ctrl-C), IAC AYT and the like: nothing for the chat.
        pass

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        pass

    def setInputHidden(self, hidden: bool) -> None:
        """
        Offer C{IAC WILL ECHO} (the client stops echoing) while C{hidden},
        C{IAC WONT ECHO} once not.  A change asked for while the client has
        not answered the last offer yet is made once it has.
        """
        self._inputHidden = hidden
        self._negotiateEcho()

    def _negotiateEcho(self) -> None:
        state = self.getOptionState(telnet.ECHO).us
        if state.negotiating or self._gone:
            return
        hidden = self._inputHidden
        if (state.state == "yes") == hidden:
            return
        offer = self.will if hidden else self.wont
        offer(telnet.ECHO).addErrback(_ignore).addCallback(self._echoAnswered, hidden)

    def _echoAnswered(self, result: object, asked: bool) -> None:
        # Follow a change made meanwhile; not a refused offer again.
        if self._inputHidden != asked:
            self._negotiateEcho()

    # Input

    def dataReceived(self, data: bytes) -> None:
        """
        Parse what the client sent with conch's parser, mending two things
        it does not do: a command byte it does not know (it raises
        L{ValueError}) is skipped (and so is an empty subnegotiation, see
        L{negotiate}), and a C{CR} is a line end at once (conch
        waits for the byte after it, and makes C{CR NUL} a bare C{CR}).

        Conch is fed the stream in pieces that end just after each C{IAC}
        and just before each C{CR}, so that the byte after either is
        looked at here first.
        """
        while data:
            if self._afterCR:
                self._afterCR = False
                if data[0] in _LINE_END_TAILS:
                    data = data[1:]  # the LF of CR LF, the NUL of CR NUL
                    continue
            state = self.state
            if state == "escaped" and data[0] not in _COMMANDS:
                self.state = "data"  # IAC and a byte that is no command
                data = data[1:]
                continue
            if state == "data" and data[0] == _CR:
                self._afterCR = True
                self.applicationDataReceived(b"\n")
                data = data[1:]
                continue
            end = len(data)
            iac = data.find(_IAC)
            if iac >= 0:
                end = iac + 1
            cr = data.find(b"\r", 1)
            if 0 < cr < end:
                end = cr
            piece, data = data[:end], data[end:]
            if state == "data" and iac < 0:
                self.applicationDataReceived(piece)  # text: no need to parse
            else:
                super().dataReceived(piece)

    def negotiate(self, data: list[bytes]) -> None:
        # conch raises IndexError on an empty IAC SB IAC SE.
        if data:
            super().negotiate(data)

    def applicationDataReceived(self, data: bytes) -> None:
        if self.protocol is not None:
            self.protocol.dataReceived(data)

    # Output, with 0xFF escaped

    def write(self, data: bytes) -> None:
        self.transport.write(_escape(data))

    def writeSequence(self, data: Iterable[bytes]) -> None:
        self.transport.writeSequence([_escape(chunk) for chunk in data])

    # The rest is the transport's underneath.

    @property
    def disconnecting(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.transport, "disconnecting", False))

    def loseConnection(self) -> None:
        self.transport.loseConnection()

    def abortConnection(self) -> None:
        self.transport.abortConnection()

    def loseWriteConnection(self) -> None:
        self.transport.loseWriteConnection()

    def getPeer(self) -> IAddress:
        return self.transport.getPeer()  # type: ignore[no-any-return]

    def getHost(self) -> IAddress:
        return self.transport.getHost()  # type: ignore[no-any-return]

    def getHandle(self) -> Any:
        """
        @return: The system handle (the socket) of the transport below, or
            L{None} when it has none.
        """
        getHandle = getattr(self.transport, "getHandle", None)
        return None if getHandle is None else getHandle()

    def getTcpKeepAlive(self) -> bool:
        return bool(self.transport.getTcpKeepAlive())

    def setTcpKeepAlive(self, enabled: bool) -> None:
        self.transport.setTcpKeepAlive(enabled)

    def getTcpNoDelay(self) -> bool:
        return bool(self.transport.getTcpNoDelay())

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.transport.setTcpNoDelay(enabled)

    def registerProducer(self, producer: object, streaming: bool) -> None:
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        self.transport.unregisterProducer()

    def pauseProducing(self) -> None:
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        self.transport.resumeProducing()

    def stopProducing(self) -> None:
        self.transport.stopProducing()


class ChatTelnetFactory(ServerFactory):
    """
    Wraps the line door's factory: each connection is one of its protocols
    behind a L{ChatTelnetTransport}, so that raw and telnet users share one
    chat, one count of connections and one set of limits.
    """

    noisy = False

    def __init__(self, wrapped: IProtocolFactory) -> None:
        self.wrapped = wrapped

    def doStart(self) -> None:
        self.wrapped.doStart()

    def doStop(self) -> None:
        self.wrapped.doStop()

    def buildProtocol(self, addr: IAddress | None) -> ChatTelnetTransport | None:
        protocol = self.wrapped.buildProtocol(addr)  # type: ignore[arg-type]
        if protocol is None:
            return None
        return ChatTelnetTransport(protocol)


@implementer(IPlugin, IChatDoor)
class TelnetDoor:
    """
    The line door behind telnet: C{--telnet}.
    """

    name = "telnet"
    description = (
        "Endpoint to listen on for telnet clients, such as "
        "tcp:8023:interface=127.0.0.1: the same chat, with 8-bit input "
        "(telnet BINARY) and no echo while a password is typed."
    )

    refusal = staticmethod(refusal)

    def makeFactory(self, server: ChatServer) -> ChatTelnetFactory:
        return ChatTelnetFactory(LineFactory(server))


door = TelnetDoor()
