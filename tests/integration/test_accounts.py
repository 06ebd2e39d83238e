"""
Accounts against a real twistd: C{--auth} through twisted.cred's strcred,
the hashed password file and C{chat-passwd}.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.auth.passwords import PasswordFile, verify_password
from chatwire import lines
from tests.integration.support import (
    BIN,
    TWISTD,
    ChatServer,
    Terminal,
    run,
    wait_for,
)

CHAT_PASSWD = str(BIN / "chat-passwd")


def log_in(server: ChatServer, name: str, password: str):
    client = server.connect()
    client.expect(lines.Prompt)
    client.send(name)
    assert client.event() == lines.Prompt("password", f"Password for {name}?")
    client.send(password)
    return client


def test_help_auth_lists_the_passwd_checker(tmp_path):
    result = run([TWISTD, "chat", "--help-auth"], cwd=tmp_path)
    assert "passwd" in result.stdout
    assert "memory" in result.stdout


def test_memory_accounts_log_in_with_their_password(start_server):
    server = start_server("--auth", "memory:alice:s3cret:bob:hunter2")
    alice = log_in(server, "alice", "s3cret")
    assert alice.event() == lines.Welcome("chat", "alice")


def test_wrong_password_gets_an_error_and_three_close_the_connection(start_server):
    server = start_server("--auth", "memory:alice:s3cret")
    client = log_in(server, "alice", "nope")
    assert client.event() == lines.Error("wrong name or password")
    for attempt in range(2):
        client.expect(lines.Prompt)
        client.send("alice")
        client.expect(lines.Prompt)
        client.send(f"nope{attempt}")
    assert client.events_until_closed()[-1] == lines.Error(
        "wrong name or password; too many failures, goodbye"
    )
    log = server.log()
    assert "nope" not in log and "s3cret" not in log
    assert "Failed login as alice" in log


def test_second_login_of_the_same_account_adds_a_session(start_server):
    server = start_server("--auth", "memory:alice:s3cret")
    alice = log_in(server, "alice", "s3cret")
    alice.expect(lines.Welcome)
    again = log_in(server, "alice", "s3cret")
    assert again.expect(lines.Welcome) == lines.Welcome("chat", "alice")


def test_chat_passwd_file_accounts_log_in(tmp_path, start_server):
    users = tmp_path / "users"
    for name, password in [("alice", "s3cret"), ("bob", "hunter2")]:
        result = subprocess.run(
            [CHAT_PASSWD, str(users), "add", name],
            input=f"{password}\n",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "s3cret" not in users.read_text()
    server = start_server("--auth", f"passwd:{users}")
    alice = log_in(server, "Alice", "s3cret")
    assert alice.event() == lines.Welcome("chat", "alice")
    wrong = log_in(server, "bob", "s3cret")
    assert wrong.event() == lines.Error("wrong name or password")


def test_chat_passwd_set_and_remove(tmp_path):
    users = tmp_path / "users"
    run_passwd = lambda *args, password="": subprocess.run(  # noqa: E731
        [CHAT_PASSWD, str(users), *args],
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run_passwd("add", "carol", password="one").returncode == 0
    assert run_passwd("set", "carol", password="two").returncode == 0
    account = PasswordFile(users).lookup("carol")
    assert account is not None and verify_password("two", account.hashed)
    missing = run_passwd("set", "dave", password="x")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "chat-passwd: dave has no account"
    assert run_passwd("remove", "carol").returncode == 0
    assert PasswordFile(users).lookup("carol") is None


@pytest.fixture
def terminal() -> Iterator[list[Terminal]]:
    terminals: list[Terminal] = []
    yield terminals
    for each in terminals:
        each.close()


def test_chat_passwd_asks_twice_without_echo(tmp_path: Path, terminal):
    users = tmp_path / "users"
    shell = Terminal(f"{CHAT_PASSWD} {users} add alice")
    terminal.append(shell)
    shell.wait_for("New password for alice:")
    shell.type("t0p-secret")
    shell.wait_for("Again:")
    shell.type("t0p-secret")
    wait_for(users.exists, "the password file")
    account = PasswordFile(users).lookup("alice")
    assert account is not None and verify_password("t0p-secret", account.hashed)
    assert "t0p-secret" not in shell.screen()


def test_telnet_user_sees_the_password_prompt(start_server, terminal):
    server = start_server("--auth", "memory:alice:s3cret")
    telnet = Terminal(f"telnet 127.0.0.1 {server.port}")
    terminal.append(telnet)
    telnet.wait_for(">>> name: What's your name?")
    telnet.type("alice")
    telnet.wait_for(">>> password: Password for alice?")
    telnet.type("s3cret")
    telnet.wait_for("=== Welcome to chat, alice!")


def test_twisted_file_checker_works_too(tmp_path, start_server):
    users = tmp_path / "plain-users"
    users.write_text("alice:s3cret\n")
    server = start_server("--auth", f"file:{users}")
    alice = log_in(server, "alice", "s3cret")
    assert alice.event() == lines.Welcome("chat", "alice")
