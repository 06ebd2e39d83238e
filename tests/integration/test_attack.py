"""
Issue 19's findings replayed as an attacker would, against one real
C{twistd chat} with its four doors open (line, telnet, IRC, web), while a
watcher on the line, IRC and web doors reads everything raw.

After each attack a canary line must reach every watcher (nothing stopped
the fan-out), and what each watcher read must be well formed: one line per
event with no control character, IRC lines of at most 512 bytes without
their tags and with no sender forged, web frames that are single JSON
objects.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path

import pytest

from tests.integration.support import TIMEOUT, ChatServer
from tests.integration.wsclient import WebSocketClient

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e]")
_canaries = count()


class RawLines:
    """
    A raw CRLF-framed reader on a real socket.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        self.buffer = b""

    def send(self, line: str | bytes) -> None:
        if isinstance(line, str):
            line = line.encode("utf-8") + b"\r\n"
        self.sock.sendall(line)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed ({self.buffer!r})"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def until(self, *markers: bytes) -> list[bytes]:
        """
        @return: The lines up to and including the first holding one of
            C{markers}.
        """
        got = []
        for _ in range(10_000):
            line = self.line()
            got.append(line)
            if any(marker in line for marker in markers):
                return got
        raise AssertionError(f"no {markers!r} in {got[-5:]}")


class Watchers:
    """
    One logged-in watcher per door, each in C{#lobby}, and a line-door
    user who sends the canaries.
    """

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.line = RawLines(server.port)
        self.line.until(b"name")
        self.line.send("wline")
        self.line.until(b"Users online")
        self.irc = RawLines(server.ircPorts[0])
        self.irc.send("NICK wirc")
        self.irc.send("USER wirc 0 * :watcher")
        self.irc.until(b" 376 ", b" 422 ")
        self.irc.send("JOIN #lobby")
        self.irc.until(b" 366 ")
        self.web = WebSocketClient(server.webPorts[0])
        self.web.login("wweb")
        self.sender = line_user(server, "canary")

    def settle(
        self, gone: str | None = None
    ) -> tuple[list[bytes], list[bytes], list[dict[str, object]]]:
        """
        Send a canary line and read every watcher up to it.

        @param gone: A user whose leaving each watcher must see first (a
            connection's close can reach the chat after the canary).
        @return: What the line, IRC and web watchers read until then.
        """
        lineRead: list[bytes] = []
        ircRead: list[bytes] = []
        webRead: list[dict[str, object]] = []
        if gone is not None:
            lineRead += self.line.until(f"<-- {gone} ".encode())
            ircRead += self.irc.until(f":{gone}!{gone}@web QUIT".encode())
            webRead += self._web_until(
                lambda m: m == {**m, "type": "quit", "name": gone}
            )
        marker = f"canary-{next(_canaries)}"
        self.sender.send(marker)
        lineRead += self.line.until(marker.encode())
        ircRead += self.irc.until(marker.encode())
        webRead += self._web_until(lambda m: m.get("text") == marker)
        check_well_formed(lineRead, ircRead, webRead)
        return lineRead, ircRead, webRead

    def _web_until(
        self, last: Callable[[dict[str, object]], bool]
    ) -> list[dict[str, object]]:
        read: list[dict[str, object]] = []
        for _ in range(10_000):
            message = self.web.receive()
            read.append(message)
            if last(message):
                return read
        raise AssertionError(f"not found in {read[-5:]}")


def check_well_formed(
    lineRead: list[bytes], ircRead: list[bytes], webRead: list[dict[str, object]]
) -> None:
    for raw in lineRead:
        text = raw.decode("utf-8")
        assert not _CONTROL.search(text), raw
    for raw in ircRead:
        text = raw.decode("utf-8")
        assert not _CONTROL.search(text), raw
        bare = raw.split(b" ", 1)[1] if raw.startswith(b"@") else raw
        assert len(bare) + 2 <= 512, (len(bare), raw[:80])
        assert bare.startswith(b":"), raw
    for message in webRead:
        for value in message.values():
            if isinstance(value, str):
                assert not _CONTROL.search(value), message


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    directory: Path = tmp_path_factory.mktemp("attack")
    chat = ChatServer(
        directory,
        "--telnet",
        "tcp:0:interface=127.0.0.1",
        "--irc",
        "tcp:0:interface=127.0.0.1",
        "--web",
        "tcp:0:interface=127.0.0.1",
        "--rate",
        "100",
        "--burst",
        "200",
    )
    yield chat
    chat.stop()


@pytest.fixture(scope="module")
def watchers(server: ChatServer) -> Watchers:
    return Watchers(server)


def line_user(server: ChatServer, name: str) -> RawLines:
    client = RawLines(server.port)
    client.until(b"name")
    client.send(name)
    client.until(b"Users online")
    return client


def web_user(server: ChatServer, name: str) -> WebSocketClient:
    client = WebSocketClient(server.webPorts[0])
    client.login(name)
    return client


def irc_user(server: ChatServer, nick: str, realname: str = "x") -> RawLines:
    client = RawLines(server.ircPorts[0])
    client.send(f"NICK {nick}")
    client.send(f"USER {nick} 0 * :{realname}".encode() + b"\r\n")
    client.until(b" 376 ", b" 422 ")
    client.send("JOIN #lobby")
    client.until(b" 366 ")
    return client


def still_answers(client: RawLines) -> None:
    """
    An IRC client's connection is still open and served.
    """
    client.send("PING :alive")
    client.until(b"alive")


def test_web_quit_reason_forges_no_line(server: ChatServer, watchers: Watchers) -> None:
    attacker = web_user(server, "forger")
    attacker.send(
        type="quit", reason="bye\r\n:admin!admin@irc PRIVMSG #lobby :spoofed\r\n"
    )
    lineRead, ircRead, _ = watchers.settle(gone="forger")
    assert not any(raw.startswith(b":admin!") for raw in ircRead), ircRead
    forged = [raw for raw in lineRead if re.match(rb"<\S+> .*spoofed", raw)]
    assert not forged, lineRead


def test_lone_surrogate_in_a_quit_reason_stops_no_delivery(
    server: ChatServer, watchers: Watchers
) -> None:
    attacker = web_user(server, "surrogate")
    attacker.send(type="quit", reason="\ud800")
    attacker.send(type="quit")
    watchers.settle(gone="surrogate")
    watchers.settle()
    still_answers(watchers.irc)


def test_web_message_to_a_lone_surrogate_keeps_the_connection(
    server: ChatServer, watchers: Watchers
) -> None:
    attacker = web_user(server, "surrogate2")
    attacker.send(type="msg", to="\ud800", text="hi")
    assert attacker.expect("error")
    attacker.send(type="rooms")
    assert attacker.expect("rooms")


def test_deeply_nested_json_keeps_the_connection(server: ChatServer) -> None:
    attacker = web_user(server, "nester")
    attacker.send_text("[" * 5000)
    assert attacker.expect("error")
    attacker.send(type="rooms")
    assert attacker.expect("rooms")


def test_exponential_wildcards_are_answered_at_once(
    server: ChatServer, watchers: Watchers
) -> None:
    owner = line_user(server, "roomowner")
    owner.send("/join #" + "a" * 50)
    owner.until(b"Users online")
    attacker = irc_user(server, "globber", realname="a" * 200)
    attacker.send("LIST " + "*a" * 14 + "*b")
    attacker.until(b" 323 ")
    attacker.send("WHO " + "*a" * 14 + "*b")
    attacker.until(b" 315 ")
    still_answers(watchers.irc)


def test_control_characters_from_irc_reach_nobody(
    server: ChatServer, watchers: Watchers
) -> None:
    attacker = irc_user(server, "escaper")
    attacker.send(b"@+draft/x=a\x00b PRIVMSG #lobby :tagged\r\n")
    attacker.send(b"QUIT :\x1b[2J\x07\x00gone\r\n")
    watchers.settle()


def test_control_characters_in_a_real_name_reach_nobody(
    server: ChatServer, watchers: Watchers
) -> None:
    attacker = RawLines(server.ircPorts[0])
    attacker.send("NICK realnamer")
    attacker.send(b"USER realnamer 0 * :evil\x1b[31m\x01name\r\n")
    attacker.send("PING :registered?")
    attacker.until(b"registered?")
    watchers.irc.send("WHOIS realnamer")
    whois = watchers.irc.until(b" 318 ")
    watchers.irc.send("WHO realnamer")
    who = watchers.irc.until(b" 315 ")
    check_well_formed([], whois + who, [])


def test_long_multibyte_reasons_fit_irc_lines(
    server: ChatServer, watchers: Watchers
) -> None:
    talker = line_user(server, "wide")
    talker.send("/topic " + "\u00e9" * 380)
    watchers.settle()
    talker.send("/part #lobby " + "\u00e9" * 1000)
    watchers.settle()


def test_a_long_web_line_reaches_line_users_whole(
    server: ChatServer, watchers: Watchers
) -> None:
    talker = web_user(server, "longweb")
    talker.send(type="say", text="x" * 5050)
    lineRead, ircRead, _ = watchers.settle()
    assert all(len(raw) + 2 <= 4096 for raw in lineRead)
    tagged = [raw for raw in ircRead if b"msgid=" in raw and b"longweb" in raw]
    msgids = [re.search(rb"msgid=([^; ]+)", raw)[1] for raw in tagged]  # type: ignore[index]
    assert len(msgids) == len(set(msgids)), tagged


@pytest.mark.parametrize(
    "command",
    [
        "LIST >\u00b2",
        "LIST <\u00b2",
        "CHATHISTORY LATEST #lobby * \u00b2",
        "CHATHISTORY BEFORE #lobby msgid=12345678901234567890123 10",
        "PART ,#nosuch",
    ],
)
def test_odd_irc_numbers_keep_the_connection(server: ChatServer, command: str) -> None:
    client = irc_user(server, f"odd{abs(hash(command)) % 10_000}")
    client.send(command)
    still_answers(client)


def test_odd_history_count_keeps_the_line_connection(server: ChatServer) -> None:
    client = line_user(server, "superscript")
    client.send("/history \u00b2")
    client.until(b"!!! ")
    client.send("/who")
    client.until(b"Users online")


def test_no_traceback_was_logged(server: ChatServer, watchers: Watchers) -> None:
    watchers.settle()
    log = server.log()
    assert "Traceback" not in log, log[log.find("Traceback") - 500 :][:3000]
    json.dumps(log)  # the log itself is text
