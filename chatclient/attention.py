"""
Getting the reader's attention while the window is in the background: the
window's urgency hint (which task bars and window managers show), the bell,
and a desktop notification through the freedesktop notification service.

Tk 8.6 on X11 has no C{wm attributes -urgent}, so the hint is set the way
the ICCCM says, in the C{WM_HINTS} of the window's wrapper, through Xlib
(C{ctypes}, on a display connection of our own); where there is no Xlib the
hint is left out.  The notification is C{notify-send} run by the reactor
(L{twisted.internet.utils.getProcessValue}): nothing blocks, and nothing is
shown where it is not installed or no notification service answers it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tkinter as tk
from collections.abc import Callable
from typing import Any

from twisted.internet import utils
from twisted.logger import Logger

log = Logger(namespace="chatclient")

#: The urgency bit of C{WM_HINTS}' flags (Xutil.h's C{XUrgencyHint}).
URGENCY = 1 << 8


class _WMHints(ctypes.Structure):
    _fields_ = [
        ("flags", ctypes.c_long),
        ("input", ctypes.c_int),
        ("initial_state", ctypes.c_int),
        ("icon_pixmap", ctypes.c_ulong),
        ("icon_window", ctypes.c_ulong),
        ("icon_x", ctypes.c_int),
        ("icon_y", ctypes.c_int),
        ("icon_mask", ctypes.c_ulong),
        ("window_group", ctypes.c_ulong),
    ]


class X11Hints:
    """
    The urgency hint of one Tk toplevel, through a display connection of
    our own.
    """

    def __init__(self, xlib: Any, display: int, window: int) -> None:
        self._xlib = xlib
        self._display = display
        self.window = window

    @classmethod
    def open(cls, root: tk.Misc) -> X11Hints | None:
        """
        @return: The hints of C{root}'s window, or L{None} where Tk does not
            draw on X11 or Xlib cannot be loaded.
        """
        if root.tk.call("tk", "windowingsystem") != "x11":
            return None
        path = ctypes.util.find_library("X11")
        if path is None:
            return None
        try:
            xlib = ctypes.cdll.LoadLibrary(path)
        except OSError:
            return None
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XGetWMHints.restype = ctypes.POINTER(_WMHints)
        xlib.XGetWMHints.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        xlib.XSetWMHints.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(_WMHints),
        ]
        xlib.XFree.argtypes = [ctypes.c_void_p]
        xlib.XFlush.argtypes = [ctypes.c_void_p]
        xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xlib.XQueryTree.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulong,
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_uint),
        ]
        name = str(root.winfo_screen()).encode()
        display = xlib.XOpenDisplay(name)
        if not display:
            return None
        # Tk keeps WM_HINTS on the toplevel's wrapper: the parent of the
        # window Tk draws in.
        rootWindow, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.c_void_p(), ctypes.c_uint()
        inner = root.winfo_id()
        if not xlib.XQueryTree(display, inner, rootWindow, parent, children, count):
            xlib.XCloseDisplay(display)
            return None
        if children:
            xlib.XFree(children)
        return cls(xlib, display, parent.value or inner)

    def urgent(self) -> bool:
        """
        @return: Whether the window's urgency hint is set.
        """
        hints = self._xlib.XGetWMHints(self._display, self.window)
        if not hints:
            return False
        try:
            return bool(hints.contents.flags & URGENCY)
        finally:
            self._xlib.XFree(hints)

    def setUrgent(self, urgent: bool) -> None:
        """
        Set or clear the urgency hint, keeping Tk's other hints.
        """
        xlib, display = self._xlib, self._display
        found = xlib.XGetWMHints(display, self.window)
        hints = _WMHints()
        if found:
            hints = _WMHints.from_buffer_copy(found.contents)
            xlib.XFree(found)
        if urgent:
            hints.flags |= URGENCY
        else:
            hints.flags &= ~URGENCY
        xlib.XSetWMHints(display, self.window, ctypes.byref(hints))
        xlib.XFlush(display)

    def close(self) -> None:
        if self._display:
            self._xlib.XCloseDisplay(self._display)
            self._display = 0


Notifier = Callable[[str, str], object]


def notify_send(
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[..., Any] = utils.getProcessValue,
) -> Notifier | None:
    """
    @return: What shows a desktop notification with C{notify-send} (its
        summary and body), or L{None} when C{notify-send} is not installed.
    """
    program = which("notify-send")
    if program is None:
        return None

    def notify(summary: str, body: str) -> object:
        arguments = ("--app-name=Chat", "--", summary, body)
        running = run(program, arguments, env=dict(os.environ))
        # No notification service, or an old notify-send: nothing shown.
        return running.addErrback(
            lambda f: log.debug("notify-send failed: {f}", f=f.getErrorMessage())
        )

    return notify


class Attention:
    """
    Asks for the reader's attention for a window, and stops asking.

    @ivar hints: The window's urgency hint, or L{None} where it cannot be
        set (or before it is first wanted).
    @ivar notify: Shows a desktop notification, or L{None} when there is no
        way to.
    """

    def __init__(
        self,
        root: tk.Misc,
        notify: Notifier | None,
        openHints: Callable[[tk.Misc], X11Hints | None] = X11Hints.open,
    ) -> None:
        self.root = root
        self.notify = notify
        self.hints: X11Hints | None = None
        self._openHints: Callable[[tk.Misc], X11Hints | None] | None = openHints
        self.wanted = False

    def _hints(self) -> X11Hints | None:
        # Opened once the window is on the screen: before, the X server may
        # not know the window Tk made yet.
        if self._openHints is not None and self.root.winfo_ismapped():
            self.hints, self._openHints = self._openHints(self.root), None
        return self.hints

    def want(self, summary: str, body: str) -> None:
        """
        Set the urgency hint, ring the bell and show a notification.
        """
        self.wanted = True
        hints = self._hints()
        if hints is not None:
            hints.setUrgent(True)
        self.root.bell()
        if self.notify is not None:
            self.notify(summary, body)

    def clear(self) -> None:
        """
        The reader is back: clear the urgency hint.
        """
        if self.wanted and self.hints is not None:
            self.hints.setUrgent(False)
        self.wanted = False

    def close(self) -> None:
        if self.hints is not None:
            self.hints.close()
            self.hints = None
