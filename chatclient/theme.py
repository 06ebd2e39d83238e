"""
The desktop client's look, which the server console shares: the light and
dark palettes, the colours of each kind of line, of names and of the status
line (each readable at 4.5:1 or more on its background), the ttk theme made
from a palette, and drawing at a scale for HiDPI screens.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from chatclient.model import PALETTE

#: Line colours readable on each palette's panel (contrast of at least
#: 4.5:1, checked by the tests).
LINE_COLOURS: dict[str, dict[str, str]] = {
    "light": {
        "own": "#34495e",
        "action": "#6c3483",
        "private": "#7b1fa2",
        "join": "#1e8449",
        "leave": "#a04000",
        "rename": "#2471a3",
        "info": "#5d6d7e",
        "error": "#c0392b",
        "notice": "#616a74",
        "separator": "#2471a3",
    },
    "dark": {
        "own": "#c8d3e6",
        "action": "#d2a8ff",
        "private": "#f0a8e0",
        "join": "#7ee2a8",
        "leave": "#ffab70",
        "rename": "#79c0ff",
        "info": "#a9b4c4",
        "error": "#ff7b72",
        "notice": "#a9b1bd",
        "separator": "#79c0ff",
    },
}

#: Name colours on the dark palette's panel, in the order of
#: L{chatclient.model.PALETTE} (which is for the light one).
DARK_NAMES = (
    "#ff8a80",  # red
    "#82b1ff",  # blue
    "#69f0ae",  # green
    "#d7a6ff",  # purple
    "#ffb86c",  # orange
    "#64dfc8",  # teal
    "#f1d36b",  # mustard
    "#9ecbff",  # navy
    "#ff8fc8",  # pink
    "#d7b59a",  # brown
    "#5fe0f0",  # cyan
    "#b8c4d4",  # slate
)

NAME_COLOURS: dict[str, tuple[str, ...]] = {"light": PALETTE, "dark": DARK_NAMES}

STATUS_COLOURS_BY_THEME: dict[str, dict[str, str]] = {
    "light": {
        "info": "#34495e",
        "ok": "#17703a",
        "warning": "#8a5c00",
        "error": "#c0392b",
    },
    "dark": {
        "info": "#a9b4c4",
        "ok": "#7ee2a8",
        "warning": "#f1d36b",
        "error": "#ff7b72",
    },
}
STATUS_COLOURS = STATUS_COLOURS_BY_THEME["light"]

#: Our theme's two palettes.
PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "bg": "#f4f5f7",
        "panel": "#ffffff",
        "fg": "#1d2330",
        "muted": "#667085",
        "accent": "#2f6fed",
        "border": "#d9dde5",
        "select": "#dbe6fd",
        "mention": "#fff2a8",
        "history": "#8a94a6",
        "accentActive": "#2458c4",
        "link": "#1a5fb4",
    },
    "dark": {
        "bg": "#1e2127",
        "panel": "#282c34",
        "fg": "#e6e9ef",
        "muted": "#8b93a1",
        "accent": "#5b8def",
        "border": "#3a3f4b",
        "select": "#34466b",
        "mention": "#5c4b00",
        "history": "#7d8594",
        "accentActive": "#4a7bd8",
        "link": "#79c0ff",
    },
}


def screen_scale(root: tk.Misc) -> float:
    """
    @return: How much larger than a 96 DPI screen to draw, from what the X
        server (or the X resources' C{Xft.dpi}) says an inch is: 1.0 at 96
        DPI or less, 2.0 at 192.
    """
    try:
        dpi = float(root.winfo_fpixels("1i"))
    except (tk.TclError, ValueError):
        return 1.0
    return max(1.0, round(dpi / 96.0 * 4) / 4)


def apply_scale(root: tk.Misc, scale: float) -> None:
    """
    Draw at C{scale}: fonts are sized in points, so setting Tk's points per
    pixel scales every font; padding and sizes in pixels are scaled by the
    window with L{ChatWindow.px}.
    """
    root.tk.call("tk", "scaling", 96.0 * scale / 72.0)


def apply_theme(root: tk.Misc, theme: str, scale: float = 1.0) -> dict[str, str]:
    """
    Style every ttk widget with our theme in C{theme}'s palette, its
    padding scaled by C{scale}.

    @return: The palette.
    """

    def px(*sizes: int) -> tuple[int, ...] | int:
        scaled = tuple(round(size * scale) for size in sizes)
        return scaled[0] if len(scaled) == 1 else scaled

    colours = PALETTES[theme]
    style = ttk.Style(root)
    style.theme_use("clam")
    bg, panel, fg = colours["bg"], colours["panel"], colours["fg"]
    border, muted, accent = colours["border"], colours["muted"], colours["accent"]
    style.configure(".", background=bg, foreground=fg, fieldbackground=panel)
    style.configure(".", bordercolor=border, focuscolor=accent, troughcolor=bg)
    style.configure(".", lightcolor=bg, darkcolor=bg, insertcolor=fg)
    style.configure(".", selectbackground=colours["select"], selectforeground=fg)
    style.configure("TFrame", background=bg)
    style.configure("TLabel", background=bg, foreground=fg)
    style.configure("Topic.TLabel", background=panel, foreground=muted)
    style.configure("TEntry", fieldbackground=panel, foreground=fg, padding=px(6))
    style.configure("TEntry", lightcolor=border, darkcolor=border)
    style.map("TEntry", lightcolor=[("focus", accent)], darkcolor=[("focus", accent)])
    style.configure("TButton", padding=px(12, 5), background=panel, foreground=fg)
    style.configure("TButton", lightcolor=panel, darkcolor=panel)
    style.map("TButton", background=[("active", colours["select"])])
    style.configure("Accent.TButton", background=accent, foreground="#ffffff")
    style.configure("Accent.TButton", lightcolor=accent, darkcolor=accent)
    style.map("Accent.TButton", background=[("active", colours["accentActive"])])
    style.configure("TNotebook", background=bg, borderwidth=0, tabmargins=px(0))
    style.configure("TNotebook", lightcolor=border, darkcolor=border)
    style.configure("TNotebook.Tab", padding=px(14, 6), background=bg, foreground=muted)
    style.configure("TNotebook.Tab", lightcolor=bg, darkcolor=bg)
    style.map(
        "TNotebook.Tab",
        background=[("selected", panel)],
        foreground=[("selected", fg)],
        lightcolor=[("selected", accent)],
    )
    style.configure("Treeview", background=panel, fieldbackground=panel, foreground=fg)
    style.configure("Treeview", rowheight=px(22), borderwidth=px(1))
    style.configure("Treeview", lightcolor=border, darkcolor=border, bordercolor=border)
    style.map(
        "Treeview",
        background=[("selected", colours["select"])],
        foreground=[("selected", fg)],
        # The focus shows: a list has no other ring.
        bordercolor=[("focus", accent)],
        lightcolor=[("focus", accent)],
        darkcolor=[("focus", accent)],
    )
    style.configure("Treeview.Heading", background=bg, foreground=muted)
    style.configure("Treeview.Heading", relief="flat", padding=px(4, 3))
    style.configure("Treeview.Heading", lightcolor=bg, darkcolor=bg)
    style.map("Treeview.Heading", background=[("active", colours["select"])])
    for orient in ("Vertical", "Horizontal"):
        name = f"{orient}.TScrollbar"
        style.configure(name, background=colours["border"], troughcolor=panel)
        style.configure(name, arrowcolor=muted, bordercolor=panel)
        style.configure(name, lightcolor=colours["border"], darkcolor=border)
        style.configure(name, arrowsize=px(12))
    _style_combobox(root, style, colours)
    style.configure("TCheckbutton", background=bg, foreground=fg)
    style.configure("TCheckbutton", indicatorbackground=panel)
    style.map("TCheckbutton", background=[("active", bg)])
    style.configure("TPanedwindow", background=bg)
    style.configure("Sash", sashthickness=px(6), gripcount=0)
    style.configure("TSeparator", background=border)
    root.configure(background=bg)  # type: ignore[call-arg]
    return colours


def _style_combobox(root: tk.Misc, style: ttk.Style, colours: dict[str, str]) -> None:
    """
    Style the combobox (a read-only one too) and its drop-down list.
    """
    panel, fg, border = colours["panel"], colours["fg"], colours["border"]
    style.configure("TCombobox", fieldbackground=panel, foreground=fg)
    style.configure("TCombobox", background=panel, arrowcolor=colours["muted"])
    style.configure("TCombobox", lightcolor=border, darkcolor=border)
    style.map(
        "TCombobox",
        fieldbackground=[("readonly", panel)],
        foreground=[("readonly", fg)],
        selectbackground=[("readonly", panel)],
        selectforeground=[("readonly", fg)],
        background=[("active", colours["select"])],
    )
    root.option_add("*TCombobox*Listbox.background", panel)
    root.option_add("*TCombobox*Listbox.foreground", fg)
    root.option_add("*TCombobox*Listbox.selectBackground", colours["select"])
    root.option_add("*TCombobox*Listbox.selectForeground", fg)
