#!/usr/bin/env python3
"""
Take the screenshot of the Tk client in the docs (docs/client.png).

Starts a private Xvfb display, a chat server on 127.0.0.1 (a port the kernel
picks) in this process's reactor, the real client window logged in as
C{alice}, and a few raw TCP clients that chat with her; then saves the
window with ImageMagick's C{import} and stops everything.

    .venv/bin/python scripts/screenshot_client.py [OUTPUT.png]

Needs Xvfb and ImageMagick (C{import}).
"""

from __future__ import annotations

import subprocess
import sys
import tkinter as tk
from collections.abc import Generator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twisted.internet import defer, tksupport  # noqa: E402
from twisted.internet import reactor as _reactor  # noqa: E402
from twisted.internet.endpoints import (  # noqa: E402
    serverFromString,
)

from chatclient.app import ChatClient, Options  # noqa: E402
from chatserver.config import ChatConfig  # noqa: E402
from chatserver.doors.line.factory import LineFactory  # noqa: E402
from chatserver.server import ChatServer  # noqa: E402
from devtools.talker import connect_talker, pause, run_scene  # noqa: E402
from devtools.xvfb import virtual_display  # noqa: E402

reactor: Any = _reactor


@defer.inlineCallbacks
def scene(output: Path) -> Generator[Any, Any, None]:
    """
    A conversation in progress, then the screenshot.
    """
    motd = "Be nice. Logs are kept for a week."
    factory = LineFactory(
        ChatServer(ChatConfig(serverName="office chat", motd=motd, rate=0))
    )
    listening = yield serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(
        factory
    )
    port = listening.getHost().port
    bob = yield connect_talker(reactor, port, "bob")
    carol = yield connect_talker(reactor, port, "carol")
    root = tk.Tk(className="Chat")
    client = ChatClient(root, reactor, Options("127.0.0.1", port, "alice", 5000))
    tksupport.install(root)
    client.start()
    yield pause(reactor, 0.5)
    window = client.window
    bob.say("morning alice! did the build go green?")
    yield pause(reactor)
    window.entry.insert(0, "it did, all 412 tests")
    window.sendInput()
    carol.say("/me brings coffee")
    yield pause(reactor)
    dave = yield connect_talker(reactor, port, "dave")
    dave.say("hi all")
    yield pause(reactor)
    bob.say("/msg alice can you look at the flaky GUI test after lunch?")
    window.entry.insert(0, "/msg bob sure, after 2")
    window.sendInput()
    yield pause(reactor)
    dave.say("/nick david")
    carol.say("nice work Alice, thanks")
    yield pause(reactor)
    window.entry.insert(0, "/msg nobody hello?")
    window.sendInput()
    yield pause(reactor)
    dave.say("/quit lunch")
    bob.say("see you at 2")
    yield pause(reactor, 0.3)
    window.entry.insert(0, "/me heads out for lunch too")
    client.model.setFocused(False)  # the title counts unread lines
    carol.say("anyone want a sandwich?")
    yield pause(reactor, 0.8)  # let Tk draw
    subprocess.run(["import", "-window", root.wm_frame(), str(output)], check=True)
    print(f"saved {output} ({root.winfo_width()}x{root.winfo_height()})")
    yield client.close()
    tksupport.uninstall()
    root.destroy()
    yield listening.stopListening()
    yield factory.server.stop()


def main(output: Path) -> None:
    run_scene(reactor, lambda: scene(output))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "client.png"
    with virtual_display("screenshot_client"):
        main(target)
