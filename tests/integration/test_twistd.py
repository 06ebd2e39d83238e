"""
The C{twistd chat} plugin as an operator uses it: installed, listed, run in
the foreground or as a daemon, stopped with SIGTERM.
"""

import os
import signal
import sys
import sysconfig
from pathlib import Path

from chatwire import lines
from tests.integration.support import TWISTD, Client, listening_ports, run, wait_for


def test_installed_twistd_lists_the_chat_plugin(tmp_path):
    result = run([TWISTD, "--help"], cwd=tmp_path)
    assert result.returncode == 0
    assert any(line.split()[:1] == ["chat"] for line in result.stdout.splitlines())


def test_plugin_is_installed_without_an_init_module_in_twisted_plugins():
    site = Path(sysconfig.get_paths()["purelib"])
    assert (site / "twisted" / "plugins" / "chatserver_plugin.py").is_file()
    repo = Path(__file__).parents[2]
    assert not (repo / "twisted" / "__init__.py").exists()
    assert not (repo / "twisted" / "plugins" / "__init__.py").exists()


def test_bad_option_is_a_one_line_usage_error(tmp_path):
    result = run([TWISTD, "-n", "chat", "--max-line", "zero"], cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "max-line" in result.stdout + result.stderr


def test_bad_endpoint_is_a_usage_error(tmp_path):
    result = run([TWISTD, "-n", "chat", "--port", "nonsense:1"], cwd=tmp_path)
    assert result.returncode != 0
    assert "is not a server endpoint" in result.stdout + result.stderr


def test_port_in_use_stops_twistd_at_start(tmp_path, server):
    result = run(
        [
            TWISTD,
            "-n",
            "--logfile",
            "-",
            "--pidfile",
            "",
            "chat",
            "--port",
            f"tcp:{server.port}:interface=127.0.0.1",
        ],
        cwd=tmp_path,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "Couldn't listen" in line]
    assert line.endswith(
        f"twistd chat: Couldn't listen on 127.0.0.1:{server.port}: "
        "[Errno 98] Address already in use."
    )


def test_port_in_use_stops_the_daemon_at_start_with_one_line(tmp_path, server):
    result = run(
        [
            TWISTD,
            "--logfile",
            str(tmp_path / "chat.log"),
            "--pidfile",
            str(tmp_path / "chat.pid"),
            "chat",
            "--port",
            f"tcp:{server.port}:interface=127.0.0.1",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    # twistd reads the daemon's error through a pipe, 100 bytes of it.
    first = result.stderr.splitlines()[0]
    assert first.startswith("An error has occurred")
    assert f"Couldn't listen on 127.0.0.1:{server.port}" in first
    # The daemon removes its pidfile as it exits, which may be just after
    # twistd has read its error.
    wait_for(lambda: not (tmp_path / "chat.pid").exists(), "the pidfile removed")


def test_sigterm_tells_every_user_and_exits_promptly(server):
    alice = server.login("alice")
    waiting = server.connect()
    waiting.expect(lines.Prompt)
    # twistd stops cleanly, then ends with the signal it got, as Twisted does.
    assert server.stop() in (0, -signal.SIGTERM)
    notice = lines.Info("The server is shutting down. Goodbye!")
    assert alice.events_until_closed() == [notice]
    assert waiting.events_until_closed() == [notice]
    assert "Server Shut Down" in server.log()


def test_daemon_mode_detaches_writes_pidfile_logs_and_stops_on_kill(tmp_path):
    pidfile, logfile = tmp_path / "chat.pid", tmp_path / "chat.log"
    result = run(
        [
            TWISTD,
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(logfile),
            "chat",
            "--port",
            "tcp:0:interface=127.0.0.1",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr  # it detached
    pid = int(
        str(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "pid"))
    )
    try:
        found = wait_for(
            lambda: logfile.exists() and listening_ports(logfile.read_text()),
            "the daemon to listen",
        )
        assert isinstance(found, list)
        port = found[0]
        client = Client(port)
        client.expect(lines.Prompt)
        client.send("daemonuser")
        client.expect(lines.Welcome)
        wait_for(lambda: "daemonuser logged in" in logfile.read_text(), "login log")
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not _alive(pid), "the daemon to exit")
    assert not pidfile.exists()
    assert "Server Shut Down" in logfile.read_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; it is not our child to reap.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


assert sys.platform.startswith("linux"), "these tests read /proc"
