"""
Stand-ins for the client's tests without sockets or Tk: an endpoint whose
attempts the test completes or fails, and a view that records what it is
asked to show.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from twisted.internet import defer, error
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from chatclient.model import Conversation, IChatView, Status, ViewLine
from chatclient.search import Hit, Search
from chatwire import lines


class Attempt:
    """
    One connection attempt made through a L{FakeEndpoint}.
    """

    def __init__(self, factory: IProtocolFactory) -> None:
        self.factory = factory
        self.deferred: defer.Deferred[IProtocol] = defer.Deferred(
            lambda d: d.errback(defer.CancelledError())
        )
        self.transport = StringTransport()
        self.protocol: IProtocol | None = None

    def succeed(self) -> StringTransport:
        address = IPv4Address("TCP", "127.0.0.1", 8123)
        protocol = self.factory.buildProtocol(address)
        assert protocol is not None
        self.protocol = protocol
        protocol.makeConnection(self.transport)
        self.deferred.callback(protocol)
        return self.transport

    def refuse(self) -> None:
        self.deferred.errback(Failure(error.ConnectionRefusedError()))

    def receive(self, *events: lines.Event) -> None:
        assert self.protocol is not None
        self.protocol.dataReceived(b"".join(lines.encode(e) for e in events))

    def sent(self) -> list[str]:
        data: bytes = self.transport.value()
        self.transport.clear()
        return data.decode("utf-8").split("\r\n")[:-1]

    def lose(self, reason: BaseException | None = None) -> None:
        assert self.protocol is not None
        self.transport.loseConnection()
        self.protocol.connectionLost(Failure(reason or error.ConnectionLost()))


@implementer(IStreamClientEndpoint)
class FakeEndpoint:
    """
    Records each connection attempt for the test to complete.
    """

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self.addresses: list[tuple[str, int]] = []
        self.tls: list[bool] = []

    def make(self, host: str, port: int, tls: bool = False) -> FakeEndpoint:
        self.addresses.append((host, port))
        self.tls.append(tls)
        return self

    def connect(self, factory: IProtocolFactory) -> defer.Deferred[IProtocol]:
        attempt = Attempt(factory)
        self.attempts.append(attempt)
        return attempt.deferred

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]


@implementer(IChatView)
class FakeView:
    """
    Records what the model shows.
    """

    def __init__(self) -> None:
        self.lines: list[ViewLine] = []
        self.batches: list[int] = []
        self.users: list[str] = []
        self.title = ""
        self.status = Status("")
        self.login: str | None = None
        self.loginField = ""
        self.password: str | None = None
        self.chat = False
        self.held: dict[str, list[ViewLine]] = {}
        self.tabs: list[str] = []
        self.selected = ""
        self.topics: dict[str, str] = {}
        self.rooms: list[lines.RoomEntry] = []
        self.searches: list[list[str]] = []
        self.hits: list[tuple[str, int]] = []
        self.attentions: list[tuple[str, str]] = []

    def appendLines(
        self, batch: Sequence[ViewLine], trim: int, conversation: Conversation
    ) -> None:
        self.lines.extend(batch)
        del self.lines[:trim]
        self.batches.append(len(batch))
        held = self.held.setdefault(conversation.key, [])
        held.extend(batch)
        del held[:trim]

    def insertLines(
        self, batch: Sequence[ViewLine], index: int, conversation: Conversation
    ) -> None:
        held = self.held.setdefault(conversation.key, [])
        held[index:index] = batch

    def showConversations(
        self, conversations: Sequence[Conversation], selected: Conversation | None
    ) -> None:
        self.tabs = [c.label for c in conversations]
        self.selected = selected.label if selected is not None else ""

    def showTopic(self, conversation: Conversation) -> None:
        self.topics[conversation.key] = conversation.topic

    def showRooms(self, rooms: Sequence[lines.RoomEntry]) -> None:
        self.rooms = list(rooms)

    def showHit(self, conversation: Conversation, hit: Hit) -> None:
        self.hits.append((conversation.name, hit.entry.id))

    def showSearch(self, search: Search) -> None:
        self.searches.append([hit.describe(time.gmtime) for hit in search.hits])

    def shown(self, name: str) -> list[str]:
        """
        @return: The texts the view holds for the conversation C{name}.
        """
        key = name.casefold()
        return [line.text for line in self.held.get(key, [])]

    def showUsers(self, names: Sequence[str]) -> None:
        self.users = list(names)

    def showTitle(self, title: str) -> None:
        self.title = title

    def attention(self, conversation: Conversation, line: ViewLine) -> None:
        self.attentions.append((conversation.name, line.text))

    def showStatus(self, status: Status) -> None:
        self.status = status

    def showLogin(self, error: str, field: str = "name") -> None:
        self.login = error
        self.loginField = field
        self.chat = False

    def showPassword(self, name: str) -> None:
        self.password = name
        self.login = ""
        self.loginField = "password"
        self.chat = False

    def showChat(self) -> None:
        self.login = None
        self.chat = True

    def texts(self) -> list[str]:
        return [line.text for line in self.lines]
