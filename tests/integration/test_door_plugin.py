"""
A door plugin installed beside the project, not in it: the example door of
C{docs/doors.md} (C{docs/examples/announce}) copied to a folder of its own,
with its own C{twisted/plugins/}, on the C{PYTHONPATH} of a real twistd.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from chatwire import lines
from tests.integration.support import TWISTD, ChatServer, Client, run

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "announce"
ENDPOINT = "tcp:0:interface=127.0.0.1"


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """
    The announce door installed in a folder on the C{PYTHONPATH} of every
    twistd the test starts.
    """
    folder = tmp_path / "door"
    # As a package would ship it: no plugin cache, nothing compiled.
    shutil.copytree(
        EXAMPLE, folder, ignore=shutil.ignore_patterns("dropin.cache", "__pycache__")
    )
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return folder


def announce_port(server: ChatServer) -> int:
    pattern = r"listening on 127\.0\.0\.1:(\d+) \(announce "
    server.wait_for_log(pattern)
    found = re.search(pattern, server.log())
    assert found is not None
    return int(found.group(1))


def test_an_installed_door_is_shown_in_twistd_chat_help(installed, tmp_path):
    result = run([TWISTD, "chat", "--help"], cwd=tmp_path, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert "--announce=" in result.stdout
    assert "[--announce ENDPOINT ...]" in result.stdout
    assert "said in the default room" in " ".join(result.stdout.split())


def test_a_line_said_through_an_installed_door_reaches_a_line_user(
    installed, start_server
):
    server = start_server("--rate", "0", "--announce", ENDPOINT)
    alice = server.login("alice")
    script = Client(announce_port(server))
    script.send("backup")
    script.send("the nightly backup is done")
    assert alice.expect(lines.Message) == lines.Message(
        "backup", "the nightly backup is done"
    )


def test_an_installed_door_is_refused_by_max_clients_like_any_other_door(
    installed, start_server
):
    server = start_server("--max-clients", "1", "--announce", ENDPOINT)
    port = announce_port(server)
    alice = server.login("alice")
    refused = Client(port)
    assert refused.readline() == b"error: the server is full, please try again later\n"
    assert refused.readline() == b""
    alice.close()


def test_an_installed_door_alone_replaces_the_default_port(installed, start_server):
    server = start_server("--announce", ENDPOINT, listeners=0)
    script = Client(server.port)
    script.send("backup")
    script.send("done")
    server.wait_for_log(r"backup logged in")
    assert len(re.findall("Chat server listening on", server.log())) == 1
