"""
The web door's HTTP side: the page at C{/} (with its script and style), and
the WebSocket at C{/ws}, in one twisted.web site per server.

The WebSocket is Twisted's own (C{twisted.web.websocket}, over wsproto),
with two things it lacks added here:

  - a size cap: Twisted reassembles a message of any size in memory; here
    the pieces wsproto gives are counted as they come, and a message over
    the cap is dropped as it arrives and answered with an error;
  - the C{Origin} check, before the upgrade: a browser page from another
    origin gets C{403}.  The allowed origins are C{--web-origin}, or by
    default the page's own origin (the request's scheme and C{Host}).  A
    request with no C{Origin} (not a browser) is let through: the check
    protects browser users from other sites' pages.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from twisted.web import http
from twisted.web._websocket_impl import (
    _handleEvent,
    _WebSocketWireProtocol,
    serverBootstrap,
)
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site
from wsproto import ConnectionType
from wsproto.events import AcceptConnection, BytesMessage, TextMessage
from wsproto.handshake import H11Handshake
from wsproto.utilities import RemoteProtocolError

from chatserver.doors.web.codec import WebCodec
from chatserver.doors.web.protocol import WebSession
from chatserver.server import ChatServer

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


class _CappedWire(_WebSocketWireProtocol[WebSession]):
    """
    Twisted's WebSocket wire protocol with a cap on the size of a message.
    """

    maxMessage = 0
    _size = 0
    _dropping = False

    def dataReceived(self, data: bytes) -> None:
        self._wsconn.receive_data(data)
        for event in self._wsconn.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                self._piece(event)
            else:
                _handleEvent(event, self)

    def _piece(self, event: TextMessage | BytesMessage) -> None:
        if isinstance(event, TextMessage):
            size = len(event.data.encode("utf-8"))
        else:
            size = len(event.data)
        self._size += size
        if self._size > self.maxMessage:
            self._dropping = True
            self._textBuffer.done()
            self._bytesBuffer.done()
        if event.message_finished:
            self._size = 0
            if self._dropping:
                self._dropping = False
                self._wsp.messageTooLong()
                return
        if self._dropping:
            return
        if isinstance(event, TextMessage):
            self._textBuffer.add(event.data)
            if event.message_finished:
                self._wsp.textMessageReceived(self._textBuffer.done())
        else:
            self._bytesBuffer.add(event.data)
            if event.message_finished:
                self._wsp.bytesMessageReceived(self._bytesBuffer.done())


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
        # As twisted.web.websocket.WebSocketResource.render_GET, with the
        # capped wire protocol.
        handshake = H11Handshake(ConnectionType.SERVER)
        raw = request.requestHeaders.getAllRawHeaders()
        headers = [(key, value) for key, values in raw for value in values]
        try:
            handshake.initiate_upgrade_connection(headers, request.path)
        except RemoteProtocolError:
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"a WebSocket is expected here\n"
        session = WebSession(self.chatServer, self.codec, request)
        toSend = handshake.send(AcceptConnection())
        connection = handshake.connection
        transport: Any = request.channel.transport
        assert connection is not None and transport is not None
        wire = _CappedWire(connection, serverBootstrap, session)
        wire.maxMessage = session.maxMessage
        request.channel._protocolUpgradeForWebsockets(wire)
        transport.write(toSend)
        session.negotiationFinished()
        return NOT_DONE_YET


class _QuietSite(Site):
    """
    A site that does not log every request: the chat logs what matters.
    """

    noisy = False

    def log(self, request: http.Request) -> None:
        pass


def web_site(server: ChatServer, origins: list[str]) -> Site:
    """
    @return: The web door's site: the page at C{/}, the WebSocket at
        C{/ws}.
    """
    root = Resource()
    for path, (name, contentType) in STATIC.items():
        root.putChild(path, StaticFile(name, contentType))
    root.putChild(b"ws", ChatWebSocket(server, origins))
    # An HTTP connection idle this long is closed; a WebSocket keeps its own
    # time once upgraded (see WebSession.negotiationFinished).
    return _QuietSite(root, timeout=HTTP_IDLE_TIMEOUT)
