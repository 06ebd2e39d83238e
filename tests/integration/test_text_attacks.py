"""
Issue 19's attacks on text, from outside, on a real twistd with four doors
open (line, telnet, IRC, web): a quit reason that would forge IRC lines, and
one that would rewrite a terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.support import ChatServer, Client
from tests.integration.wsclient import WebSocketClient

LOCAL = "tcp:0:interface=127.0.0.1"
Start = Callable[..., ChatServer]


@pytest.fixture
def chat(start_server: Start) -> ChatServer:
    return start_server(
        "--rate", "0", "--irc", LOCAL, "--web", LOCAL, "--telnet", LOCAL
    )


def _irc(chat: ChatServer, nick: str) -> IrcSocket:
    irc = IrcSocket(chat.ircPorts[0])
    irc.register(nick, join="#lobby")
    return irc


def _nothing_more(line: Client) -> list[lines.Event]:
    """
    @return: What C{line} receives before the answer to a C{/where}: it
        reads everything sent to it so far.
    """
    line.send("/where")
    got: list[lines.Event] = []
    while not isinstance(event := line.event(), lines.InRoom):
        got.append(event)
    return got


def test_a_web_quit_reason_forges_no_line_on_any_door(chat: ChatServer):
    alice = chat.login("alice")
    ira = _irc(chat, "ira")
    bob = WebSocketClient(chat.webPorts[0])
    bob.login("bob")
    alice.expect(lines.Joined("bob"))
    assert ira.expect("JOIN").prefix.startswith("bob!")
    bob.send(type="quit", reason="bye\r\n:admin!admin@irc PRIVMSG #lobby :spoofed\r\n")
    bob.messages_until_closed()
    cleaned = "Quit: bye:admin!admin@irc PRIVMSG #lobby :spoofed"
    assert alice.event() == lines.Left("bob", cleaned)
    assert _nothing_more(alice) == []
    quit = ira.expect("QUIT")
    assert quit.prefix.startswith("bob!") and quit.params == (cleaned,)
    ira.send("PING :after")
    assert [m.command for m in ira.until("PONG")] == ["PONG"]


def test_an_irc_quit_reason_reaches_line_and_telnet_users_clean(chat: ChatServer):
    alice = chat.login("alice")
    tom = Client(chat.telnetPorts[0])
    # IAC DO BINARY, then the greeting.
    assert tom.readline().startswith(b"\xff\xfd\x00-!- Welcome")
    tom.send("tom")
    tom.expect(lines.Welcome)
    ira = _irc(chat, "ira")
    alice.expect(lines.Joined("tom"))
    ira.send(b"QUIT :\x1b[2J\x1b[Hgone\x07\x00 \xe2\x80\xaeevil\r\n")
    assert ira.closed()
    for user in (alice, tom):
        user.expect(lines.Left("ira", "Quit: [2J[Hgone evil"))
        assert _nothing_more(user) == []
