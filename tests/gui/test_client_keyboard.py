"""
The Tk client from the keyboard, for real: the input follows the selected
tab, Ctrl+Tab, Ctrl+Shift+Tab and Alt+1..9 switch tabs, and Tab and
Shift+Tab go round a visible focus order (Shift+Tab typed through the X
server with xdotool, as X11 sends it: ISO_Left_Tab).
"""

from __future__ import annotations

import subprocess
import tkinter as tk
from collections.abc import Generator
from functools import partial
from typing import Any

import pytest
from twisted.internet import defer

from chatwire import lines
from tests.gui.client_support import wait_until
from tests.gui.test_client_rooms import RoomsTestCase

pytestmark = pytest.mark.gui


class KeyboardTests(RoomsTestCase):
    @defer.inlineCallbacks
    def setUp(  # type: ignore[override]
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        yield super().setUp()
        yield self.join("#dev", "#ops")
        self.window.entry.focus_force()
        self.root.update()

    def selected(self) -> str:
        return self.model.selected.name

    def focused(self) -> tk.Misc | None:
        self.root.update()
        return self.root.focus_get()

    def key(self, key: str) -> None:
        """
        Press C{key} in the widget that has the focus.
        """
        widget = self.focused()
        assert widget is not None
        widget.event_generate(key, when="now")
        self.root.update()

    def tabPosition(self, index: int) -> tuple[int, int]:
        notebook = self.window.notebook
        self.root.update()
        for x in range(0, notebook.winfo_width(), 4):
            for y in range(0, 40, 4):
                if notebook.index(f"@{x},{y}") == index:
                    return x, y
        raise AssertionError(f"no tab {index}")

    @defer.inlineCallbacks
    def test_clicking_a_tab_gives_the_input_back(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        notebook = self.window.notebook
        x, y = self.tabPosition(0)
        x, y = x + notebook.winfo_rootx(), y + notebook.winfo_rooty()
        # A real click, through the X server.
        subprocess.run(["xdotool", "mousemove", str(x), str(y)], check=True)
        subprocess.run(["xdotool", "click", "1"], check=True)
        yield wait_until(lambda: self.selected() == "#lobby", "#lobby selected")
        yield wait_until(lambda: self.focused() is self.window.entry, "the input")
        subprocess.run(["xdotool", "type", "hi"], check=True)
        yield wait_until(lambda: self.window.entry.get() == "hi", "typed")
        self.key("<Return>")
        yield self.heard(self.bob, "hi")
        assert self.bob.events[-1] == lines.Message("alice", "hi")

    def test_typing_while_the_tabs_have_the_focus_goes_to_the_input(self) -> None:
        self.window.notebook.focus_force()
        self.key("<Key-h>")
        assert self.focused() is self.window.entry
        assert self.window.entry.get() == "h"

    def test_ctrl_tab_selects_the_next_tab_round_the_end(self) -> None:
        assert self.selected() == "#ops"
        self.key("<Control-Tab>")
        assert self.selected() == "#lobby"
        self.key("<Control-Tab>")
        assert self.selected() == "#dev"
        assert self.focused() is self.window.entry
        assert self.window.entry.get() == ""  # not a completion

    def test_ctrl_shift_tab_selects_the_previous_tab(self) -> None:
        self.key("<Control-Shift-Tab>")
        assert self.selected() == "#dev"
        self.key("<Control-ISO_Left_Tab>")
        assert self.selected() == "#lobby"

    def test_ctrl_tab_works_from_the_chat_view_too(self) -> None:
        self.window.text.focus_force()
        self.key("<Control-Tab>")
        assert self.selected() == "#lobby"
        assert self.focused() is self.window.entry

    def test_alt_and_a_number_selects_that_tab(self) -> None:
        self.key("<Alt-Key-1>")
        assert self.selected() == "#lobby"
        self.key("<Alt-Key-2>")
        assert self.selected() == "#dev"
        self.key("<Alt-Key-9>")  # no ninth tab: nothing changes
        assert self.selected() == "#dev"

    def test_tab_leaves_the_input_when_there_is_nothing_to_complete(self) -> None:
        self.key("<Tab>")
        assert self.focused() is self.window.sendButton

    def test_tab_goes_round_a_visible_focus_order(self) -> None:
        window = self.window
        expected = [
            window.sendButton,
            window.closeButton,
            window.notebook,
            window.text,
            window.users,
            window.roomsTree,
            window.refreshButton,
            window.entry,
        ]
        seen = []
        for _ in expected:
            self.key("<Tab>")
            widget = self.focused()
            assert widget is not None
            seen.append(widget)
            assert widget.winfo_viewable(), widget
            if isinstance(widget, (tk.Text, tk.Listbox)):
                # A classic Tk widget shows the focus with its highlight.
                assert int(widget.cget("highlightthickness")) > 0, widget
        assert seen == expected

    def movedFrom(self, widget: tk.Misc | None) -> bool:
        return self.focused() is not widget

    @defer.inlineCallbacks
    def test_shift_tab_never_ends_on_an_invisible_widget(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        seen: list[tk.Misc | None] = []
        for _ in range(8):
            before = self.focused()
            subprocess.run(["xdotool", "key", "shift+Tab"], check=True)
            yield wait_until(partial(self.movedFrom, before), "the focus moved")
            widget = self.focused()
            assert widget is not None
            assert widget.winfo_viewable(), widget
            seen.append(widget)
        assert seen[0] is self.window.refreshButton
        assert seen[-1] is self.window.entry
