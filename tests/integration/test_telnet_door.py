"""
Debian's telnet (driven through tmux, in a UTF-8 locale) on a C{--telnet}
listener of a real twistd, with raw-socket users on its C{--port}.
"""

from collections.abc import Callable

from chatwire import lines
from tests.integration.support import ChatServer, Terminal

TELNET = "tcp:0:interface=127.0.0.1"


def telnet_to(server: ChatServer) -> Terminal:
    (port,) = server.telnetPorts
    return Terminal(f"telnet 127.0.0.1 {port}", utf8=True)


def test_non_ascii_typed_in_telnet_reaches_a_raw_user_whole(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server("--rate", "0", "--telnet", TELNET)
    alice = server.login("alice")
    telnet = telnet_to(server)
    try:
        telnet.wait_for(">>> name: What's your name?")
        telnet.type("tel")
        screen = telnet.wait_for("=== Users online (2): alice, tel")
        # Server lines after a typed one start at the left margin (no
        # WILL BINARY, which makes Debian's telnet echo Enter as a bare LF).
        assert "\ntel\n=== Welcome to chat, tel!\n" in screen
        assert alice.expect(lines.Joined) == lines.Joined("tel")
        telnet.type("Å")
        assert alice.event() == lines.Message("tel", "Å")
        telnet.type("héllo Å 日本")
        assert alice.event() == lines.Message("tel", "héllo Å 日本")
        alice.send("réponse Å 日本")
        telnet.wait_for("<alice> réponse Å 日本")
        telnet.type("/quit")
        assert alice.event() == lines.Left("tel", "Quit")
    finally:
        telnet.close()


def test_the_password_typed_in_telnet_is_not_echoed(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server(
        "--rate", "0", "--telnet", TELNET, "--auth", "memory:alice:secret"
    )
    telnet = telnet_to(server)
    try:
        telnet.wait_for(">>> name: What's your name?")
        telnet.type("alice")
        telnet.wait_for(">>> password: Password for alice?")
        telnet.type("secret")
        screen = telnet.wait_for("=== Users online (1): alice")
        assert "alice" in screen.splitlines()  # the name was echoed
        assert "secret" not in screen
        # The echo is back after the password.
        telnet.type("now visible")
        telnet.wait_for("now visible")
    finally:
        telnet.close()
    server.wait_for_log("alice logged in from")


def test_a_telnet_user_joins_a_room_and_sees_its_history_and_marked_lines(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server("--rate", "0", "--telnet", TELNET)
    alice = server.login("alice")
    alice.send("/join #dev")
    alice.expect(lines.InRoom("#dev", lines.UserList(("alice",))))
    alice.send("/topic release on Friday")
    alice.send("the build is green")
    alice.expect(lines.InRoom("#dev", lines.TopicSet("alice", "release on Friday")))
    telnet = telnet_to(server)
    try:
        telnet.wait_for(">>> name: What's your name?")
        telnet.type("tel")
        telnet.wait_for("=== Users online (2): alice, tel")
        telnet.type("/join #dev")
        screen = telnet.wait_for("#dev === End of history (2 lines)")
        assert "#dev === Topic set by alice: release on Friday" in screen
        assert "] <alice> the build is green" in screen
        telnet.type("is it?")
        alice.expect(lines.InRoom("#dev", lines.Message("tel", "is it?")))
        alice.send("it is")
        telnet.wait_for("#dev <alice> it is")
        telnet.type("/rooms")
        telnet.wait_for("=== #dev (2 users): release on Friday")
    finally:
        telnet.close()
