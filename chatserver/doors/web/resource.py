"""
The web door's HTTP side: the page at C{/} (with its script and style), and
the WebSocket at C{/ws}, in one twisted.web site per server.

The WebSocket is Twisted's own (C{twisted.web.websocket}'s public
L{WebSocketResource}, over wsproto), with two things it lacks added here:

  - a size cap: Twisted reassembles a message of any size in memory; here
    the frames a client sends are read before Twisted's WebSocket gets them
    (L{chatserver.doors.web.framecap}), and a message over the cap is
    dropped as it arrives and answered with an error;
  - the C{Origin} check, before the upgrade: a browser page from another
    origin gets C{403}.  The allowed origins are C{--web-origin}, or by
    default the page's own origin (the request's scheme and C{Host}).  A
    request with no C{Origin} (not a browser) is let through: the check
    protects browser users from other sites' pages.

Every connection is admitted at accept by the service's gate
(L{chatserver.limits.gate}), before it sends a byte; one it refuses is
answered with L{refusal}, a C{503}.  An HTTP connection then has
C{--header-timeout} seconds, from accept or from the end of its last
response, for its whole next request, however slowly it trickles in (the
idle timeout of Twisted's channel starts again at each byte).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from twisted.internet.interfaces import IAddress, IDelayedCall
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.websocket import WebSocketResource
from wsproto import ConnectionType
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from chatserver import LOG_NAMESPACE
from chatserver.doors.web.codec import WebCodec
from chatserver.doors.web.framecap import MessageCap
from chatserver.doors.web.protocol import WebSession
from chatserver.limits.addresses import describe_address
from chatserver.server import ChatServer

log = Logger(namespace=LOG_NAMESPACE)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

HTTP_IDLE_TIMEOUT = 60

STATIC = {
    b"": ("index.html", "text/html; charset=utf-8"),
    b"index.html": ("index.html", "text/html; charset=utf-8"),
    b"app.js": ("app.js", "text/javascript; charset=utf-8"),
    b"text.js": ("text.js", "text/javascript; charset=utf-8"),
    b"members.js": ("members.js", "text/javascript; charset=utf-8"),
    b"style.css": ("style.css", "text/css; charset=utf-8"),
    b"favicon.svg": ("favicon.svg", "image/svg+xml"),
    b"favicon.ico": ("favicon.svg", "image/svg+xml"),
}


def _secure_headers(request: Request) -> None:
    request.setHeader(b"content-security-policy", CONTENT_SECURITY_POLICY)
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"no-referrer")
    request.setHeader(b"cache-control", b"no-cache")


class StaticFile(Resource):
    """
    One file of the page, read from the package once.
    """

    isLeaf = True

    def __init__(self, name: str, contentType: str) -> None:
        super().__init__()
        self.body = files("chatserver.doors.web").joinpath("static", name).read_bytes()
        self.contentType = contentType.encode("ascii")

    def render_GET(self, request: Request) -> bytes:
        _secure_headers(request)
        request.setHeader(b"content-type", self.contentType)
        return self.body

    def render_HEAD(self, request: Request) -> bytes:
        return self.render_GET(request)


def _origin(request: Request) -> str:
    scheme = "https" if request.isSecure() else "http"
    host = (request.getHeader(b"host") or b"").decode("latin-1")
    return f"{scheme}://{host}".lower()


class ChatWebSocket(Resource):
    """
    The WebSocket of the web door, at C{/ws}.

    @ivar origins: The origins allowed (lower case), or empty for the
        page's own origin.
    """

    isLeaf = True

    def __init__(self, server: ChatServer, origins: list[str]) -> None:
        super().__init__()
        self.chatServer = server
        self.codec = WebCodec()
        self.origins = {origin.rstrip("/").lower() for origin in origins}
        self.websocket = WebSocketResource(self)

    def originAllowed(self, request: Request) -> bool:
        origin = request.getHeader(b"origin")
        if origin is None:
            return True
        text = origin.decode("latin-1").rstrip("/").lower()
        if self.origins:
            return text in self.origins
        return text == _origin(request)

    def render_GET(self, request: Request) -> bytes | int:
        if not self.originAllowed(request):
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"origin not allowed\n"
        upgrade = (request.getHeader(b"upgrade") or b"").lower()
        version = request.getHeader(b"sec-websocket-version")
        if upgrade == b"websocket" and version != b"13":
            # RFC 6455, 4.2.2: say which version this server speaks.
            request.setResponseCode(426)
            request.setHeader(b"sec-websocket-version", b"13")
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"WebSocket version 13 only\n"
        # Checked here as Twisted's WebSocketResource checks it, to answer
        # in our words and not log an error for a plain GET.
        handshake = H11Handshake(ConnectionType.SERVER)
        raw = request.requestHeaders.getAllRawHeaders()
        headers = [(key, value) for key, values in raw for value in values]
        try:
            handshake.initiate_upgrade_connection(headers, request.path)
        except RemoteProtocolError:
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"a WebSocket is expected here\n"
        return self.websocket.render_GET(request)

    def buildProtocol(self, request: Request) -> WebSession:
        """
        As Twisted's L{WebSocketResource} asks: the session of a WebSocket
        about to be accepted, its messages capped on its connection.
        """
        session = WebSession(self.chatServer, self.codec, request)
        if isinstance(request.channel, ChatChannel):
            request.channel.upgraded(session)
        return session


def refusal(why: str) -> bytes:
    """
    @return: What a connection to the web door's port that the admission
        refuses is told, before it has sent anything: a C{503} saying why.
    """
    body = why.encode("utf-8") + b"\n"
    return (
        b"HTTP/1.1 503 Service Unavailable\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\n"
        b"connection: close\r\n"
        b"\r\n" % len(body)
    ) + body


class ChatChannel(http.HTTPChannel):
    """
    One HTTP connection of the web door: each of its requests must be whole
    within the site's C{headerTimeout}; once upgraded, it is its WebSocket
    session's.
    """

    site: ChatSite
    # The connection's TCP or TLS transport (IConsumer, IPushProducer,
    # abortConnection), or a StringTransport in the tests.
    transport: Any
    _deadline: IDelayedCall | None = None
    _closeCall: IDelayedCall | None = None
    _session: WebSession | None = None
    #: Whether a byte of the next request has come: a kept-alive connection
    #: that waits for none is idle, not slow.
    _heard = False
    #: What reads the connection's bytes before this channel (see
    #: L{ChatSite.buildProtocol}).
    messageCap: MessageCap | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self._startDeadline()

    def dataReceived(self, data: bytes) -> None:
        self._heard = True
        super().dataReceived(data)

    def _startDeadline(self) -> None:
        self._heard = False
        timeout = self.site.headerTimeout
        if timeout > 0 and self._deadline is None:
            self._deadline = self.callLater(timeout, self._tooSlow)

    def _stopDeadline(self) -> None:
        deadline, self._deadline = self._deadline, None
        if deadline is not None and deadline.active():
            deadline.cancel()

    def _tooSlow(self) -> None:
        self._deadline = None
        if not self._heard:
            # A browser keeps spare and kept-alive connections open with
            # nothing to send (and leaves them when a tab is closed): closing
            # one is housekeeping, not a client at fault.
            log.debug(
                "Closing idle HTTP connection from {peer}",
                peer=describe_address(self.transport.getPeer()),
            )
            self._close()
            return
        log.info(
            "Closing HTTP connection from {peer}: no whole request within "
            "{timeout:g} seconds",
            chat_event="timeout",
            peer=describe_address(self.transport.getPeer()),
            timeout=self.site.headerTimeout,
        )
        self._close()

    def _close(self) -> None:
        """
        Close, and abort a client that does not take what was written
        within the grace period.
        """
        if self._closeCall is not None:
            return
        self.loseConnection()
        self._closeCall = self.callLater(
            self.site.chatServer.config.closeGrace, self.transport.abortConnection
        )

    def allContentReceived(self) -> None:
        # The request is whole: it is answered (or upgraded) now.
        self._stopDeadline()
        super().allContentReceived()

    def requestDone(self, request: http.Request) -> None:
        # Before Twisted's, which reads a next request already received.
        if self.persistent:
            self._startDeadline()
        super().requestDone(request)

    def upgraded(self, session: WebSession) -> None:
        """
        This connection is now C{session}'s, a WebSocket: the session keeps
        its own time.
        """
        self._stopDeadline()
        self._session = session
        if self.messageCap is not None:
            self.messageCap.capMessages(session.maxMessage, session.messageTooLong)

    def serverStopping(self) -> None:
        """
        The server is stopping: the WebSocket session says goodbye, or the
        HTTP connection is closed.
        """
        if self._session is not None:
            self._session.serverStopping()
        else:
            self._close()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        # Not called once upgraded: the WebSocket's own is, instead.
        self._stopDeadline()
        closeCall, self._closeCall = self._closeCall, None
        if closeCall is not None and closeCall.active():
            closeCall.cancel()
        super().connectionLost(reason)


class ChatSite(Site):
    """
    The web door's site: its connections are L{ChatChannel}s; it does not
    log every request (the chat logs what matters).

    @ivar chatServer: What every door of the server shares.
    @ivar headerTimeout: Seconds an HTTP connection has for each whole
        request; C{0} for no limit.
    """

    protocol = ChatChannel  # type: ignore[assignment]
    noisy = False

    def __init__(self, root: Resource, server: ChatServer) -> None:
        # An HTTP connection idle this long is closed; a WebSocket keeps its
        # own time once upgraded (see WebSession.negotiationFinished).
        super().__init__(root, timeout=HTTP_IDLE_TIMEOUT, reactor=server.clock)
        self.chatServer = server
        self.headerTimeout = server.config.headerTimeout

    def buildProtocol(self, addr: IAddress) -> MessageCap:  # type: ignore[override]
        """
        @return: A connection's L{ChatChannel}, behind the L{MessageCap}
            that caps its messages once it is a WebSocket.
        """
        channel = super().buildProtocol(addr)
        assert isinstance(channel, ChatChannel)
        channel.messageCap = MessageCap(channel)
        return channel.messageCap

    def log(self, request: http.Request) -> None:
        pass


def web_site(server: ChatServer, origins: list[str]) -> ChatSite:
    """
    @return: The web door's site: the page at C{/}, the WebSocket at
        C{/ws}.
    """
    root = Resource()
    for path, (name, contentType) in STATIC.items():
        root.putChild(path, StaticFile(name, contentType))
    root.putChild(b"ws", ChatWebSocket(server, origins))
    return ChatSite(root, server)
