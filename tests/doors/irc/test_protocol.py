"""
The IRC door without sockets: registration, commands, numerics, IRCv3, and
talking with line-door users.
"""

from tests.doors.irc.support import IrcServer


def test_registration_sends_welcome_isupport_motd_and_the_lobby():
    server = IrcServer(rate=0, motd="hello there")
    client = server.irc()
    client.send("NICK alice", "USER alice 0 * :Alice A")
    messages = client.messages()
    commands = [m.command for m in messages]
    assert commands[:4] == ["001", "002", "003", "004"]
    isupport = " ".join(" ".join(m.params) for m in messages if m.command == "005")
    for token in (
        "CASEMAPPING=",
        "CHANTYPES=#",
        "CHANNELLEN=",
        "NICKLEN=32",
        "PREFIX=",
        "CHANMODES=",
        "NETWORK=chat",
        "CHATHISTORY=",
    ):
        assert token in isupport
    assert [c for c in commands if c in ("375", "372", "376")] == ["375", "372", "376"]
    join = next(m for m in messages if m.command == "JOIN")
    assert join.prefix == "alice!~alice@irc" and join.params == ("#lobby",)
    names = next(m for m in messages if m.command == "353")
    assert names.params == ("alice", "=", "#lobby", "alice")
    assert commands.index("JOIN") < commands.index("353") < commands.index("366")


def test_no_motd_is_422_and_cap_negotiation_holds_registration():
    server = IrcServer(rate=0)
    client = server.irc()
    client.send("CAP LS 302", "NICK bob", "USER bob 0 * :Bob")
    (ls,) = client.messages()
    assert ls.command == "CAP" and ls.params[:2] == ("*", "LS")
    assert "server-time" in ls.params[2] and "draft/chathistory" in ls.params[2]
    client.send("CAP REQ :server-time echo-message")
    (ack,) = client.messages()
    assert ack.params == ("bob", "ACK", "server-time echo-message")
    client.send("CAP REQ :bogus")
    assert client.messages()[0].params[1] == "NAK"
    client.send("CAP END")
    commands = client.commands()
    assert "001" in commands and "422" in commands


def test_errors_before_and_after_registration():
    server = IrcServer(rate=0)
    client = server.irc()
    client.send("JOIN #dev", "FOO", "NICK", "NICK b@d", "USER x")
    assert client.commands() == ["451", "421", "431", "432", "461"]
    client.send("NICK carol", "USER carol 0 * :C")
    client.raw()
    client.send("USER a b c :d", "PASS x", "PART #nowhere", "PRIVMSG nobody :hi")
    client.send("PRIVMSG", "PRIVMSG #lobby", "TOPIC #nowhere", "FROB")
    assert client.commands() == ["462", "462", "403", "401", "411", "412", "403", "421"]


def test_a_taken_nick_is_433_and_another_can_be_chosen():
    server = IrcServer(rate=0)
    server.login("dave")
    client = server.irc()
    client.send("NICK Dave", "USER d 0 * :D")
    assert client.commands() == ["433"]
    client.send("NICK dave2")
    assert "001" in client.commands()


def test_irc_and_line_users_talk_both_ways():
    server = IrcServer(rate=0)
    line = server.login("bob")
    irc = server.ircLogin("alice")
    assert line.received() == ["--> alice has joined"]
    irc.send("PRIVMSG #lobby :hello bob")
    assert line.received() == ["<alice> hello bob"]
    line.send("hi alice")
    (msg,) = irc.messages()
    assert (msg.prefix, msg.command, msg.params) == (
        "bob!bob@line",
        "PRIVMSG",
        ("#lobby", "hi alice"),
    )
    line.send("/me waves")
    assert irc.messages()[0].params == ("#lobby", "\x01ACTION waves\x01")
    irc.send("PRIVMSG #lobby :\x01ACTION smiles\x01")
    assert line.received() == ["* alice smiles"]
    line.send("/msg alice psst")
    assert irc.messages()[0].params == ("alice", "psst")
    line.received()
    irc.send("PRIVMSG bob :\x02secret\x02")
    assert line.received() == ["*alice* secret"]


def test_join_part_topic_nick_quit_reach_irc():
    server = IrcServer(rate=0)
    irc = server.ircLogin("alice")
    irc.send("JOIN #dev")
    commands = irc.commands()
    assert commands == ["JOIN", "353", "366"]
    line = server.login("bob")
    assert irc.messages()[0].command == "JOIN"
    line.send("/join #dev")
    line.send("/topic release on friday")
    line.send("/nick robert")
    line.send("/part #dev")
    got = [(m.command, m.params) for m in irc.messages()]
    assert ("TOPIC", ("#dev", "release on friday")) in got
    assert ("NICK", ("robert",)) in got
    assert ("PART", ("#dev",)) in got
    irc.send("TOPIC #dev")
    assert irc.commands() == ["332", "333"]
    line.send("/quit lunch")
    line.lose()
    (quit,) = irc.messages()
    assert quit.command == "QUIT" and quit.params == ("Quit: lunch",)


def test_echo_message_server_time_and_msgid():
    server = IrcServer(rate=0)
    irc = server.ircLogin("alice", "echo-message", "server-time", "message-tags")
    irc.send("PRIVMSG #lobby :hi")
    (echo,) = irc.messages()
    assert echo.command == "PRIVMSG" and "time" in echo.tags and "msgid" in echo.tags


def test_who_whois_mode_away_names_list():
    server = IrcServer(rate=0)
    server.login("bob")
    irc = server.ircLogin("alice")
    irc.send("WHO #lobby")
    replies = irc.messages()
    assert [m.command for m in replies] == ["352", "352", "315"]
    hosts = {m.params[5]: m.params[3] for m in replies[:2]}
    assert hosts == {"alice": "irc", "bob": "line"}
    irc.send("MODE #lobby", "MODE alice", "MODE #lobby b", "MODE bob")
    assert irc.commands() == ["324", "329", "221", "368", "502"]
    irc.send("WHOIS bob", "WHOIS nobody")
    assert irc.commands() == ["311", "319", "312", "317", "318", "401", "318"]
    irc.send("AWAY :gone", "AWAY")
    assert irc.commands() == ["306", "305"]
    irc.send("NAMES #lobby", "LIST")
    assert irc.commands() == ["353", "366", "321", "322", "323"]


def test_ping_pong_and_ping_timeout():
    server = IrcServer(rate=0)
    irc = server.ircLogin("alice")
    irc.send("PING :tok en")
    (pong,) = irc.messages()
    assert pong.command == "PONG" and pong.params[-1] == "tok en"
    irc.send("PING")
    assert irc.commands() == ["409"]
    server.clock.advance(90)
    assert irc.commands() == ["PING"]
    irc.send("PONG :chat")
    server.clock.advance(89)
    assert irc.raw() == []
    server.clock.advance(1)
    assert irc.commands() == ["PING"]
    server.clock.advance(60)
    assert irc.commands() == ["ERROR"]
    assert irc.transport.disconnecting


def test_lines_are_framed_per_line_with_limits_and_utf8_split_across_reads():
    server = IrcServer(rate=0)
    line = server.login("bob")
    irc = server.ircLogin("alice")
    line.received()
    data = "PRIVMSG #lobby :héllo 日本\r\n".encode()
    for i in range(len(data)):
        irc.protocol.dataReceived(data[i : i + 1])
    assert line.received() == ["<alice> héllo 日本"]
    irc.send("PRIVMSG #lobby :" + "x" * 600)
    assert irc.commands() == ["417"]
    irc.send("@" + "a=" + "b" * 8000 + " PRIVMSG #lobby :tagged")
    assert line.received() == ["<alice> tagged"]
    irc.protocol.dataReceived(b"PRIVMSG #lobby :\xff\xfe\r\n")
    assert irc.commands() == ["FAIL"]
    irc.protocol.dataReceived(b"PRIVMSG #lobby :bare lf\nPRIVMSG #lobby :cr\r")
    assert line.received() == ["<alice> bare lf", "<alice> cr"]


def test_flood_is_delayed_not_dropped():
    server = IrcServer(rate=1, burst=2)
    line = server.login("bob")
    irc = server.ircLogin("alice")
    line.received()
    irc.protocol.dataReceived(b"".join(b"PRIVMSG #lobby :%d\r\n" % n for n in range(5)))
    first = line.received()
    assert len(first) < 5
    for _ in range(10):
        server.clock.advance(1)
    assert first + line.received() == [f"<alice> {n}" for n in range(5)]


def test_replay_on_join_as_notices_or_with_server_time_in_a_batch():
    server = IrcServer(rate=0)
    line = server.login("bob")
    line.send("/join #dev")
    line.send("one")
    plain = server.ircLogin("alice")
    plain.send("JOIN #dev")
    notices = [m for m in plain.messages() if m.command == "NOTICE"]
    assert notices and notices[0].params[1].endswith("<bob> one")
    timed = server.ircLogin("carol", "server-time", "batch", "message-tags")
    timed.send("JOIN #dev")
    got = timed.messages()
    assert [m.command for m in got][-3:] == ["BATCH", "PRIVMSG", "BATCH"]
    assert "time" in got[-2].tags and got[-2].tags["batch"]


def test_chathistory_latest_before_after_between_around():
    server = IrcServer(rate=0)
    irc = server.ircLogin(
        "alice",
        "server-time",
        "batch",
        "message-tags",
        "draft/chathistory",
        "echo-message",
    )
    irc.send("JOIN #dev")
    irc.raw()
    ids = []
    for n in range(6):
        irc.send(f"PRIVMSG #dev :m{n}")
        ids.append(irc.messages()[0].tags["msgid"])

    def history(line: str) -> list[str]:
        irc.send(line)
        got = irc.messages()
        assert got[0].command == "BATCH" and got[-1].command == "BATCH", got
        return [m.params[1] for m in got[1:-1]]

    assert history("CHATHISTORY LATEST #dev * 2") == ["m4", "m5"]
    assert history(f"CHATHISTORY BEFORE #dev msgid={ids[3]} 2") == ["m1", "m2"]
    assert history(f"CHATHISTORY AFTER #dev msgid={ids[3]} 10") == ["m4", "m5"]
    assert history(f"CHATHISTORY BETWEEN #dev msgid={ids[0]} msgid={ids[4]} 10") == [
        "m1",
        "m2",
        "m3",
    ]
    assert history(f"CHATHISTORY AROUND #dev msgid={ids[2]} 3") == ["m1", "m2", "m3"]
    assert history(f"CHATHISTORY LATEST #dev msgid={ids[4]} 10") == ["m5"]
    irc.send("CHATHISTORY LATEST #dev bogus 10")
    assert irc.commands() == ["FAIL"]


def test_sasl_plain_and_pass_with_accounts():
    from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret", bob=b"pw")
    server = IrcServer([checker], rate=0)
    client = server.irc()
    client.send("CAP LS 302")
    assert "sasl=PLAIN" in client.messages()[0].params[-1]
    client.send("CAP REQ :sasl", "NICK alice", "USER a 0 * :A", "AUTHENTICATE PLAIN")
    assert client.messages()[-1].params == ("+",)
    client.send("AUTHENTICATE AGFsaWNlAHNlY3JldA==")  # \0alice\0secret
    assert client.commands() == ["900", "903"]
    client.send("CAP END")
    assert "001" in client.commands()
    other = server.irc()
    other.send("PASS wrong", "NICK bob", "USER b 0 * :B")
    server.clock.advance(1)
    assert other.commands() == ["464"]
    other.send("PASS pw", "NICK bob")
    assert "001" in other.commands()


def test_commands_after_registration_in_the_same_read_come_after_the_welcome():
    server = IrcServer(rate=0)
    client = server.irc()
    client.protocol.dataReceived(
        b"CAP LS 302\r\nNICK ircy\r\nUSER ircy 0 * :Y\r\nCAP END\r\nJOIN #dev\r\n"
    )
    messages = client.messages()
    commands = [m.command for m in messages]
    assert commands.index("001") < commands.index("JOIN")
    assert [m.params[0] for m in messages if m.command == "JOIN"] == ["#lobby", "#dev"]
