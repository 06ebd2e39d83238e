"""
Real telnet (driven through tmux) and real nc against a real twistd.
"""

import subprocess
from collections.abc import Iterator

import pytest

from chatwire import lines
from tests.integration.support import Terminal, run


@pytest.fixture
def telnet(server) -> Iterator[Terminal]:
    terminal = Terminal(f"telnet 127.0.0.1 {server.port}")
    yield terminal
    terminal.close()


def test_telnet_user_logs_in_chats_and_quits(server, telnet):
    telnet.wait_for(">>> name: What's your name?")
    alice = server.login("alice")
    telnet.type("tel")
    telnet.wait_for("=== Users online (2): alice, tel")
    assert alice.expect(lines.Joined) == lines.Joined("tel")
    alice.send("hello telnet")
    telnet.wait_for("<alice> hello telnet")
    telnet.type("hello alice, héllo")
    assert alice.event() == lines.Message("tel", "hello alice, héllo")
    telnet.type("/me waves")
    assert alice.event() == lines.Action("tel", "waves")
    telnet.type("/quit bye")
    telnet.wait_for("Connection closed by foreign host")
    assert alice.event() == lines.Left("tel", "Quit: bye")


def test_telnet_ctrl_c_sends_no_text(server, telnet):
    telnet.wait_for(">>> name:")
    alice = server.login("alice")
    telnet.type("tel")
    alice.expect(lines.Joined)
    # Telnet sends IAC IP for the interrupt character in line mode; it must
    # never reach the chat as text.
    subprocess.run(
        ["tmux", "-L", telnet.socket, "send-keys", "-t", "t", "C-c"],
        check=True,
        timeout=10,
    )
    telnet.type("after interrupt")
    assert alice.event() == lines.Message("tel", "after interrupt")


def test_nc_user_logs_in_sends_and_quits(server):
    alice = server.login("alice")
    result = run(
        ["nc", "127.0.0.1", str(server.port)],
        input="ncuser\nhello from nc\n/who\n/quit\n",
    )
    output = result.stdout.splitlines()
    assert "=== Welcome to chat, ncuser!" in output
    assert "=== Users online (2): alice, ncuser" in output
    assert output[-1] == "-!- Goodbye!"
    assert alice.expect(lines.Joined) == lines.Joined("ncuser")
    assert alice.event() == lines.Message("ncuser", "hello from nc")
    assert alice.event() == lines.Left("ncuser", "Quit")


def test_server_lines_end_in_crlf_for_nc(server):
    result = subprocess.run(
        ["nc", "127.0.0.1", str(server.port)],
        input=b"/quit\n",
        capture_output=True,
        timeout=15,
        check=False,
    )
    assert result.stdout == (
        b"-!- Welcome to chat. Type /help for help.\r\n"
        b">>> name: What's your name?\r\n"
        b"-!- Goodbye!\r\n"
    )
