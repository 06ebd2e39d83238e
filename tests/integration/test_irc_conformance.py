"""
The IRC door over real sockets against a real C{twistd chat --irc}, checked
against RFC 1459, RFC 2812 and the IRCv3 specifications: registration,
the commands and their error numerics, tags, CHATHISTORY, and a line-door
user in the same chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.irc_support import IrcSocket
from tests.integration.support import ChatServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    directory: Path = tmp_path_factory.mktemp("irc")
    chat = ChatServer(
        directory,
        "--irc",
        "tcp:0:interface=127.0.0.1",
        "--rate",
        "50",
        "--burst",
        "100",
    )
    yield chat
    chat.stop()


def connect(server: ChatServer) -> IrcSocket:
    return IrcSocket(server.ircPorts[0])


def test_registration(server: ChatServer) -> None:
    client = connect(server)
    client.send("CAP LS 302")
    ls = client.expect("CAP")
    assert ls.params[1] == "LS"
    client.send("NICK reg1")
    client.send("USER reg1 0 * :Reg One")
    client.send("CAP END")
    got = client.until("376", "422")
    commands = [m.command for m in got]
    assert commands[:5] == ["001", "002", "003", "004", "005"]
    assert got[0].params[0] == "reg1"
    # A fresh IRC user is in no channel: the next thing it hears answers it.
    client.send("PING :after")
    assert client.message().command == "PONG"
    client.send("JOIN #lobby")
    join = client.message()
    assert join.params == ("#lobby",) and join.prefix.startswith("reg1!")
    client.send("QUIT :bye")
    assert client.expect("ERROR")
    assert client.closed()


def test_error_numerics(server: ChatServer) -> None:
    client = connect(server)
    client.send("PRIVMSG #lobby :too early")
    assert client.expect("451")
    client.send("NICK")
    assert client.expect("431")
    client.send("NICK b@d")
    assert client.expect("432")
    client.register("errs", join="#lobby")
    other = connect(server)
    other.send("NICK errs")
    other.send("USER x 0 * :x")
    assert other.expect("433")
    for line, numeric in [
        ("PRIVMSG nobody :hi", "401"),
        ("PART #nosuch", "403"),
        ("TOPIC #nosuch", "403"),
        ("JOIN", "461"),
        ("USER a b c :d", "462"),
        ("FROBNICATE", "421"),
        ("PRIVMSG", "411"),
        ("PRIVMSG #lobby", "412"),
        ("MODE #nosuch", "403"),
        ("PING", "409"),
    ]:
        client.send(line)
        assert client.message().command == numeric, line
    third = connect(server)
    third.register("errs3")
    third.send("JOIN #errs")
    third.until("366")
    client.send("PRIVMSG #errs :not in it")
    assert client.expect("404")
    client.send("PART #errs")
    assert client.expect("442")
    client.send("TOPIC #errs :x")
    assert client.expect("442")


def test_join_part_topic_names_who_whois_mode_list(server: ChatServer) -> None:
    alice, bob = connect(server), connect(server)
    alice.register("c_alice")
    alice.send("JOIN #conf")
    got = alice.until("366")
    assert got[0].command == "JOIN" and got[0].params == ("#conf",)
    assert [m.command for m in got][-2:] == ["353", "366"]
    alice.send("TOPIC #conf :a topic")
    assert alice.expect("TOPIC").params == ("#conf", "a topic")
    bob.register("c_bob")
    bob.send("JOIN #conf")
    got = bob.until("366")
    assert [m.command for m in got] == ["JOIN", "332", "333", "353", "366"]
    assert set(got[3].params[-1].split()) == {"@c_alice", "c_bob"}
    assert alice.expect("JOIN").prefix.startswith("c_bob!")
    bob.send("MODE #conf")
    assert bob.expect("324").params[1:] == ("#conf", "+n")
    assert bob.message().command == "329"
    bob.send("MODE c_bob")
    assert bob.expect("221")
    bob.send("WHO #conf")
    who = bob.until("315")
    assert {m.params[5] for m in who if m.command == "352"} == {"c_alice", "c_bob"}
    bob.send("WHOIS c_alice")
    whois = bob.until("318")
    assert whois[0].command == "311" and whois[0].params[1] == "c_alice"
    bob.send("LIST")
    listed = bob.until("323")
    assert any(m.command == "322" and m.params[1] == "#conf" for m in listed)
    bob.send("PART #conf :later")
    assert bob.expect("PART").params == ("#conf", "later")
    part = alice.expect("PART")
    assert part.prefix.startswith("c_bob!") and part.params == ("#conf", "later")
    bob.send("NICK c_robert")
    assert bob.expect("NICK").params == ("c_robert",)
    bob.send("AWAY :out")
    assert bob.expect("306")
    alice.send("PRIVMSG c_robert :hello")
    assert alice.expect("301").params[1:] == ("c_robert", "out")
    assert bob.expect("PRIVMSG").params == ("c_robert", "hello")
    bob.send("JOIN #conf")
    bob.until("366")
    assert alice.expect("JOIN").prefix.startswith("c_robert!")
    bob.send("QUIT :done")
    quit = alice.expect("QUIT")
    assert quit.prefix == "c_robert!~c_bob@irc" and "done" in quit.params[0]


def test_irc_and_line_users_share_the_chat(server: ChatServer) -> None:
    irc = connect(server)
    irc.register("l_irc", join="#lobby")
    line = server.login("l_line")
    assert irc.expect("JOIN").prefix == "l_line!l_line@line"
    irc.send("NAMES #lobby")
    names = irc.expect("353")
    assert "l_line" in names.params[-1].split()
    line.send("hello irc")
    msg = irc.expect("PRIVMSG")
    assert (msg.prefix, msg.params) == ("l_line!l_line@line", ("#lobby", "hello irc"))
    irc.send("PRIVMSG #lobby :hello line")
    from chatwire import lines

    assert line.expect(lines.Message("l_irc", "hello line"))
    irc.send("NOTICE l_line :a notice")
    line.send("/quit")


def test_tags_server_time_echo_and_chathistory(server: ChatServer) -> None:
    caps = ("server-time", "message-tags", "echo-message", "batch", "draft/chathistory")
    client = connect(server)
    client.register("h_one", *caps)
    client.send("JOIN #hist")
    client.until("366")
    ids = []
    for n in range(5):
        client.send(f"@+typing=active PRIVMSG #hist :line {n}")
        echo = client.expect("PRIVMSG")
        assert echo.tags["time"].endswith("Z")
        ids.append(echo.tags["msgid"])
    client.send("CHATHISTORY LATEST #hist * 3")
    got = client.until("BATCH")
    assert got[-1].params[0].startswith("+") and got[-1].params[1] == "chathistory"
    batch = client.until("BATCH")
    texts = [m.params[1] for m in batch if m.command == "PRIVMSG"]
    assert texts == ["line 2", "line 3", "line 4"]
    assert all(m.tags["batch"] == got[-1].params[0][1:] for m in batch[:-1])
    client.send(f"CHATHISTORY BEFORE #hist msgid={ids[2]} 10")
    client.until("BATCH")
    assert [m.params[1] for m in client.until("BATCH")[:-1]] == ["line 0", "line 1"]
    client.send(f"CHATHISTORY AFTER #hist msgid={ids[2]} 10")
    client.until("BATCH")
    assert [m.params[1] for m in client.until("BATCH")[:-1]] == ["line 3", "line 4"]
    client.send(f"CHATHISTORY BETWEEN #hist msgid={ids[0]} msgid={ids[4]} 10")
    client.until("BATCH")
    assert len(client.until("BATCH")[:-1]) == 3
    client.send(f"CHATHISTORY AROUND #hist msgid={ids[2]} 3")
    client.until("BATCH")
    assert len(client.until("BATCH")[:-1]) == 3
    client.send("CHATHISTORY BEFORE #hist timestamp=2999-01-01T00:00:00.000Z 2")
    client.until("BATCH")
    assert [m.params[1] for m in client.until("BATCH")[:-1]] == ["line 3", "line 4"]
    # A client without chathistory gets the replay on join, timed.
    other = connect(server)
    other.register("h_two", "server-time")
    other.send("JOIN #hist")
    got = other.until("366")
    replay = [other.message() for _ in range(5)]
    assert all("time" in m.tags for m in replay)
    assert [m.params[1] for m in replay] == [f"line {n}" for n in range(5)]


def test_framing_limits(server: ChatServer) -> None:
    client = connect(server)
    client.register("f_one", join="#lobby")
    client.send("PRIVMSG #lobby :" + "x" * 600)
    assert client.expect("417")
    data = "PING :héllo\r\n".encode()
    for i in range(len(data)):
        client.send(data[i : i + 1])
    assert client.expect("PONG").params[-1] == "héllo"


def test_fresh_clients_tagmsg_actions_and_queries(server: ChatServer) -> None:
    tags = ("message-tags", "echo-message")
    one, two = connect(server), connect(server)
    one.register("q_one", *tags, join="#q")
    two.register("q_two", "message-tags", join="#q")
    one.until("JOIN")
    one.send("@+typing=active TAGMSG #q")
    echo = one.expect("TAGMSG")
    relay = two.expect("TAGMSG")
    assert relay.tags["+typing"] == "active"
    assert relay.tags["msgid"] == echo.tags["msgid"]
    one.send("PRIVMSG q_two :\x01ACTION waves\x01")
    one.expect("PRIVMSG")
    assert two.expect("PRIVMSG").params == ("q_two", "\x01ACTION waves\x01")
    two.send("NAMES")
    names = two.until("366")
    assert ("=", "#q", "@q_one q_two") in [
        m.params[1:] for m in names if m.command == "353"
    ]
    assert names[-1].params[1] == "*"
    two.send("WHO q_o*")
    who = two.until("315")
    assert [(m.params[1], m.params[5]) for m in who[:-1]] == [("*", "q_one")]
    two.send("LIST #q*")
    assert [m.params[1] for m in two.until("323") if m.command == "322"] == ["#q"]
    two.send("CHATHISTORY LATEST #elsewhere * 10")
    fail = two.expect("FAIL")
    assert fail.params[:4] == ("CHATHISTORY", "INVALID_TARGET", "LATEST", "#elsewhere")
    two.send("TOPIC #elsewhere")
    assert two.expect("403")
    one.send("QUIT :see you")
    quit = two.expect("QUIT")
    assert quit.prefix == "q_one!~q_one@irc" and quit.params == ("Quit: see you",)
