"""
Findings 2, 3 and 8 of issue 19 as they were reported, on a real twistd with
the line, IRC and web doors open: a quit reason no door can encode, a mask a
regular expression takes exponential time over, numbers in other scripts.
Each is answered, the connection kept, every later delivery made, and the
log holds no traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.support import ChatServer
from tests.integration.wsclient import WebSocketClient

LOCAL = "tcp:0:interface=127.0.0.1"


@pytest.fixture
def chat(start_server: Callable[..., ChatServer]) -> ChatServer:
    return start_server("--rate", "0", "--irc", LOCAL, "--web", LOCAL)


def answers_ping(irc: IrcSocket, token: str) -> None:
    irc.send(f"PING {token}")
    assert irc.expect("PONG").params[-1] == token


def test_a_web_quit_reason_with_a_lone_surrogate_stops_no_delivery(chat):
    alice = chat.login("alice")
    irc = IrcSocket(chat.ircPorts[0])
    irc.register("carol", join="#lobby")
    mallory = WebSocketClient(chat.webPorts[0])
    mallory.expect("hello")
    mallory.send(type="login", name="mallory")
    mallory.expect("welcome")
    alice.expect(lines.Joined("mallory"))
    mallory.send(type="quit", reason="\ud800")
    bob = chat.login("bob")
    bob.send("still heard")
    alice.expect(lines.Message("bob", "still heard"))
    said = irc.expect("PRIVMSG")
    assert said.params == ("#lobby", "still heard")
    answers_ping(irc, "alive")
    assert "Unhandled" not in chat.log()


def test_masks_that_took_exponential_time_are_answered(chat):
    room = "#" + "a" * 49
    irc = IrcSocket(chat.ircPorts[0])
    irc.register("a" * 32, join=room)
    irc.send("LIST " + "*a" * 12 + "*b")
    assert [m.command for m in irc.until("323")] == ["321", "323"]
    irc.send("WHO " + "*a" * 12 + "*b")
    assert [m.command for m in irc.until("315")] == ["315"]
    answers_ping(irc, "alive")
    assert "Traceback" not in chat.log()


def test_numbers_in_other_scripts_are_refused_in_one_line(chat):
    irc = IrcSocket(chat.ircPorts[0])
    irc.register("carol", "batch", "draft/chathistory", join="#lobby")
    irc.send("LIST >²")
    assert irc.expect("FAIL").params[:2] == ("LIST", "INVALID_PARAMS")
    irc.send("CHATHISTORY LATEST #lobby * ²")
    assert irc.expect("FAIL").params[:2] == ("CHATHISTORY", "INVALID_PARAMS")
    irc.send("CHATHISTORY BEFORE #lobby msgid=" + "9" * 23 + " 10")
    assert irc.expect("FAIL").params[:2] == ("CHATHISTORY", "INVALID_PARAMS")
    irc.send("PART ,#x")
    assert irc.expect("403").params[1] == "#x"
    answers_ping(irc, "alive")
    alice = chat.login("alice")
    alice.send("/history ²")
    assert isinstance(alice.expect(lines.Error), lines.Error)
    alice.send("/history 1")
    alice.expect(lines.HistoryEnd)
    assert "Traceback" not in chat.log()
