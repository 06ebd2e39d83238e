"""
The name handshake, joins and leaves.
"""

from twisted.internet import error

from chatserver.testing import ChatHarness
from chatwire import lines
from tests.core.test_peers import FakePeers


def test_greeting_asks_for_a_name_in_complete_lines():
    client = ChatHarness(serverName="Den").connect()
    assert client.received() == [
        "-!- Welcome to Den. Type /help for help.",
        ">>> name: What's your name?",
    ]


def test_login_welcomes_shows_motd_and_who_is_online():
    server = ChatHarness(motd="Be kind.")
    server.login("alice")
    bob = server.connect()
    bob.received()
    bob.send("bob")
    assert bob.received() == [
        "=== Welcome to chat, bob!",
        "-!- Be kind.",
        "=== Users online (2): alice, bob",
    ]


def test_no_motd_line_when_none_is_set():
    server = ChatHarness()
    client = server.connect()
    client.received()
    client.send("alice")
    assert client.events() == [
        lines.Welcome("chat", "alice"),
        lines.UserList(("alice",)),
    ]


def test_others_get_a_join_notice():
    server = ChatHarness()
    alice = server.login("alice")
    server.login("bob")
    assert alice.events() == [lines.Joined("bob")]


def test_invalid_name_gets_one_error_line_and_may_try_again():
    server = ChatHarness()
    client = server.connect()
    client.received()
    client.send("bad name")
    assert client.events() == [
        lines.Error(
            "invalid name: a space is not allowed in a name "
            "(use letters, digits, '_', '-' and '.')"
        )
    ]
    assert not client.closing
    client.send("good_name")
    assert client.events()[0] == lines.Welcome("chat", "good_name")


def test_name_taken_in_another_case_is_refused_and_may_try_again():
    server = ChatHarness()
    server.login("alice")
    client = server.connect()
    client.received()
    client.send("ALICE")
    assert client.events() == [lines.Error("the name ALICE is taken, choose another")]
    client.send("alice2")
    assert client.events()[0] == lines.Welcome("chat", "alice2")


def test_name_starting_with_slash_is_treated_as_a_command():
    client = ChatHarness().connect()
    client.received()
    client.send("/who")
    assert client.events() == [lines.Error("choose a name first (or /quit)")]


def test_quit_before_login_closes():
    client = ChatHarness().connect()
    client.received()
    client.send("/quit")
    assert client.events() == [lines.Info("Goodbye!")]
    assert client.closing


def test_users_still_choosing_a_name_get_nothing():
    server = ChatHarness()
    alice = server.login("alice")
    waiting = server.connect()
    waiting.received()
    alice.send("hello")
    server.login("bob")
    assert waiting.received() == []


def test_clean_close_sends_a_leave_notice_and_frees_the_name():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    bob.lose()
    assert alice.events() == [lines.Left("bob", "Connection closed")]
    server.login("bob")


def test_reset_connection_sends_a_leave_notice():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    bob.lose(error.ConnectionLost())
    assert alice.events() == [lines.Left("bob", "Connection reset by peer")]


def test_quit_with_reason_says_goodbye_and_tells_the_others():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    bob.send("/quit off to lunch")
    assert bob.events() == [lines.Info("Goodbye!")]
    assert bob.closing
    bob.lose()
    assert alice.events() == [lines.Left("bob", "Quit: off to lunch")]


def test_lines_after_quit_in_the_same_read_are_not_processed():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    bob.send(b"/quit\r\nsneaky\r\n")
    assert alice.received() == []


def test_login_timeout_closes_with_a_line():
    server = ChatHarness(loginTimeout=30)
    client = server.connect()
    client.received()
    server.clock.advance(29)
    assert not client.closing
    server.clock.advance(1)
    assert client.events() == [
        lines.Error("no name chosen within 30 seconds, disconnecting")
    ]
    assert client.closing


def test_logged_in_users_are_not_timed_out_by_the_login_timeout():
    server = ChatHarness(loginTimeout=30)
    alice = server.login("alice")
    server.clock.advance(300)
    assert not alice.closing


def test_idle_timeout_disconnects_with_a_leave_notice():
    server = ChatHarness(idleTimeout=60)
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    server.clock.advance(50)
    alice.send("still here")
    server.clock.advance(50)
    assert not alice.closing
    assert bob.closing
    assert bob.events()[-1] == lines.Error("idle for 60 seconds, disconnecting")
    bob.lose()
    assert alice.events()[-1] == lines.Left("bob", "Idle timeout")


def test_a_connection_that_does_not_close_is_aborted_after_the_grace_period():
    server = ChatHarness(closeGrace=5)
    bob = server.login("bob")
    bob.send("/quit")
    assert not bob.transport.disconnected
    server.clock.advance(5)
    assert bob.transport.disconnected


def test_a_kicked_user_is_told_why_and_the_others_get_the_leave_notice():
    server = ChatHarness()
    alice = server.login("alice")
    bob = server.login("bob")
    alice.received()
    server.realm.kick("bob", "flooding")
    assert bob.events() == [lines.Info("You were disconnected by the server: flooding")]
    assert bob.closing
    bob.lose()
    assert alice.events() == [lines.Left("bob", "Kicked: flooding")]


def in_a_cluster() -> tuple[ChatHarness, FakePeers]:
    """
    A server whose names are claimed by peers of the test's own.
    """
    server = ChatHarness()
    peers = FakePeers()
    server.realm.peers = peers
    return server, peers


def test_a_name_read_while_another_is_claimed_is_the_user_s_first_line():
    server, peers = in_a_cluster()
    client = server.connect()
    client.received()
    client.send(b"alice\nbob\n")
    assert list(peers.claims) == ["alice"]
    peers.claims["alice"].callback(True)
    assert [user.name for user in server.realm.users()] == ["alice"]
    assert ("publish", "#lobby", "message", "alice", "bob") in peers.take()


def test_a_connection_lost_while_its_name_is_claimed_logs_nobody_in():
    server, peers = in_a_cluster()
    client = server.connect()
    client.received()
    client.send("alice")
    client.lose()
    peers.claims["alice"].callback(True)
    assert list(server.realm.users()) == []
    assert peers.take() == [("release", "alice")]
