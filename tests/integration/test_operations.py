"""
C{--metrics} and C{--log-format json} of a real C{twistd chat}.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.support import TIMEOUT, TWISTD, ChatServer, Client, wait_for

LOCAL = "tcp:0:interface=127.0.0.1"


def metrics_port(server: ChatServer) -> int:
    found = wait_for(
        lambda: re.search(r"listening on 127\.0\.0\.1:(\d+) \(metrics ", server.log()),
        "the metrics listener",
    )
    assert isinstance(found, re.Match)
    return int(found.group(1))


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT
        ) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """
    @return: Every sample of C{/metrics}, read by prometheus_client's own
        parser, by name and labels.
    """
    status, text = get(port, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_counters_move_with_line_and_irc_traffic(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server(
        "--irc",
        LOCAL,
        "--telnet",
        LOCAL,
        "--metrics",
        LOCAL,
        "--history",
        "sqlite:chat.sqlite",
    )
    port = metrics_port(server)
    before = scrape(port)
    alice = server.login("alice")
    irc = IrcSocket(server.ircPorts[0])
    irc.register("bob", join="#lobby")
    alice.send("hello")
    irc.expect("PRIVMSG")
    irc.send("PRIVMSG #lobby :hi")
    alice.expect(lines.Message)
    after = scrape(port)
    assert after["chat_users", (("door", "line"),)] == 1
    assert after["chat_users", (("door", "irc"),)] == 1
    telnet = Client(server.telnetPorts[0])
    telnet.readline()
    # One vocabulary of doors: --port and --telnet are both the line door.
    wait_for(
        lambda: scrape(port)["chat_connections", (("door", "line"),)] == 2,
        "the telnet connection counted",
    )
    after = scrape(port)
    assert after["chat_connections", (("door", "irc"),)] == 1
    assert {labels for name, labels in after if name == "chat_connections"} == {
        (("door", "line"),),
        (("door", "irc"),),
    }
    assert after["chat_rooms", ()] == 1
    said = "chat_lines_received_total"
    assert after[said, (("door", "line"), ("kind", "message"))] == 1
    assert after[said, (("door", "irc"), ("kind", "message"))] == 1
    for door in ("line", "irc"):
        delivered = "chat_deliveries_total", (("door", door),)
        assert after[delivered] > before.get(delivered, 0)
        sent = "chat_bytes_out_total", (("door", door),)
        assert after[sent] > before.get(sent, 0)
    assert ("chat_history_write_seconds_count", ()) in after
    wait_for(
        lambda: scrape(port)["chat_history_write_seconds_count", ()] >= 1,
        "a history write",
    )
    written = scrape(port)
    assert (
        written["chat_history_write_seconds_bucket", (("le", "+Inf"),)]
        == written["chat_history_write_seconds_count", ()]
    )
    telnet.close()
    irc.close()
    alice.close()


def test_metrics_count_refused_logins_by_reason(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server("--metrics", LOCAL)
    port = metrics_port(server)
    alice = server.login("alice")
    again = server.connect()
    again.expect(lines.Prompt)
    again.send("alice")
    again.expect(lines.Error)
    assert scrape(port)["chat_logins_refused_total", (("reason", "NameTaken"),)] == 1
    again.close()
    alice.close()


def test_health_is_ok_while_accepting_users(
    start_server: Callable[..., ChatServer],
) -> None:
    server = start_server("--metrics", LOCAL)
    assert get(metrics_port(server), "/health") == (200, "OK\n")


def test_json_log_has_login_event_with_fields(tmp_path: Path) -> None:
    logfile = tmp_path / "twistd.log"
    process = subprocess.Popen(
        [
            *(TWISTD, "-n", "--logfile", str(logfile), "--pidfile", ""),
            *("chat", "--port", LOCAL, "--log-format", "json"),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def events() -> list[dict[str, object]]:
        if not logfile.exists():
            return []
        text = logfile.read_text(encoding="utf-8")
        return [
            json.loads(line)
            for line in text.splitlines(keepends=True)
            if line.endswith("\n")
        ]

    def first(chat_event: str) -> dict[str, object] | None:
        return next((e for e in events() if e.get("chat_event") == chat_event), None)

    try:
        listening = wait_for(lambda: first("listening"), "the server to listen")
        assert isinstance(listening, dict)
        port = int(str(listening["address"]).rsplit(":", 1)[1])
        client = Client(port)
        client.expect(lines.Prompt)
        client.send("alice")
        client.expect(lines.Welcome)
        login = wait_for(lambda: first("login"), "the login in the log")
        assert isinstance(login, dict)
        assert login["name"] == "alice"
        assert login["door"] == "line"
        assert str(login["peer"]).startswith("127.0.0.1:")
        client.close()
    finally:
        process.terminate()
        process.wait(TIMEOUT)
