"""
Doors as plugins: every door is found with twisted.plugin, gets its option
in C{twistd chat}, may add options of its own, and listens behind the
server's admission.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import IPlugin
from twisted.python.usage import UsageError
from zope.interface import implementer
from zope.interface.verify import verifyObject

from chatserver import service as service_module
from chatserver import tap
from chatserver.config import ChatConfig
from chatserver.doors import DoorOption, IChatDoor
from chatserver.doors.line import factory as line_factory
from chatserver.doors.line import telnet
from chatserver.doors.plugin import find_doors
from chatserver.limits.gate import AdmittingFactory
from chatserver.server import ChatServer
from chatserver.service import ChatService


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError("not a positive number")
    return number


@implementer(IPlugin, IChatDoor)
class EchoDoor:
    """
    A door as small as can be, with an option of its own.
    """

    name = "echo"
    description = "A door that answers what it is sent."
    options = (
        DoorOption("echo-times", "How many times to answer.", 1, _positive),
        DoorOption("echo-word", "A word to answer with.", repeatable=True),
    )

    def makeFactory(self, server: ChatServer) -> Factory[Protocol]:
        return Factory.forProtocol(Protocol)

    def refusal(self, why: str) -> bytes:
        return f"no: {why}\n".encode()


@implementer(IPlugin, IChatDoor)
class TakenDoor:
    name = "history"
    description = "A door whose option is taken."

    def makeFactory(self, server: ChatServer) -> Factory[Protocol]:
        raise AssertionError("never made")


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> EchoDoor:
    """
    The echo door, installed beside the others.
    """
    door = EchoDoor()
    monkeypatch.setattr(tap, "find_doors", lambda: [*find_doors(), door])
    return door


def test_the_line_telnet_irc_and_web_doors_are_plugins():
    doors = {door.name: door for door in find_doors()}
    assert {"port", "telnet", "irc", "web"} <= set(doors)
    for door in doors.values():
        assert verifyObject(IChatDoor, door)


def test_the_line_door_is_found_first():
    assert find_doors()[0].name == "port"


def test_a_door_plugin_gets_a_repeatable_option(echo):
    options = tap.Options()
    options.parseOptions(["--echo", "tcp:7", "--echo", "tcp6:7"])
    assert options["echo"] == ["tcp:7", "tcp6:7"]
    assert options.listeners() == [(echo, "tcp:7"), (echo, "tcp6:7")]


def test_a_door_plugin_alone_replaces_the_default_port(echo):
    options = tap.Options()
    options.parseOptions(["--echo", "tcp:7"])
    assert options["port"] == []


def test_a_door_plugin_endpoints_are_checked_like_ports(echo):
    options = tap.Options()
    with pytest.raises(UsageError, match="--echo 'nonsense:1' is not a server"):
        options.parseOptions(["--echo", "nonsense:1"])


def test_a_door_plugin_is_in_the_help(echo):
    text = str(tap.Options())
    assert "--echo=" in text
    assert "A door that answers what it is sent. Repeatable." in text
    assert "[--echo ENDPOINT ...]" in text


def test_a_door_option_reaches_the_server(echo):
    options = tap.Options()
    options.parseOptions(
        ["--echo", "tcp:7", "--echo-times", "3", "--echo-word", "a", "--echo-word", "b"]
    )
    assert options.doorOptions()["echo-times"] == 3
    assert options.doorOptions()["echo-word"] == ["a", "b"]


def test_a_door_option_not_given_is_its_default(echo):
    options = tap.Options()
    options.parseOptions([])
    assert options.doorOptions()["echo-times"] == 1
    assert options.doorOptions()["echo-word"] == []


def test_a_wrong_door_option_is_one_usage_error(echo):
    options = tap.Options()
    with pytest.raises(UsageError, match="--echo-times '0': not a positive number"):
        options.parseOptions(["--echo-times", "0"])


def test_the_web_origin_is_the_web_doors_own_option():
    options = tap.Options()
    options.parseOptions(["--web-origin", "https://chat.example.org"])
    assert options.doorOptions() == {"web-origin": ["https://chat.example.org"]}


def test_a_door_whose_name_is_an_option_already_is_left_out(monkeypatch):
    monkeypatch.setattr(tap, "find_doors", lambda: [*find_doors(), TakenDoor()])
    options = tap.Options()
    options.parseOptions(["--history", "none"])
    assert options["history"] == "none"
    assert [door.name for door in options.doors if door.name == "history"] == []


def test_every_listener_of_a_door_plugin_is_behind_the_gate(echo):
    reactor = MemoryReactorClock()
    server = ChatServer(ChatConfig(), reactor)
    service = ChatService(server, [(echo, "tcp:7"), (echo, "tcp:8")], reactor)
    gates: list[Any] = [listener.factory for listener in service]
    assert all(isinstance(gate, AdmittingFactory) for gate in gates)
    assert gates[0].wrappedFactory is gates[1].wrappedFactory
    assert gates[0].wrappedFactory is service.factories["echo"]
    assert gates[0].refusal("full") == b"no: full\n"


def test_port_and_telnet_listeners_share_the_line_codec():
    server = ChatServer(ChatConfig(), MemoryReactorClock())
    port = line_factory.door.makeFactory(server)
    telnet_factory = telnet.door.makeFactory(server)
    assert isinstance(telnet_factory.wrapped, line_factory.LineFactory)
    assert telnet_factory.wrapped.codec is port.codec


def test_the_line_door_keeps_its_short_option():
    options = tap.Options()
    options.parseOptions(["-p", "tcp:7", "--port", "tcp:8"])
    assert options["port"] == ["tcp:7", "tcp:8"]


@pytest.mark.parametrize("module", [tap, service_module])
def test_the_options_and_the_service_know_no_door(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    doors = {name for name in imported if name.startswith("chatserver.doors")}
    assert doors <= {"chatserver.doors", "chatserver.doors.plugin"}
