"""
The IRC door without sockets: registration, commands, numerics, IRCv3, and
talking with line-door users.
"""

from chatserver.testing import ChatHarness
from tests.core.test_peers import FakePeers


def test_registration_sends_welcome_isupport_motd_and_no_room():
    server = ChatHarness(rate=0, motd="hello there")
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
        "PREFIX=(ov)@+",
        "CHANMODES=",
        "NETWORK=chat",
        "CHATHISTORY=",
    ):
        assert token in isupport
    assert [c for c in commands if c in ("375", "372", "376")] == ["375", "372", "376"]
    assert commands[-1] == "376" and "JOIN" not in commands
    client.send("JOIN #lobby")
    messages = client.messages()
    join = messages[0]
    assert join.prefix == "alice!~alice@irc" and join.params == ("#lobby",)
    names = next(m for m in messages if m.command == "353")
    assert names.params == ("alice", "=", "#lobby", "alice")
    assert [m.command for m in messages] == ["JOIN", "353", "366"]


def test_no_motd_is_422_and_cap_negotiation_holds_registration():
    server = ChatHarness(rate=0)
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
    server = ChatHarness(rate=0)
    client = server.irc()
    client.send("JOIN #dev", "FOO", "NICK", "NICK b@d", "USER x")
    assert client.commands() == ["451", "421", "431", "432", "461"]
    client.send("NICK carol", "USER carol 0 * :C")
    client.raw()
    client.send("USER a b c :d", "PASS x", "PART #nowhere", "PRIVMSG nobody :hi")
    client.send("PRIVMSG", "PRIVMSG #lobby", "TOPIC #nowhere", "FROB")
    assert client.commands() == ["462", "462", "403", "401", "411", "412", "403", "421"]
    server.login("zed")
    client.send("USER x 0 * :", "PING", "PRIVMSG #lobby :hi", "TOPIC #lobby")
    assert client.commands() == ["462", "409", "404", "442"]
    client.send("PART #lobby :bye", "JOIN #a,#b", "JOIN 0")
    got = [(m.command, m.params) for m in client.messages()]
    assert got[0] == ("442", ("carol", "#lobby", "You're not on that channel"))
    assert [p for c, p in got if c in ("JOIN", "PART")] == [
        ("#a",),
        ("#b",),
        ("#a",),
        ("#b",),
    ]


def test_an_empty_real_name_is_461():
    client = ChatHarness(rate=0).irc()
    client.send("NICK foo", "USER foo * * :")
    (msg,) = client.messages()
    assert (msg.command, msg.params[:2]) == ("461", ("foo", "USER"))


def test_a_taken_nick_is_433_and_another_can_be_chosen():
    server = ChatHarness(rate=0)
    server.login("dave")
    client = server.irc()
    client.send("NICK Dave", "USER d 0 * :D")
    assert client.commands() == ["433"]
    client.send("NICK dave2")
    assert "001" in client.commands()


def test_irc_and_line_users_talk_both_ways():
    server = ChatHarness(rate=0)
    line = server.login("bob")
    irc = server.ircLogin("alice")
    assert line.received() == []
    irc.send("JOIN #lobby")
    irc.raw()
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
    irc.send("PRIVMSG bob :\x01ACTION winks\x01")
    assert line.received() == ["*alice* * alice winks"]
    other = server.ircLogin("carol")
    irc.send("PRIVMSG carol :\x01ACTION nods\x01")
    (msg,) = other.messages()
    assert msg.params == ("carol", "\x01ACTION nods\x01")


def test_join_part_topic_nick_quit_reach_irc():
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice", join="#lobby")
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
    assert quit.prefix == "robert!robert@line"
    other = server.ircLogin("carol", join="#lobby")
    irc.messages()
    other.send("QUIT :bye now")
    other.lose()
    (quit,) = irc.messages()
    assert (quit.prefix, quit.params) == ("carol!~carol@irc", ("Quit: bye now",))


def test_echo_message_server_time_and_msgid():
    server = ChatHarness(rate=0)
    irc = server.ircLogin(
        "alice", "echo-message", "server-time", "message-tags", join="#lobby"
    )
    irc.send("PRIVMSG #lobby :hi")
    (echo,) = irc.messages()
    assert echo.command == "PRIVMSG" and "time" in echo.tags and "msgid" in echo.tags


def test_names_of_several_channels_ends_with_one_366_naming_them_all():
    server = ChatHarness(rate=0)
    irc = server.ircLogin("alice", join="#one")
    irc.send("JOIN #two")
    irc.messages()
    irc.send("NAMES #one,#nowhere,#two")
    replies = [(m.command, m.params[1:3]) for m in irc.messages()]
    assert replies == [
        ("353", ("=", "#one")),
        ("353", ("=", "#two")),
        ("366", ("#one,#nowhere,#two", "End of /NAMES list.")),
    ]


def test_who_whois_mode_away_names_list():
    server = ChatHarness(rate=0)
    server.login("bob")
    irc = server.ircLogin("alice", join="#lobby")
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
    irc.send("JOIN #dev", "NAMES")
    got = [(m.command, m.params[1:3]) for m in irc.messages()[3:]]
    assert got == [
        ("353", ("=", "#dev")),
        ("353", ("=", "#lobby")),
        ("366", ("*", "End of /NAMES list.")),
    ]
    irc.send("LIST >1", "LIST #dev,#nowhere")
    listed = [m.params[1] for m in irc.messages() if m.command == "322"]
    assert listed == ["#lobby", "#dev"]
    irc.send("LIST *EV", "LIST !#l*", "LIST #lob*,<2", "LIST *x*")
    listed = [m.params[1] for m in irc.messages() if m.command in ("322", "323")]
    assert (
        listed
        == ["#dev", "End of /LIST", "#dev", "End of /LIST"] + ["End of /LIST"] * 2
    )
    irc.send("WHO b*", "WHO *@line", "WHO * o")
    whos = [(m.command, m.params[5]) for m in irc.messages() if m.command == "352"]
    assert whos == [("352", "bob"), ("352", "bob")]


def test_ping_pong_and_ping_timeout():
    server = ChatHarness(rate=0)
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
    server = ChatHarness(rate=0)
    line = server.login("bob")
    irc = server.ircLogin("alice", join="#lobby")
    line.received()
    data = "PRIVMSG #lobby :héllo 日本\r\n".encode()
    for i in range(len(data)):
        irc.protocol.dataReceived(data[i : i + 1])
    assert line.received() == ["<alice> héllo 日本"]
    irc.send("PRIVMSG #lobby :" + "x" * 600)
    assert irc.commands() == ["417"]
    irc.send("@" + "a=" + "b" * 4092 + " PRIVMSG #lobby :tagged")
    assert line.received() == ["<alice> tagged"]
    irc.send("@" + "+a=" + "b" * 4092 + " PRIVMSG #lobby :too many tags")
    assert irc.commands() == ["417"] and line.received() == []
    irc.protocol.dataReceived(b"PRIVMSG #lobby :\xff\xfe\r\n")
    assert irc.commands() == ["FAIL"]
    irc.protocol.dataReceived(b"PRIVMSG #lobby :bare lf\nPRIVMSG #lobby :cr\r")
    assert line.received() == ["<alice> bare lf", "<alice> cr"]


def test_flood_is_delayed_not_dropped():
    server = ChatHarness(rate=1, burst=2)
    line = server.login("bob")
    irc = server.ircLogin("alice", join="#lobby")
    server.clock.advance(5)
    line.received()
    irc.protocol.dataReceived(b"".join(b"PRIVMSG #lobby :%d\r\n" % n for n in range(5)))
    first = line.received()
    assert len(first) < 5
    for _ in range(10):
        server.clock.advance(1)
    assert first + line.received() == [f"<alice> {n}" for n in range(5)]


def test_replay_on_join_as_notices_or_with_server_time_in_a_batch():
    server = ChatHarness(rate=0)
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
    server = ChatHarness(rate=0)
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
    irc.send("CHATHISTORY LATEST #dev bogus 10", "CHATHISTORY FROB #dev", "CHATHISTORY")
    irc.send("CHATHISTORY BEFORE #dev", "CHATHISTORY LATEST #dev * x")
    assert [m.params[:3] for m in irc.messages()] == [
        ("CHATHISTORY", "INVALID_PARAMS", "LATEST"),
        ("CHATHISTORY", "UNKNOWN_COMMAND", "FROB"),
        ("CHATHISTORY", "NEED_MORE_PARAMS", "*"),
        ("CHATHISTORY", "NEED_MORE_PARAMS", "BEFORE"),
        ("CHATHISTORY", "INVALID_PARAMS", "LATEST"),
    ]


def test_sasl_plain_and_pass_with_accounts():
    from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret", bob=b"pw")
    server = ChatHarness([checker], rate=0)
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
    assert other.commands() == ["464", "ERROR"]
    assert other.transport.disconnecting
    again = server.irc()
    again.send("PASS pw", "NICK bob", "USER b 0 * :B")
    assert "001" in again.commands()
    again.send("WHOIS alice")
    account = next(m for m in again.messages() if m.command == "330")
    assert account.params == ("bob", "alice", "alice", "is logged in as")


def test_sasl_chunks_abort_and_errors():
    from base64 import b64encode

    from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

    secret = b"s" * 300
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=secret)
    server = ChatHarness([checker], rate=0)
    client = server.irc()
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK alice", "USER a 0 * :A")
    client.raw()
    client.send("AUTHENTICATE FOO")
    assert client.commands() == ["908", "904"]
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE *")
    assert client.commands() == ["AUTHENTICATE", "906"]
    client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + "A" * 401)
    assert client.commands() == ["AUTHENTICATE", "905"]
    data = b64encode(b"\0alice\0" + secret).decode()
    assert len(data) > 400
    client.send("AUTHENTICATE PLAIN")
    client.raw()
    client.send("AUTHENTICATE " + data[:400])
    assert client.raw() == []
    client.send("AUTHENTICATE " + data[400:])
    assert client.commands() == ["900", "903"]
    client.send("AUTHENTICATE PLAIN")
    assert client.commands() == ["907"]
    client.send("CAP END")
    assert "001" in client.commands()


def test_tagmsg_reaches_irc_users_with_message_tags_and_is_echoed():
    server = ChatHarness(rate=0)
    line = server.login("bob")
    line.send("/join #dev")
    alice = server.ircLogin("alice", "message-tags", "echo-message", join="#dev")
    carol = server.ircLogin("carol", "message-tags", join="#dev")
    plain = server.ircLogin("dave", join="#dev")
    for client in (alice, carol, plain):
        client.raw()
    line.received()
    alice.send("@+typing=active;other=x TAGMSG #dev")
    (echo,) = alice.messages()
    msgid = echo.tags["msgid"]
    assert echo.command == "TAGMSG" and echo.tags == {
        "+typing": "active",
        "msgid": msgid,
    }
    (got,) = carol.messages()
    assert (got.prefix, got.params) == ("alice!~alice@irc", ("#dev",))
    assert got.tags == {"+typing": "active", "msgid": msgid}
    alice.send("@+a=" + "b" * 4091 + " TAGMSG #dev")
    assert alice.commands() == ["TAGMSG"] and carol.commands() == ["TAGMSG"]
    alice.send("@+a=" + "b" * 4092 + " TAGMSG #dev")
    assert alice.commands() == ["417"] and carol.raw() == []
    assert plain.raw() == [] and line.received() == []
    alice.send("@+typing=paused TAGMSG carol", "TAGMSG #nowhere")
    assert alice.commands() == ["TAGMSG", "403"]
    assert carol.messages()[0].params == ("carol",)


def test_whois_idle_is_the_time_since_the_last_message():
    server = ChatHarness(rate=0)
    alice = server.ircLogin("alice", join="#dev")
    bob = server.ircLogin("bob")
    server.clock.advance(30)
    alice.send("PRIVMSG #dev :hi")
    server.clock.advance(12)
    bob.send("WHOIS alice")
    idle = next(m for m in bob.messages() if m.command == "317")
    assert idle.params[1:3] == ("alice", "12")


def test_chathistory_timestamps_to_the_millisecond_and_invalid_targets():
    server = ChatHarness(rate=0)
    caps = ("server-time", "batch", "message-tags", "draft/chathistory")
    irc = server.ircLogin("alice", *caps, "echo-message", join="#dev")
    times = []
    for n in range(6):
        server.clock.advance(0.0204567)
        irc.send(f"PRIVMSG #dev :m{n}")
        times.append(irc.messages()[0].tags["time"])

    def history(line: str) -> list[str]:
        irc.send(line)
        got = irc.messages()
        assert got[0].params[1:] == ("chathistory", "#dev"), got
        return [m.params[1] for m in got[1:-1]]

    assert history(f"CHATHISTORY LATEST #dev timestamp={times[3]} 10") == ["m4", "m5"]
    assert history(f"CHATHISTORY BEFORE #dev timestamp={times[3]} 2") == ["m1", "m2"]
    assert history(f"CHATHISTORY AFTER #dev timestamp={times[3]} 10") == ["m4", "m5"]
    assert history(
        f"CHATHISTORY BETWEEN #dev timestamp={times[5]} timestamp={times[0]} 2"
    ) == ["m3", "m4"]
    assert "m2" in history(f"CHATHISTORY AROUND #dev timestamp={times[2]} 3")
    other = server.ircLogin("bob", *caps, join="#other")
    for target in ("#dev", "#nowhere"):
        other.send(f"CHATHISTORY LATEST {target} * 10")
        (fail,) = other.messages()
        assert fail.command == "FAIL"
        assert fail.params[:4] == ("CHATHISTORY", "INVALID_TARGET", "LATEST", target)


def test_client_only_tags_on_messages_reach_message_tags_clients():
    server = ChatHarness(rate=0)
    line = server.login("line")
    line.send("/join #t")
    alice = server.ircLogin("alice", "message-tags", "echo-message", join="#t")
    bob = server.ircLogin("bob", "message-tags", join="#t")
    carol = server.ircLogin("carol", "server-time", join="#t")
    for client in (alice, bob, carol):
        client.raw()
    line.received()
    alice.send("@+draft/reply=42;fizz=buzz PRIVMSG #t :hi")
    (echo,) = alice.messages()
    (relay,) = bob.messages()
    for msg in (echo, relay):
        assert msg.tags["+draft/reply"] == "42" and "fizz" not in msg.tags
    assert echo.tags["msgid"] == relay.tags["msgid"]
    (plain,) = carol.messages()
    assert "+draft/reply" not in plain.tags and "time" in plain.tags
    assert line.received() == ["#t <alice> hi"]
    alice.send("@+draft/reply=43 PRIVMSG bob :psst", "@+x=1 PRIVMSG carol :psst")
    assert alice.messages()[0].tags["+draft/reply"] == "43"
    assert bob.messages()[0].tags["+draft/reply"] == "43"
    assert "+x" not in carol.messages()[0].tags


def test_commands_after_registration_in_the_same_read_come_after_the_welcome():
    server = ChatHarness(rate=0)
    client = server.irc()
    client.protocol.dataReceived(
        b"CAP LS 302\r\nNICK ircy\r\nUSER ircy 0 * :Y\r\nCAP END\r\nJOIN #dev\r\n"
    )
    messages = client.messages()
    commands = [m.command for m in messages]
    assert commands.index("001") < commands.index("JOIN")
    # No #lobby: an IRC user joins its channels itself.
    assert [m.params[0] for m in messages if m.command == "JOIN"] == ["#dev"]


def test_in_a_cluster_a_connection_lost_while_its_nick_is_claimed_logs_nobody_in():
    server = ChatHarness()
    peers = FakePeers()
    server.realm.peers = peers
    client = server.irc()
    client.send("NICK alice", "USER alice 0 * :Alice", "NICK bob")
    assert list(peers.claims) == ["alice"]
    client.lose()
    peers.claims["alice"].callback(True)
    assert list(server.realm.users()) == []
    assert peers.take() == [("release", "alice")]
