"""
Real IRC clients against a real C{twistd chat --irc}, in tmux: Debian's
irssi and WeeChat (C{weechat-headless} for the protocol, driven through
its log files and its startup commands).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.irc_support import IrcSocket
from tests.integration.support import ChatServer, Terminal, wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("irssi") is None or shutil.which("tmux") is None,
    reason="needs irssi and tmux (bash scripts/test installs them)",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChatServer]:
    chat = ChatServer(tmp_path, "--irc", "tcp:0:interface=127.0.0.1")
    yield chat
    chat.stop()


def test_irssi_joins_talks_with_a_line_user_and_sees_changes(
    server: ChatServer, tmp_path: Path
) -> None:
    home = tmp_path / "irssi"
    home.mkdir()
    (home / "config").write_text(
        'settings = { core = { real_name = "Irssi User"; }; };\n'
    )
    port = server.ircPorts[0]
    terminal = Terminal(
        f"irssi --home={home} -n ircuser -c 127.0.0.1 -p {port}", utf8=True
    )
    captured = ""
    try:
        server.wait_for_log("ircuser logged in")
        line = server.login("lineuser")
        terminal.type("/join #dev")
        server.wait_for_log("ircuser joined #dev")
        line.send("/join #dev")
        terminal.wait_for("lineuser")
        terminal.type("hello from irssi")
        assert line.expect(
            lines.InRoom("#dev", lines.Message("ircuser", "hello from irssi"))
        )
        line.send("/msg ircuser hi back")
        line.send("hello from the line door")
        terminal.wait_for("hello from the line door")
        line.send("/topic the new topic")
        terminal.wait_for("the new topic")
        line.send("/nick renamed")
        terminal.wait_for("renamed")
        line.send("/part #dev")
        wait_for(lambda: "has left" in terminal.screen(), "irssi to show the part")
        line.send("/join #dev")
        terminal.wait_for("has joined")
        line.send("/quit gone now")
        wait_for(lambda: "gone now" in terminal.screen(), "irssi to show the quit")
        # The quit shows where the user came from; irssi was put in no room
        # but the one it joined.
        captured = terminal.screen()
        assert "renamed [renamed@line] has quit" in captured, captured
        assert "#lobby" not in captured, captured
        terminal.type("/quit")
    finally:
        # The screen for docs/irc.md: before /quit, or as it was on failure.
        (tmp_path / "irssi-screen.txt").write_text(captured or terminal.screen())
        terminal.close()


def test_weechat_with_server_time_and_chathistory(
    server: ChatServer, tmp_path: Path
) -> None:
    if shutil.which("weechat-headless") is None:
        pytest.skip("needs weechat-headless")
    port = server.ircPorts[0]
    # Say something in #dev before WeeChat comes.
    line = server.login("early")
    line.send("/join #dev")
    line.send("said before weechat came")
    home = tmp_path / "weechat"
    home.mkdir()
    commands = ";".join(
        [
            # Debian's WeeChat (3.8) has no CHATHISTORY of its own: it gets
            # the join replay, with server-time, in a batch.
            "/set irc.server_default.capabilities server-time,echo-message,batch,"
            "message-tags",
            f"/server add chat 127.0.0.1/{port} -notls",
            "/set irc.server.chat.nicks weeuser",
            "/set irc.server.chat.autojoin #dev",
            "/set logger.file.auto_log on",
            "/set logger.file.flush_delay 0",
            "/set logger.file.time_format %Y-%m-%dT%H:%M:%S",
            "/connect chat",
            "/wait 3 /msg -server chat #dev hello from weechat",
        ]
    )
    # Not in tmux: weechat-headless outlives a killed tmux (and then spins),
    # so it runs as a child of the test, stopped by its PID.
    with (tmp_path / "weechat.out").open("wb") as output:
        weechat = subprocess.Popen(
            ["weechat-headless", "--dir", str(home), "-r", commands, "--stdout"],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        server.wait_for_log("weeuser joined #dev")
        # WeeChat negotiated the capabilities.
        probe = IrcSocket(port)
        probe.register("probe")
        probe.send("WHOIS weeuser")
        assert probe.expect("311")
        line.send("hello weechat")
        logs = home / "logs"
        wait_for(
            lambda: any(
                "hello weechat" in p.read_text(errors="replace")
                for p in logs.rglob("*.weechatlog")
            ),
            "WeeChat to log the line user's message",
            timeout=20,
        )
        # WeeChat asks for the history itself (CHATHISTORY) or it is replayed
        # with server-time: either way the earlier line reaches its log.
        wait_for(
            lambda: any(
                "said before weechat came" in p.read_text(errors="replace")
                for p in logs.rglob("*.weechatlog")
            ),
            "the history in WeeChat's log",
            timeout=20,
        )
        assert line.expect(
            lines.InRoom("#dev", lines.Message("weeuser", "hello from weechat"))
        )
    finally:
        weechat.terminate()
        try:
            weechat.wait(10)
        except subprocess.TimeoutExpired:
            weechat.kill()
            weechat.wait()
