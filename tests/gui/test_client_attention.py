"""
The Tk client asks for attention, for real: a mention or a private line
while the window is not focused sets the window's urgency hint (read back
from the X server with xprop), rings the bell and runs notify-send (a stand-in
on $PATH that writes down its arguments); focusing the window clears the
hint.
"""

from __future__ import annotations

import os
import subprocess
import tkinter as tk
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer

from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui

FAKE_NOTIFY_SEND = """#!/bin/sh
printf '%s\\n' "$@" >> "$NOTIFY_LOG"
"""


def urgent(window: int) -> bool:
    """
    @return: Whether the X server holds the urgency hint in C{window}'s
        C{WM_HINTS}, as xprop reads it.
    """
    shown = subprocess.run(
        ["xprop", "-id", str(window), "WM_HINTS"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "urgency hint bit is set" in shown


class AttentionTests(RoomsTestCase):
    withWindow = False

    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        # A notify-send of our own, found on $PATH by the client.
        self.bin = Path(self.mktemp())
        self.bin.mkdir(parents=True)
        program = self.bin / "notify-send"
        program.write_text(FAKE_NOTIFY_SEND)
        program.chmod(0o755)
        self.notified = self.bin / "notified"
        self.patch(os, "environ", {**os.environ, "NOTIFY_LOG": str(self.notified)})
        os.environ["PATH"] = f"{self.bin}:{os.environ['PATH']}"
        yield super(RoomsTestCase, self).setUp()
        yield self.openWindow()
        self.bells: list[None] = []
        self.root.bell = lambda *args, **kwargs: self.bells.append(None)  # type: ignore[method-assign]
        self.bob = yield self.otherUser("bob")
        yield self.loggedIn()
        yield wait_until(lambda: self.window.tabLabels() == ["#lobby"], "#lobby")

    def wrapper(self) -> int:
        """
        The X window Tk keeps the toplevel's WM_HINTS on.
        """
        self.root.update()
        return int(
            subprocess.run(
                ["xwininfo", "-children", "-id", str(self.root.winfo_id())],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.split("Parent window id: ")[1]
            .split()[0],
            16,
        )

    @defer.inlineCallbacks
    def elsewhere(self) -> Generator[defer.Deferred[Any], Any, None]:
        """
        Give the keyboard focus to another window.
        """
        other = tk.Toplevel(self.root)
        self.addCleanup(other.destroy)
        entry = tk.Entry(other)
        entry.pack()
        yield wait_until(other.winfo_viewable, "the other window")
        entry.focus_force()
        yield wait_until(lambda: not self.model.focused, "the focus elsewhere")

    @defer.inlineCallbacks
    def test_a_mention_in_the_background_sets_the_urgency_hint(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        window = self.wrapper()
        assert not urgent(window)
        yield self.elsewhere()
        self.bob.say("alice: are you there?")
        yield wait_until(lambda: urgent(window), "the urgency hint")
        self.window.entry.focus_force()
        yield wait_until(lambda: self.model.focused, "the focus back")
        assert not urgent(window)

    @defer.inlineCallbacks
    def test_a_mention_in_the_background_rings_the_bell(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.elsewhere()
        self.bob.say("nothing for you")
        self.bob.say("alice: are you there?")
        yield self.showing("#lobby", "alice: are you there?")
        assert len(self.bells) == 1

    @defer.inlineCallbacks
    def test_a_private_line_in_the_background_is_a_desktop_notification(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield self.elsewhere()
        self.bob.say("/msg alice psst")
        yield wait_until(self.notified.exists, "notify-send run")
        yield wait_until(
            lambda: (
                self.notified.read_text().splitlines()
                == ["--app-name=Chat", "--", "bob (private)", "*bob* psst"]
            ),
            "notify-send's arguments",
        )

    @defer.inlineCallbacks
    def test_a_private_tab_gets_the_mention_mark(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.bob.say("/msg alice psst")
        yield wait_until(lambda: "@ bob (1)" in self.window.tabLabels(), "the mark")

    @defer.inlineCallbacks
    def test_nothing_is_asked_while_the_window_is_focused(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        self.window.entry.focus_force()
        yield wait_until(lambda: self.model.focused, "the focus")
        self.bob.say("alice: here?")
        self.bob.say("/msg alice psst")
        yield self.showing("bob", "*bob* psst")
        assert not urgent(self.wrapper())
        assert self.bells == []
        assert not self.notified.exists()
