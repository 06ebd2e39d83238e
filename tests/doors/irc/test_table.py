"""
The IRC door's command table (L{chatserver.doors.irc.table}): what it
answers before any handler (421, 451, 462, 461), and the one mapping of the
chat core's refusals to numerics (L{chatserver.doors.irc.refusals}).
"""

import pytest
from twisted.internet import defer

from chatserver.doors.irc.refusals import refuse
from chatserver.doors.irc.table import TABLE
from chatserver.testing import ChatHarness
from chatwire.errors import (
    AlreadyCalled,
    ChatError,
    ClusterUnavailable,
    InvalidName,
    InvalidRoomName,
    InvalidText,
    NamesAreAccounts,
    NameTaken,
    NoSuchRoom,
    NoSuchUser,
    NotInRoom,
    TooManyRooms,
)

# Each command that needs parameters, sent without them or with the last
# one empty, from where it may be sent.
_WITHOUT = [
    ("CAP", False),
    ("CAP :", False),
    ("PASS", False),
    ("PASS :", False),
    ("USER a 0 *", False),
    ("USER a 0 * :", False),
    ("AUTHENTICATE", False),
    ("AUTHENTICATE :", False),
    ("JOIN", True),
    ("JOIN :", True),
    ("PART", True),
    ("PART :", True),
    ("TOPIC", True),
    ("TOPIC :", True),
    ("MODE", True),
    ("MODE :", True),
    ("USERHOST", True),
    ("USERHOST :", True),
    ("ISON", True),
    ("ISON :", True),
]


@pytest.mark.parametrize("line, registered", _WITHOUT)
def test_a_needed_parameter_missing_or_empty_is_461_alone(line, registered):
    server = ChatHarness(rate=0)
    client = server.ircLogin("alice") if registered else server.irc()
    client.send(line)
    (reply,) = client.messages()
    assert reply.command == "461", line
    assert reply.params[1:] == (line.split()[0], "Not enough parameters")


@pytest.mark.parametrize(
    "name, given",
    [
        (name, given)
        for name, command in sorted(TABLE.items())
        for given in range(command.minParams)
    ],
)
def test_every_command_with_fewer_parameters_than_the_table_says_is_461(name, given):
    command = TABLE[name]
    server = ChatHarness(rate=0)
    client = server.irc() if command.beforeRegistration else server.ircLogin("alice")
    client.send(" ".join([name, *["x"] * given]))
    assert client.commands() == ["461"]


@pytest.mark.parametrize("line", ["JOIN", "PRIVMSG", "MODE", "WHO #lobby"])
def test_a_command_for_registered_users_is_451_before_registration(line):
    client = ChatHarness(rate=0).irc()
    client.send(line)
    (reply,) = client.messages()
    assert (reply.command, reply.params) == ("451", ("*", "You have not registered"))


@pytest.mark.parametrize("line", ["PASS", "PASS x", "USER", "USER x 0 * :", "USER x"])
def test_pass_and_user_after_registration_are_462_whatever_their_parameters(line):
    client = ChatHarness(rate=0).ircLogin("alice")
    client.send(line)
    (reply,) = client.messages()
    assert (reply.command, reply.params) == (
        "462",
        ("alice", "You may not reregister"),
    )


def test_an_unknown_command_is_421_before_and_after_registration():
    server = ChatHarness(rate=0)
    client = server.irc()
    client.send("FROB a b")
    assert [(m.command, m.params) for m in client.messages()] == [
        ("421", ("*", "FROB", "Unknown command"))
    ]
    client = server.ircLogin("alice")
    client.send("FROB")
    assert client.commands() == ["421"]


def test_commands_with_their_own_numeric_for_what_is_missing_keep_it():
    client = ChatHarness(rate=0).ircLogin("alice")
    client.send("NICK", "PING", "PRIVMSG", "PRIVMSG #lobby", "WHOIS", "TAGMSG")
    assert client.commands() == ["431", "409", "411", "412", "431", "411"]
    client.send("NOTICE", "NOTICE #lobby", "PONG", "CHATHISTORY")
    assert [(m.command, m.params[:2]) for m in client.messages()] == [
        ("FAIL", ("CHATHISTORY", "NEED_MORE_PARAMS"))
    ]


# One refusal of the chat core, and the numeric it reads as: (command,
# target, error) -> (numeric, its parameters after the nick).
_REFUSALS = [
    ("NICK", "bob", NameTaken("bob"), ("433", ("bob", "Nickname is already in use"))),
    (
        "NICK",
        "b@d",
        InvalidName("a name may not hold @"),
        ("432", ("b@d", "Erroneous nickname: a name may not hold @")),
    ),
    (
        "NICK",
        "Bob2",
        NamesAreAccounts(),
        ("432", ("Bob2", NamesAreAccounts().reason)),
    ),
    ("NICK", "alice", AlreadyCalled("alice"), None),
    ("PRIVMSG", "b@d", InvalidName("x"), ("401", ("b@d", "No such nick/channel"))),
    (
        "WHOIS",
        "nobody",
        NoSuchUser("nobody"),
        ("401", ("nobody", "No such nick/channel")),
    ),
    ("JOIN", "#x", NoSuchRoom("#x"), ("403", ("#x", "No such channel"))),
    ("JOIN", "#b@d", InvalidRoomName("x"), ("403", ("#b@d", "No such channel"))),
    ("PART", "#none", NotInRoom("#none"), ("403", ("#none", "No such channel"))),
    (
        "PART",
        "#lobby",
        NotInRoom("#lobby"),
        ("442", ("#lobby", "You're not on that channel")),
    ),
    (
        "PRIVMSG",
        "#lobby",
        NotInRoom("#lobby"),
        ("404", ("#lobby", "Cannot send to channel (you are not in it)")),
    ),
    (
        "TAGMSG",
        "#lobby",
        NotInRoom("#lobby"),
        ("404", ("#lobby", "Cannot send to channel (you are not in it)")),
    ),
    ("JOIN", "#x", TooManyRooms("too many rooms"), ("405", ("#x", "too many rooms"))),
]


@pytest.mark.parametrize("command, target, error, expected", _REFUSALS)
def test_each_refusal_of_the_core_reads_as_its_numeric(
    command, target, error, expected
):
    server = ChatHarness(rate=0)
    server.login("bob")  # in #lobby, so the room exists
    client = server.ircLogin("alice")
    refuse(client.protocol, command, target, error)
    got = [(m.command, m.params[1:]) for m in client.messages()]
    assert got == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    "error", [InvalidText("no control characters"), ClusterUnavailable()]
)
def test_a_refusal_no_numeric_describes_is_fail_refused(error):
    client = ChatHarness(rate=0).ircLogin("alice")
    refuse(client.protocol, "TOPIC", "#lobby", error)
    (reply,) = client.messages()
    assert (reply.command, reply.params) == ("FAIL", ("TOPIC", "REFUSED", error.reason))


def test_a_login_the_core_refuses_for_no_numeric_is_fail_nick_refused():
    server = ChatHarness(rate=0)
    error: ChatError = ClusterUnavailable()
    server.server.portal.login = lambda *a, **k: defer.fail(error)  # type: ignore[method-assign]
    client = server.irc()
    client.send("NICK alice", "USER a 0 * :A")
    (reply,) = client.messages()
    assert (reply.command, reply.params) == ("FAIL", ("NICK", "REFUSED", error.reason))
