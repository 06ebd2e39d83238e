#!/usr/bin/env python3
"""
Take the screenshot of the server console in the docs (docs/console.png).

Starts a private Xvfb display, a chat server with its console listening on
127.0.0.1 (a port the kernel picks), a few real clients that join rooms, set
topics, chat, rename, leave and get kicked, then saves the console window
with ImageMagick's C{import} and stops everything.

    .venv/bin/python scripts/screenshot_console.py [OUTPUT.png] [--theme=dark]

Needs Xvfb and ImageMagick (C{import}).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twisted.internet import defer  # noqa: E402
from twisted.internet import reactor as _reactor  # noqa: E402

from chatserver.config import ChatConfig  # noqa: E402
from chatserver.console.service import ConsoleService  # noqa: E402
from chatserver.doors.line.factory import door as line_door  # noqa: E402
from chatserver.server import ChatServer  # noqa: E402
from chatserver.service import ChatService  # noqa: E402
from devtools.talker import connect_talker, pause, run_scene  # noqa: E402
from devtools.xvfb import virtual_display  # noqa: E402

reactor: Any = _reactor


@defer.inlineCallbacks
def scene(console: ConsoleService, output: Path) -> Generator[Any, Any, None]:
    """
    A morning on the office chat, then the screenshot.
    """
    window = console.window
    assert window is not None
    window.root.update_idletasks()
    window.root.geometry(f"860x{window.root.winfo_reqheight() + 120}")
    port = int(console.addresses[0].rsplit(":", 1)[1])
    alice = yield connect_talker(reactor, port, "alice")
    bob = yield connect_talker(reactor, port, "bob")
    carol = yield connect_talker(reactor, port, "carol")
    mallory = yield connect_talker(reactor, port, "mallory")
    alice.say("/topic Office chat: be kind, no spam")
    alice.say("good morning, everyone")
    bob.say("/me waves")
    alice.say("/join #dev")
    alice.say("/topic release 2.4 on Friday")
    bob.say("/join #dev")
    carol.say("/join #design")
    carol.say("/join #dev")
    yield pause(reactor, 0.05)
    mallory.say("BUY CHEAP STUFF")
    bob.say("/nick robert")
    yield connect_talker(reactor, port, "eve smith")  # an invalid name: rejected
    dave = yield connect_talker(reactor, port, "dave")
    dave.say("/quit lunch")
    yield pause(reactor, 0.05)
    tree = window.userTree
    keys = tree.get_children()
    names = [tree.item(key, "values")[0] for key in keys]
    tree.selection_set(keys[names.index("mallory")])
    window.reasonEntry.insert(0, "spam")
    window.kickButton.invoke()
    yield pause(reactor, 0.3)
    tree.selection_set(keys[names.index("carol")])
    window.findEntry.insert(0, "joined")
    window.find(1)
    # Some traffic for the figures at a glance (lines and deliveries a
    # second), then let Tk draw.
    for number in range(8):
        alice.say(f"status update {number}")
        carol.say("/me nods")
        yield pause(reactor, 0.2)
    root = window.root
    subprocess.run(["import", "-window", root.wm_frame(), str(output)], check=True)
    print(f"saved {output} ({root.winfo_width()}x{root.winfo_height()})")


def main(output: Path, theme: str) -> None:
    chat = ChatService(
        ChatServer(ChatConfig(serverName="office chat", logMessages=True, rate=0)),
        [(line_door, "tcp:0:interface=127.0.0.1")],
    )
    console = ConsoleService(chat, theme=theme)
    console.privilegedStartService()
    console.startService()
    reactor.addSystemEventTrigger("before", "shutdown", console.stopService)

    run_scene(reactor, lambda: scene(console, output))


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--theme=")]
    themes = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--theme=")]
    target = Path(arguments[0]) if arguments else ROOT / "docs" / "console.png"
    with virtual_display("screenshot_console", "1024x1024x24"):
        main(target, themes[-1] if themes else "light")
