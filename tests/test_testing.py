"""
The in-memory harness (L{chatserver.testing}) that a door's author tests
with: the chat's output goes through the production fan-out, each door has
a client, and a door of one's own is reached through its factory, behind
the same admission as every door.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineOnlyReceiver

from chatserver.auth.checkers import ChosenName
from chatserver.core.events import ChatEvent
from chatserver.core.rooms import Room
from chatserver.core.users import ChatUser, IChatUser
from chatserver.server import ChatServer
from chatserver.testing import ChatHarness
from chatwire import lines


class SilentCodec:
    """
    A door that shows its users nothing.
    """

    def form(self, rooms: Collection[Room], room: Room | None) -> Hashable:
        return None

    def encode(self, event: ChatEvent, form: Hashable) -> bytes:
        return b""


class ShoutMind:
    """
    The chat's side of a shouting session.
    """

    codec = SilentCodec()
    door = "shout"
    ident = "shout"
    realname = ""
    echoes = False
    joinsDefaultRoom = True
    lastActive = 0.0
    closing = False
    peer = "shout door"

    def deliver(self, data: bytes) -> None:
        pass

    def disconnect(self, reason: str) -> None:
        pass


class Shout(LineOnlyReceiver):
    """
    A door of our own: the first line is a name, every other line is said
    in the default room.
    """

    delimiter = b"\n"
    user: ChatUser | None = None

    def __init__(self, server: ChatServer) -> None:
        self.server = server

    def lineReceived(self, line: bytes) -> None:
        text = line.decode("utf-8")
        if self.user is None:
            self.server.portal.login(
                ChosenName(text), ShoutMind(), IChatUser
            ).addCallback(self._loggedIn)
        else:
            self.user.say(text)

    def _loggedIn(self, login: tuple[Any, Any, Any]) -> None:
        self.user = login[1]


class ShoutFactory(Factory):
    """
    What the shout door's plugin would give in C{makeFactory(server)}.
    """

    def __init__(self, server: ChatServer) -> None:
        self.server = server

    def buildProtocol(self, addr: IAddress | None) -> Shout:
        return Shout(self.server)


def shout_factory(server: ChatServer) -> ShoutFactory:
    return ShoutFactory(server)


def test_a_doors_factory_is_reached_in_memory_and_its_lines_read_on_the_line_door():
    chat = ChatHarness(rate=0)
    watcher = chat.login("watcher")
    shouter = chat.connect(factory=shout_factory(chat.server))
    shouter.send(b"shouty\nhello\n")
    assert watcher.events() == [
        lines.Joined("shouty"),
        lines.Message("shouty", "hello"),
    ]


def test_a_doors_connections_pass_the_admission_of_every_door():
    chat = ChatHarness(maxClients=1)
    chat.login("watcher")
    refused = chat.connect(factory=shout_factory(chat.server))
    assert refused.protocol is None
    assert refused.closing


def test_output_is_written_at_the_end_of_the_turn_as_in_production():
    chat = ChatHarness(rate=0)
    alice, bob = chat.login("alice"), chat.login("bob")
    bob.received()
    alice.send("one")
    alice.send("two")
    assert bob.transport.io.getvalue() == b""
    chat.flush()
    assert bob.transport.io.getvalue() == b"<alice> one\r\n<alice> two\r\n"


def test_reading_a_client_ends_the_turn():
    chat = ChatHarness(rate=0)
    alice, bob = chat.login("alice"), chat.login("bob")
    bob.received()
    alice.send("hi")
    assert bob.received() == ["<alice> hi"]


def test_irc_and_web_clients_read_what_a_line_user_says():
    chat = ChatHarness(rate=0)
    line = chat.login("lina")
    irc = chat.ircLogin("ira", join="#lobby")
    web = chat.web()
    web.send({"type": "login", "name": "wes"})
    web.messages()
    line.send("hello all")
    assert irc.messages()[-1].params == ("#lobby", "hello all")
    assert [m["text"] for m in web.messages() if m["type"] == "message"] == [
        "hello all"
    ]
