"""
Reload (L{chatserver.ops.reload}): every registered part read again, a part
that cannot be kept as it was with one line logged, and systemd told
C{RELOADING=1} then C{READY=1} around it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface import implementer

from chatserver.config import ChatConfig
from chatserver.ops.reload import IReloadable, ReloadableFile, Reloader
from chatserver.sdnotify import SystemdNotifier
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatserver.tap import Options, makeService, parse_motd
from chatwire.text import forbidden
from tests.ops import capture_log
from tests.test_sdnotify import Reactor, received


@implementer(IReloadable)
class Part:
    """
    A part that counts its reloads, or fails with C{error}.
    """

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.reloads = 0

    def reload(self) -> None:
        if self.error is not None:
            raise self.error
        self.reloads += 1


def test_every_registered_part_is_reloaded() -> None:
    reloader = Reloader()
    parts = [Part("one"), Part("two")]
    for part in parts:
        reloader.register(part)
    assert reloader.reload() == []
    assert [part.reloads for part in parts] == [1, 1]


def test_a_failing_part_is_one_line_and_the_others_are_reloaded() -> None:
    reloader = Reloader()
    bad = Part("bans file /etc/chat/bans", ValueError("line 3:\n  no mask"))
    good = Part("message of the day")
    reloader.register(bad)
    reloader.register(good)
    with capture_log() as events:
        failures = reloader.reload()
    assert failures == ["bans file /etc/chat/bans: line 3: no mask; kept the old one"]
    assert good.reloads == 1
    failed = [e for e in events if e["chat_event"] == "reload-failed"]
    assert [e["failure"] for e in failed] == failures
    assert not any("log_failure" in e for e in events)


def test_a_missing_file_reads_as_its_error_and_name() -> None:
    reloader = Reloader()
    reloader.register(
        ReloadableFile("operators file", "/nonexistent/opers", str, print)
    )
    assert reloader.reload() == [
        "operators file /nonexistent/opers: No such file or directory "
        "/nonexistent/opers; kept the old one"
    ]


def test_a_reloadable_file_uses_what_it_parses(tmp_path: Path) -> None:
    path = tmp_path / "motd"
    path.write_text("Welcome\nRules: be kind\n\n")
    used: list[str] = []
    ReloadableFile("message of the day", path, parse_motd, used.append).reload()
    assert used == ["Welcome\nRules: be kind"]


def test_a_reloadable_file_it_cannot_parse_uses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "motd"
    path.write_text("bell \x07 here")
    used: list[str] = []
    part = ReloadableFile("message of the day", path, parse_motd, used.append)
    with pytest.raises(ValueError):
        part.reload()
    assert used == []


def test_the_motd_file_is_the_motd_and_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "motd"
    path.write_text("first\n")
    options = Options()
    options.parseOptions(["--port", "tcp:0", "--motd-file", str(path)])
    service = makeService(options)
    assert isinstance(service, ChatService)
    assert service.server.config.motd == "first"
    path.write_text("second\nday\n")
    assert service.reload() == []
    assert service.server.config.motd == "second\nday"


def test_a_bad_motd_file_keeps_the_motd(tmp_path: Path) -> None:
    path = tmp_path / "motd"
    path.write_text("first\n")
    options = Options()
    options.parseOptions(["--port", "tcp:0", "--motd-file", str(path)])
    service = makeService(options)
    assert isinstance(service, ChatService)
    path.write_bytes(b"\xff\xfe not UTF-8")
    assert len(service.reload()) == 1
    assert service.server.config.motd == "first"


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.setblocking(False)
        yield sock, path


def test_systemd_is_told_reloading_with_its_clock_then_ready(
    systemd: tuple[socket.socket, str],
) -> None:
    sock, path = systemd
    reactor = Reactor()
    service = ChatService(
        ChatServer(ChatConfig(), reactor),
        [],
        reactor,
        notifier=SystemdNotifier.fromEnvironment({"NOTIFY_SOCKET": path}),
    )
    service.server.reloader.register(Part("bad", OSError("gone")))
    service.reload()
    reloading, ready = received(sock)
    assert re.fullmatch(rb"RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*", reloading)
    assert ready == b"READY=1"


motd_lines = st.lists(
    st.text(
        st.characters(exclude_characters="\r\n").filter(lambda c: not forbidden(c))
    ),
    max_size=5,
)


@given(motd_lines, st.sampled_from(["\n", "\r\n"]), st.integers(0, 3))
def test_a_motd_file_is_its_lines_whatever_their_ends(
    lines: list[str], end: str, blank: int
) -> None:
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    motd = parse_motd(end.join(lines) + end * blank)
    assert motd == "\n".join(lines)
    assert parse_motd(motd) == motd


@given(st.characters().filter(lambda c: forbidden(c) and c not in "\r\n"))
def test_a_motd_file_with_a_forbidden_character_is_refused(char: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        parse_motd(f"hello {char}\nworld\n")
