#!/usr/bin/env python3
"""
Take the screenshot of the Tk client in the docs (docs/client.png).

Starts a private Xvfb display, a chat server on 127.0.0.1 (a port the kernel
picks) in this process's reactor, the real client window logged in as
C{alice}, and a few raw TCP clients that chat with her in #lobby and #dev
(whose history alice's join replays) and privately; then saves the window,
with two room tabs and a private tab, with ImageMagick's C{import} and stops
everything.

    .venv/bin/python scripts/screenshot_client.py [OUTPUT.png] [--theme=dark]

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
def scene(output: Path, theme: str) -> Generator[Any, Any, None]:  # noqa: PLR0915
    """
    A conversation in progress in two rooms and a private tab, then the
    screenshot.
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
    bob.say("/join #dev")
    carol.say("/join #dev")
    carol.say("/topic Release 2.1 on Friday: freeze Thursday noon")
    yield pause(reactor)
    # History: said before alice comes, replayed muted on her join.
    bob.say("pushed the fix for the flaky GUI test")
    carol.say("/me runs the suite again")
    carol.say("412 passed, 0 failed")
    yield pause(reactor, 0.3)
    root = tk.Tk(className="Chat")
    options = Options("127.0.0.1", port, "alice", 5000, theme=theme)
    client = ChatClient(root, reactor, options)
    tksupport.install(root)
    client.start()
    yield pause(reactor, 0.5)
    window = client.window

    def type(text: str) -> None:
        window.entry.insert(0, text)
        window.sendInput()

    bob.say("/join #lobby")
    yield pause(reactor)
    bob.say("morning all")
    type("/join #dev")
    yield pause(reactor, 0.3)
    type("morning! thanks for the fix, bob")
    dave = yield connect_talker(reactor, port, "dave")
    dave.say("/join #dev")
    yield pause(reactor)
    bob.say("/join #dev")
    bob.say("alice, can you review #42 before the freeze?")
    carol.say(
        "the release notes are at https://example.org/chat/release-2.1 and the "
        "checklist is the usual one: tests green, screenshots looked at, docs "
        "updated, then tag it"
    )
    yield pause(reactor)
    dave.say("/nick david")
    type("/me takes #42")
    yield pause(reactor)
    bob.say("/msg alice can you look at the flaky test after lunch?")
    yield pause(reactor)
    type("/rooms")
    carol.say("/join #lobby")
    carol.say("lunch at 12:30?")
    yield pause(reactor, 0.3)
    window.entry.insert(0, "sounds good")
    client.model.setFocused(False)  # the title counts unread lines
    yield pause(reactor, 0.8)  # let Tk draw
    subprocess.run(["import", "-window", root.wm_frame(), str(output)], check=True)
    print(f"saved {output} ({root.winfo_width()}x{root.winfo_height()})")
    yield client.close()
    tksupport.uninstall()
    root.destroy()
    yield listening.stopListening()
    yield factory.server.stop()


def main(output: Path, theme: str) -> None:
    run_scene(reactor, lambda: scene(output, theme))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--theme=")]
    themes = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--theme=")]
    target = Path(arguments[0]) if arguments else ROOT / "docs" / "client.png"
    with virtual_display("screenshot_client"):
        main(target, themes[-1] if themes else "light")
