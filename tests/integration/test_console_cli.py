"""
C{twistd chat --console} from the command line: the installed C{twistd},
as an operator runs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.support import TIMEOUT, TWISTD, ChatServer, run, wait_for

PORT = ["--port", "tcp:0:interface=127.0.0.1"]


def twistd(
    directory: Path, *argv: str, display: str | None
) -> subprocess.CompletedProcess[str]:
    """
    Run C{twistd ARGV} in C{directory} with C{display} as C{$DISPLAY} (none
    if L{None}).
    """
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    if display is not None:
        env["DISPLAY"] = display
    return run([TWISTD, *argv], cwd=directory, env=env)


def test_no_display(tmp_path: Path) -> None:
    result = twistd(
        tmp_path, "-n", "--pidfile", "", "chat", "--console", *PORT, display=None
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "twistd chat: --console: cannot open a window "
        "(no display name and no $DISPLAY environment variable)\n"
    )


def test_display_unreachable(tmp_path: Path) -> None:
    result = twistd(
        tmp_path, "-n", "--pidfile", "", "chat", "--console", *PORT, display=":4093"
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "twistd chat: --console: cannot open a window "
        '(couldn\'t connect to display ":4093")\n'
    )


def test_daemon_refused(tmp_path: Path) -> None:
    pidfile = tmp_path / "twistd.pid"
    result = twistd(
        tmp_path,
        "--pidfile",
        str(pidfile),
        "--logfile",
        str(tmp_path / "twistd.log"),
        "chat",
        "--console",
        *PORT,
        display=os.environ.get("DISPLAY"),
    )
    if pidfile.exists():  # it daemonized after all: stop it
        os.kill(int(pidfile.read_text()), signal.SIGTERM)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in output
    # twistd's usage, then the error on one line.
    assert (
        output.rstrip("\n")
        .splitlines()[-1]
        .endswith(
            "--console needs twistd -n (--nodaemon): the console cannot run in a daemon"
        )
    )
    assert not pidfile.exists()


def test_help_lists_console() -> None:
    result = run([TWISTD, "chat", "--help"])
    assert result.returncode == 0
    assert "--console" in result.stdout


@pytest.mark.gui
def test_console_runs(start_server: Callable[..., ChatServer]) -> None:
    """
    With a display, the console opens beside a working server, follows its
    users and rooms (a redraw that failed would leave a traceback in the
    log), and SIGTERM still stops everything gracefully.
    """
    server = start_server("--rate", "0", "--console")

    def console_windows() -> list[str]:
        found = run(["xdotool", "search", "--name", "^Chat server$"])
        return found.stdout.split()

    assert wait_for(console_windows, "the console window")
    alice = server.login("alice")
    bob = server.login("bob")
    alice.send("/join #dev")
    alice.send("/topic ship it")
    bob.send("/join #dev")
    bob.send("/part #lobby")
    server.wait_for_log(r"bob left #lobby")
    bob.send("/quit")
    assert bob.events_until_closed()
    server.wait_for_log(r"bob left \(Quit\)")
    assert server.stop() in (0, -signal.SIGTERM)  # twistd re-raises SIGTERM
    assert alice.expect(lines.Info) == lines.Info(
        "The server is shutting down. Goodbye!"
    )
    log = server.log()
    assert "Traceback" not in log
    assert "alice left (Server shutting down)" in log


@pytest.mark.gui
def test_stop_button_stops_twistd(start_server: Callable[..., ChatServer]) -> None:
    """
    A click on Stop, for real (xdotool), then confirming from the keyboard
    (the question has the focus on Cancel: Shift+Tab to its Stop server,
    Return), stops twistd the way SIGTERM does.
    """
    server = start_server("--rate", "0", "--console")

    def console_windows() -> list[str]:
        found = run(["xdotool", "search", "--onlyvisible", "--name", "^Chat server$"])
        return found.stdout.split()

    found = wait_for(console_windows, "the console window")
    assert isinstance(found, list)
    window = found[0]
    alice = server.login("alice")
    geometry = run(["xdotool", "getwindowgeometry", "--shell", window]).stdout
    width = int(dict(line.split("=") for line in geometry.split())["WIDTH"])
    # The Stop button is at the right end of the status line.
    click = ["xdotool", "mousemove", "--window", window, str(width - 40), "20"]
    assert run([*click, "click", "1"]).returncode == 0
    assert (
        run(["xdotool", "key", "--delay", "200", "shift+Tab", "Return"]).returncode == 0
    )
    assert server.process.wait(TIMEOUT) == 0
    assert alice.expect(lines.Info) == lines.Info(
        "The server is shutting down. Goodbye!"
    )
    log = server.log()
    assert "Traceback" not in log
    assert "alice left (Server shutting down)" in log
