"""
The chat as clients see it over real sockets, against a real twistd.
"""

from chatwire import lines


def test_login_broadcast_and_join_leave_notices(server):
    alice = server.login("alice")
    bob = server.login("bob")
    assert alice.expect(lines.Joined) == lines.Joined("bob")
    alice.send("hi bob")
    assert bob.event() == lines.Message("alice", "hi bob")
    bob.close()
    assert alice.event() == lines.Left("bob", "Connection closed")


def test_sender_gets_no_copy_of_its_line(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    alice.send("echo?")
    bob.expect(lines.Message)
    alice.send("/who")
    assert alice.event() == lines.UserList(("alice", "bob"))


def test_taken_name_then_another(server):
    alice = server.login("alice")
    client = server.connect()
    client.expect(lines.Prompt)
    client.send("Alice")
    assert client.event() == lines.Error("the name Alice is taken, choose another")
    client.send("alice2")
    assert client.event() == lines.Welcome("chat", "alice2")
    assert alice.expect(lines.Joined) == lines.Joined("alice2")


def test_msg_me_nick_who_help_and_quit(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    alice.send("/msg bob psst")
    assert bob.event() == lines.PrivateIn("alice", "psst")
    assert alice.event() == lines.PrivateOut("bob", "psst")
    alice.send("/me waves")
    assert bob.event() == lines.Action("alice", "waves")
    alice.send("/nick alicia")
    assert alice.event() == lines.Renamed("alice", "alicia")
    assert bob.event() == lines.Renamed("alice", "alicia")
    bob.send("/who")
    assert bob.event() == lines.UserList(("alicia", "bob"))
    bob.send("/help")
    assert isinstance(bob.event(), lines.Info)
    bob.send("/nope")
    assert bob.expect(lines.Error) == lines.Error("unknown command /nope, try /help")
    bob.send("/quit see you")
    assert bob.events_until_closed() == [lines.Info("Goodbye!")]
    assert alice.event() == lines.Left("bob", "Quit: see you")


def test_reset_connection_gives_a_leave_notice(server):
    alice = server.login("alice")
    bob = server.login("bob")
    alice.expect(lines.Joined)
    bob.sock.setsockopt(
        __import__("socket").SOL_SOCKET,
        __import__("socket").SO_LINGER,
        b"\x01\x00\x00\x00\x00\x00\x00\x00",
    )
    bob.close()  # SO_LINGER 0: the kernel sends RST
    assert alice.event() == lines.Left("bob", "Connection reset by peer")
    server.login("bob")


def test_motd_and_server_name(start_server):
    server = start_server("--motd", "Be kind.", "--server-name", "Den")
    client = server.connect()
    assert client.event() == lines.Info("Welcome to Den. Type /help for help.")
    client.expect(lines.Prompt)
    client.send("alice")
    assert client.event() == lines.Welcome("Den", "alice")
    assert client.event() == lines.Info("Be kind.")


def test_several_listeners_share_one_chat(start_server):
    server = start_server("--rate", "0", listeners=2)
    assert len(set(server.ports)) == 2
    alice = server.login("alice")
    bob = server.connect(server.ports[1])
    bob.expect(lines.Prompt)
    bob.send("bob")
    bob.expect(lines.Welcome)
    assert bob.event() == lines.UserList(("alice", "bob"))
    bob.send("hello from the other port")
    assert alice.expect(lines.Message) == lines.Message(
        "bob", "hello from the other port"
    )


def test_logs_record_connections_logins_renames_leaves_and_rejections(server):
    alice = server.login("alice")
    alice.send("a private thought")
    alice.send("/nick alicia")
    alice.expect(lines.Renamed)
    alice.send(b"\xe9\r\n")
    alice.expect(lines.Error)
    alice.send("/quit")
    alice.events_until_closed()
    server.wait_for_log(r"alicia left \(Quit\)")
    log = server.log()
    assert "Connection from 127.0.0.1:" in log
    assert "alice logged in from 127.0.0.1:" in log
    assert "alice is now known as alicia" in log
    assert "Rejected input from 127.0.0.1:" in log
    assert "a private thought" not in log


def test_log_messages_logs_message_bodies(start_server):
    server = start_server("--log-messages")
    alice = server.login("alice")
    alice.send("for the record")
    server.wait_for_log("<alice> for the record")
