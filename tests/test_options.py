"""
The options of C{twistd chat}, read without running twistd.
"""

import sys

import pytest
from twisted.internet.error import CannotListenError
from twisted.python.usage import UsageError

from chatserver import tap
from chatserver.config import ChatConfig
from chatserver.doors.line.factory import door as line_door
from chatserver.history.memory import MemoryHistory


def test_options_without_arguments_give_the_default_settings():
    options = tap.Options()
    options.parseOptions([])
    assert options.config() == ChatConfig()
    assert options["port"] == [line_door.defaultEndpoint]


@pytest.fixture
def excepthook(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: seen.append(info[1]))
    return seen


def test_cannot_listen_ends_in_one_line_through_a_hook_installed_once(
    excepthook, capsys
):
    options = tap.Options()
    options.parseOptions(["--port", "tcp:0:interface=127.0.0.1"])
    tap.makeService(options)
    tap.makeService(options)
    hook = sys.excepthook
    assert not isinstance(hook.previous, type(hook))  # type: ignore[attr-defined]
    error = CannotListenError("127.0.0.1", 8123, OSError(98, "in use"))
    sys.excepthook(CannotListenError, error, None)
    assert capsys.readouterr().err == f"twistd chat: {error}\n"
    assert excepthook == []
    other = RuntimeError("boom")
    sys.excepthook(RuntimeError, other, None)
    assert excepthook == [other]


def test_telnet_is_repeatable_and_alone_replaces_the_default_port():
    options = tap.Options()
    options.parseOptions(["--telnet", "tcp:8023", "--telnet", "tcp6:8023"])
    assert options["telnet"] == ["tcp:8023", "tcp6:8023"]
    assert options["port"] == []


def test_telnet_endpoints_are_checked_like_ports():
    options = tap.Options()
    with pytest.raises(UsageError, match="--telnet 'nonsense:1'"):
        options.parseOptions(["--telnet", "nonsense:1"])


def test_the_cluster_password_file_reaches_the_settings(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    options = tap.Options()
    options.parseOptions(
        ["--cluster", "redis://x", "--cluster-password-file", str(secret)]
    )
    assert options.config().clusterPasswordFile == str(secret)


def test_cluster_and_node_name_reach_the_settings():
    options = tap.Options()
    options.parseOptions(["--cluster", "redis://10.0.0.5/2", "--node-name", "chat-1"])
    config = options.config()
    assert (config.cluster, config.nodeName) == ("redis://10.0.0.5/2", "chat-1")


@pytest.mark.parametrize(
    ("arguments", "why"),
    [
        (["--cluster", "http://x"], "--cluster: bad Redis URL 'http://x': "),
        (["--cluster", "redis://x", "--history", "sqlite:chat.db"], "--history: "),
        (["--cluster", "redis://x", "--node-name", "a b"], "--node-name: "),
        (["--node-name", "a"], "--node-name is for a node of a --cluster"),
        (
            ["--cluster", "redis://:s3cret@x/one"],
            "--cluster: bad Redis URL 'redis://\\*\\*\\*@x/one': ",
        ),
        (
            ["--cluster", "redis://x", "--cluster-password-file", "/nonexistent/pw"],
            "--cluster-password-file: cannot read /nonexistent/pw: ",
        ),
        (
            ["--cluster-password-file", "pw"],
            "--cluster-password-file is for a node of a --cluster",
        ),
    ],
)
def test_cluster_options_are_checked_in_one_line(arguments, why):
    options = tap.Options()
    with pytest.raises(UsageError, match="^" + why.replace("?", r"\?")) as caught:
        options.parseOptions(arguments)
    assert "\n" not in str(caught.value)


def test_history_memory_reaches_the_settings_and_the_memory_store():
    options = tap.Options()
    options.parseOptions(["--port", "tcp:0:interface=127.0.0.1"])
    assert options.config().historyMemory == 64 * 1024 * 1024
    options = tap.Options()
    options.parseOptions(
        ["--port", "tcp:0:interface=127.0.0.1", "--history-memory", "1048576"]
    )
    assert options.config().historyMemory == 1048576
    service = tap.makeService(options)
    history = service.server.realm.history
    assert isinstance(history, MemoryHistory)
    assert history.maxBytes == 1048576


@pytest.mark.parametrize(
    ("value", "why"),
    [("0", "0 is not a positive"), ("-5", "-5 is not a positive"), ("lots", "lots")],
)
def test_history_memory_must_be_a_positive_number_of_bytes(value, why):
    options = tap.Options()
    with pytest.raises(UsageError, match=why) as caught:
        options.parseOptions(["--history-memory", value])
    assert "\n" not in str(caught.value)
