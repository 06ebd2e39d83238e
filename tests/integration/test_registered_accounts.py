"""
Accounts users register themselves (C{--accounts}) as an operator sees
them, on a real twistd: kept in SQLite across a restart (in the history's
own file), and shared by two nodes of a cluster through a real Redis.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.redis_support import RedisServer
from tests.integration.support import TIMEOUT, TWISTD, ChatServer, Client, run

Start = Callable[..., ChatServer]


def stop(server: ChatServer) -> None:
    os.kill(server.process.pid, signal.SIGTERM)
    assert server.process.wait(TIMEOUT) in (0, -signal.SIGTERM)


def register(server: ChatServer, name: str, password: str) -> Client:
    client = server.login(name)
    client.send(f"/register {password}")
    client.expect(
        lines.Info(
            f"the account {name} is registered: log in with its password from now on"
        )
    )
    return client


def log_in(server: ChatServer, name: str, password: str) -> Client:
    client = server.connect()
    client.expect(lines.Prompt)
    client.send(name)
    assert client.expect(lines.Prompt) == lines.Prompt(
        "password", f"Password for {name}?"
    )
    client.send(password)
    client.expect(lines.Welcome(server="chat", name=name))
    return client


def test_an_account_outlives_a_restart_in_the_history_file(
    start_server: Start, tmp_path: Path
):
    db = tmp_path / "chat.db"
    options = ("--rate", "0", "--history", f"sqlite:{db}", "--accounts", f"sqlite:{db}")
    first = start_server(*options)
    bob = register(first, "bob", "s3cret")
    bob.send("kept across the restart")
    stop(first)
    second = start_server(*options)
    again = log_in(second, "bob", "s3cret")
    history = again.expect(lines.History)
    assert isinstance(history, lines.History)
    assert history.line == lines.Message("bob", "kept across the restart")


def test_a_wrong_password_after_a_restart_is_refused(
    start_server: Start, tmp_path: Path
):
    db = tmp_path / "accounts.db"
    first = start_server("--rate", "0", "--accounts", f"sqlite:{db}")
    register(first, "bob", "s3cret")
    stop(first)
    second = start_server("--rate", "0", "--accounts", f"sqlite:{db}")
    client = second.connect()
    client.expect(lines.Prompt)
    client.send("bob")
    client.expect(lines.Prompt("password", "Password for bob?"))
    client.send("guess")
    assert client.expect(lines.Error) == lines.Error("wrong name or password")


def test_an_accounts_file_that_cannot_be_used_stops_twistd_in_one_line(
    tmp_path: Path,
):
    db = tmp_path / "missing" / "a.db"
    result = run(
        [
            TWISTD,
            "-n",
            "--logfile",
            str(tmp_path / "twistd.log"),
            "--pidfile",
            "",
            "chat",
            "--port",
            "tcp:0:interface=127.0.0.1",
            "--accounts",
            f"sqlite:{db}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"twistd chat: cannot use accounts file {db}: ")


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    yield server
    server.stop()


def two_nodes(start_server: Start, redis: RedisServer) -> list[ChatServer]:
    nodes = []
    for name in ("one", "two"):
        node = start_server(
            "--rate",
            "0",
            "--cluster",
            redis.url,
            "--node-name",
            name,
            "--accounts",
            "redis",
            "--irc",
            "tcp:0:interface=127.0.0.1",
        )
        node.wait_for_log(rf"Node {name} is in the cluster")
        nodes.append(node)
    return nodes


def test_an_account_registered_on_one_node_logs_in_on_another(
    start_server: Start, redis: RedisServer
):
    one, two = two_nodes(start_server, redis)
    bob = register(one, "bob", "s3cret")
    bob.close()
    carol = two.login("carol")
    carol.send("/nick bob")
    assert carol.expect(lines.Error) == lines.Error(
        "the name bob is taken, choose another"
    )
    bob.close()
    log_in(two, "bob", "s3cret")


def test_an_irc_user_sees_the_account_of_a_user_of_another_node(
    start_server: Start, redis: RedisServer
):
    one, two = two_nodes(start_server, redis)
    register(one, "bob", "s3cret").close()
    watcher = IrcSocket(two.ircPorts[0])
    watcher.register("watcher", "account-tag", "extended-join", join="#lobby")
    bob = log_in(one, "bob", "s3cret")
    join = watcher.expect("JOIN")
    assert join.params == ("#lobby", "bob", "bob")
    assert join.tags.get("account") == "bob"
    bob.send("hello from node one")
    said = watcher.expect("PRIVMSG")
    assert said.params == ("#lobby", "hello from node one")
    assert said.tags.get("account") == "bob"


def until_text(client: Client, text: str) -> str:
    """
    @return: The first line read that holds C{text}, as shown.
    """
    for _ in range(10_000):
        shown = client.event().format()
        if text in shown:
            return shown
    raise AssertionError(f"no line with {text!r}")


def test_a_registered_account_on_two_raw_connections_is_one_user(
    start_server: Start,
):
    server = start_server("--rate", "0", "--accounts", "memory")
    laptop = register(server, "ann", "s3cret")
    phone = log_in(server, "ann", "s3cret")
    laptop.send("from the laptop")
    assert phone.expect(lines.Message) == lines.Message("ann", "from the laptop")
    phone.send("/sessions")
    until_text(phone, "session 2: line from")
    bob = server.login("bob")
    guest = server.connect()
    guest.expect(lines.Prompt)
    guest.send("bob")
    assert guest.expect(lines.Error) == lines.Error(
        "the name bob is taken, choose another"
    )
    bob.close()


def test_a_kick_of_a_registered_account_puts_out_every_session(
    start_server: Start,
):
    server = start_server("--rate", "0", "--accounts", "memory")
    ann = register(server, "ann", "s3cret")
    ann.send("/join #dev")
    laptop = register(server, "bob", "hunter2")
    phone = log_in(server, "bob", "hunter2")
    phone.send("/join #dev")
    until_text(laptop, "bob has joined")
    ann.send("/kick #dev bob spam")
    for session in (laptop, phone):
        until_text(session, "kicked by ann: spam")
        session.send("/where")
        assert "#dev" not in until_text(session, "#lobby")
