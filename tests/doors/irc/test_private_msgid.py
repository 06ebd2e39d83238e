"""
A private message between two accounts has one msgid: the one it came
with, live, is the one C{CHATHISTORY} on the nick gives (irctest's
C{testChathistoryDMs} and C{testMessagesToSelf}).
"""

from __future__ import annotations

from typing import Any

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.testing import ChatHarness

CAPS = ("message-tags", "echo-message", "batch", "server-time", "draft/chathistory")


def accounts() -> ChatHarness:
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret", bob=b"hunter2")
    return ChatHarness(checkers=[checker], rate=0)


def irc(server: ChatHarness, name: str, password: str) -> Any:
    client = server.irc()
    client.send("CAP LS 302", f"CAP REQ :{' '.join(CAPS)}")
    client.send(f"PASS {password}", f"NICK {name}", "USER a 0 * :A", "CAP END")
    assert "001" in client.commands()
    client.raw()
    return client


def msgids(client: Any) -> list[str]:
    return [m.tags["msgid"] for m in client.messages() if m.command == "PRIVMSG"]


def test_a_kept_private_line_has_its_history_id_live_and_in_chathistory():
    server = accounts()
    alice = irc(server, "alice", "s3cret")
    bob = irc(server, "bob", "hunter2")
    alice.send("PRIVMSG bob :hello bob")
    [echoed] = msgids(alice)
    [received] = msgids(bob)
    assert echoed == received
    bob.send("CHATHISTORY LATEST alice * 10")
    assert msgids(bob) == [received]


def test_a_private_line_between_guests_keeps_its_own_msgid():
    server = ChatHarness(rate=0, accounts="memory")
    alice = server.ircLogin("alice", *CAPS)
    carol = server.ircLogin("carol", *CAPS)
    alice.raw()
    carol.send("PRIVMSG alice :hi")
    [received] = msgids(alice)
    assert received.startswith("p")
