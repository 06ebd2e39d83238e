"""
The Tk window: the connect form, the chat view, the users panel, the input
line and the status line, bound to a L{ChatModel} and a L{ChatSession}.

Nothing here blocks: there is no dialog box and no nested event loop, since
Tk runs inside the reactor (L{twisted.internet.tksupport}) and anything that
held Tk would hold the network too.  Problems are shown in the status line
and in the chat view.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Sequence
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

from zope.interface import implementer

from chatclient.entry import InputHistory, NameCompleter
from chatclient.model import (
    PALETTE,
    ChatModel,
    Conversation,
    IChatView,
    Status,
    ViewLine,
    colour_index,
    render,
)
from chatclient.search import Hit, Search
from chatclient.session import ChatSession
from chatwire import lines

#: How each kind of line looks, in each palette: Text tag options (a
#: colour key of the palette's C{lines}, or a font variant).
KIND_STYLES: dict[str, dict[str, str]] = {
    "message": {},
    "own": {"foreground": "own"},
    "action": {"foreground": "action", "font": "italic"},
    "private": {"foreground": "private"},
    "join": {"foreground": "join"},
    "leave": {"foreground": "leave"},
    "rename": {"foreground": "rename"},
    "info": {"foreground": "info"},
    "error": {"foreground": "error", "font": "bold"},
    "notice": {"foreground": "notice", "font": "italic"},
    "separator": {"foreground": "separator", "justify": "center"},
}

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
    style.configure("Treeview", rowheight=px(22), borderwidth=0)
    style.configure("Treeview", lightcolor=border, darkcolor=border)
    style.map(
        "Treeview",
        background=[("selected", colours["select"])],
        foreground=[("selected", fg)],
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
    style.configure("TCheckbutton", background=bg, foreground=fg)
    style.configure("TCheckbutton", indicatorbackground=panel)
    style.map("TCheckbutton", background=[("active", bg)])
    style.configure("TPanedwindow", background=bg)
    style.configure("Sash", sashthickness=px(6), gripcount=0)
    style.configure("TSeparator", background=border)
    root.configure(background=bg)  # type: ignore[call-arg]
    return colours


@implementer(IChatView)
class ChatWindow:
    """
    The client's window.

    @ivar form: The connect form (host, port, name, the password once the
        server asks for one, TLS, Connect).
    @ivar chat: The chat view, users panel and input line.
    @ivar text: The chat view's Text widget (read-only).
    @ivar users: The users panel's Listbox.
    @ivar entry: The input line.
    @ivar status: The status line's label.
    @ivar reconnectButton: "Reconnect now", shown while waiting to retry.
    """

    def __init__(
        self,
        root: tk.Tk,
        model: ChatModel,
        session: ChatSession,
        *,
        host: str = "localhost",
        port: int = 8123,
        name: str = "",
        tls: bool = False,
        trust: str = "",
        theme: str = "light",
        geometry: str = "900x560",
        scale: float | None = None,
    ) -> None:
        """
        @param tls: Whether the TLS box starts ticked.
        @param trust: What TLS trusts, in words (C{--ca}), or C{""} for the
            platform's certificate authorities.
        @param scale: How much larger than at 96 DPI to draw (fonts,
            padding, the default size); L{None} for what the screen says
            (L{screen_scale}).
        """
        self.root = root
        self.model = model
        self.session = session
        self.history = InputHistory()
        self.completer = NameCompleter()
        self.scale = screen_scale(root) if scale is None else scale
        apply_scale(root, self.scale)
        root.geometry(_scaled_geometry(geometry, self.scale))
        root.minsize(self.px(480), self.px(300))
        self.theme = theme
        self.colours = apply_theme(root, theme, self.scale)
        self.lineColours = LINE_COLOURS[theme]
        self.nameColours = NAME_COLOURS[theme]
        self.statusColours = STATUS_COLOURS_BY_THEME[theme]
        self.views: dict[int, tuple[ttk.Frame, ttk.Label, tk.Text, Conversation]] = {}
        self._showing: list[int] = []
        #: Whether each view (by conversation id) keeps to its end.
        self.following: dict[int, bool] = {}
        self._fonts()
        self._buildStatus()
        self._buildForm(host, port, name, tls, trust)
        self._buildChat()
        root.bind("<FocusIn>", lambda e: model.setFocused(True), add="+")
        root.bind("<FocusOut>", lambda e: model.setFocused(False), add="+")
        self.showLogin("")
        model.attach(self)

    def px(self, size: int) -> int:
        """
        @return: C{size} pixels at 96 DPI, scaled for this screen.
        """
        return round(size * self.scale)

    def unscaledSize(self) -> str:
        """
        @return: The window's size as C{WxH} at 96 DPI (what is remembered,
            so that the next start scales it again).
        """
        root = self.root
        width = round(root.winfo_width() / self.scale)
        height = round(root.winfo_height() / self.scale)
        return f"{width}x{height}"

    def _fonts(self) -> None:
        base = tkfont.nametofont("TkFixedFont").copy()
        base.configure(size=10)  # points: Tk's scaling makes them pixels
        self.font = base
        self.fonts = {
            "bold": _variant(base, weight="bold"),
            "italic": _variant(base, slant="italic"),
        }

    # Building

    def _buildStatus(self) -> None:
        bar = ttk.Frame(self.root, padding=(self.px(6), self.px(3)))
        bar.pack(side="bottom", fill="x")
        self.status = ttk.Label(bar, anchor="w")
        self.status.pack(side="left", fill="x", expand=True)
        self.reconnectButton = ttk.Button(
            bar, text="Reconnect now", command=self.session.reconnectNow
        )
        ttk.Separator(self.root).pack(side="bottom", fill="x")

    def _buildForm(
        self, host: str, port: int, name: str, tls: bool, trust: str
    ) -> None:
        self.formOuter = ttk.Frame(self.root)
        form = self.form = ttk.Frame(self.formOuter, padding=self.px(24))
        form.place(relx=0.5, rely=0.45, anchor="center")
        ttk.Label(form, text="Connect to a chat server", font="TkHeadingFont").grid(
            row=0, column=0, columnspan=3, sticky="w", pady=(self.px(0), self.px(12))
        )
        self.hostVar = tk.StringVar(form, host)
        self.portVar = tk.StringVar(form, str(port))
        self.nameVar = tk.StringVar(form, name)
        # Masked, cleared once logged in; the session keeps the password
        # in memory for logging in again.
        self.passwordVar = tk.StringVar(form, "")
        self.tlsVar = tk.BooleanVar(form, tls)
        self.formEntries: dict[str, ttk.Entry] = {}
        self.formErrors: dict[str, ttk.Label] = {}
        self.formLabels: dict[str, ttk.Label] = {}
        fields = [("host", "Host", self.hostVar), ("port", "Port", self.portVar)]
        fields += [("name", "Name", self.nameVar)]
        fields += [("password", "Password", self.passwordVar)]
        for row, (key, label, var) in enumerate(fields, start=1):
            title = ttk.Label(form, text=label)
            title.grid(row=row, column=0, sticky="w", pady=self.px(3))
            entry = ttk.Entry(
                form, textvariable=var, width=28, show="*" if key == "password" else ""
            )
            entry.grid(row=row, column=1, sticky="w", padx=self.px(8), pady=self.px(3))
            entry.bind("<Return>", self.submit)
            entry.bind("<KP_Enter>", self.submit)
            error = ttk.Label(form, foreground=self.statusColours["error"])
            error.grid(row=row, column=2, sticky="w")
            self.formLabels[key] = title
            self.formEntries[key] = entry
            self.formErrors[key] = error
        # The password row shows once a server asks for a password.
        for widget in self._passwordRow():
            widget.grid_remove()
        self.tlsBox = ttk.Checkbutton(
            form, text="Use TLS (verify the server's certificate)", variable=self.tlsVar
        )
        self.tlsBox.grid(row=5, column=1, sticky="w", padx=self.px(8), pady=self.px(3))
        self.tlsBox.bind("<Return>", self.submit)
        self.formErrors["tls"] = ttk.Label(
            form, foreground=self.statusColours["error"], wraplength=360
        )
        self.formErrors["tls"].grid(row=5, column=2, sticky="w")
        trusted = trust or "the system's certificate authorities"
        self.trustLabel = ttk.Label(
            form, text=f"trusting {trusted}", foreground=self.statusColours["info"]
        )
        self.trustLabel.grid(row=6, column=1, columnspan=2, sticky="w", padx=self.px(8))
        # Registers the name with the password once logged in (--accounts).
        self.registerVar = tk.BooleanVar(form, False)
        self.registerBox = ttk.Checkbutton(
            form,
            text="Create account (register this name with the password)",
            variable=self.registerVar,
            command=self._registerToggled,
        )
        self.registerBox.grid(
            row=7, column=1, columnspan=2, sticky="w", padx=self.px(8)
        )
        self.connectButton = ttk.Button(
            form, text="Connect", style="Accent.TButton", command=self.submit
        )
        self.connectButton.grid(
            row=8, column=1, sticky="w", padx=self.px(8), pady=(self.px(12), self.px(0))
        )

    def _passwordRow(self) -> tuple[tk.Widget, ...]:
        key = "password"
        return (self.formLabels[key], self.formEntries[key], self.formErrors[key])

    def passwordShown(self) -> bool:
        """
        @return: Whether the form shows its password field.
        """
        return bool(self.formEntries["password"].winfo_manager())

    def _buildChat(self) -> None:
        chat = self.chat = ttk.Frame(self.root)
        # The input row is packed first so that it keeps its room when the
        # window is small; the panes take what is left.
        row = ttk.Frame(chat, padding=(self.px(6), self.px(6)))
        row.pack(side="bottom", fill="x")
        panes = ttk.PanedWindow(chat, orient="horizontal")
        panes.pack(fill="both", expand=True)
        self._buildSearch(chat, panes)

        self.notebook = ttk.Notebook(panes)
        self.notebook.bind("<<NotebookTabChanged>>", self._tabChanged)
        panes.add(self.notebook, weight=4)

        right = ttk.Frame(panes, padding=(self.px(6), self.px(4)))
        self.usersLabel = ttk.Label(right, text="Online (0)", font="TkHeadingFont")
        self.usersLabel.pack(anchor="w")
        colours = self.colours
        self.users = tk.Listbox(
            right,
            width=18,
            height=8,
            activestyle="none",
            font=self.font,
            borderwidth=0,
            highlightthickness=0,
            background=colours["panel"],
            foreground=colours["fg"],
            selectbackground=colours["select"],
        )
        self.users.pack(fill="both", expand=True, pady=(self.px(4), self.px(8)))
        self.users.bind("<Double-1>", self._privateWithSelected)
        self.roomsLabel = ttk.Label(right, text="Rooms", font="TkHeadingFont")
        self.roomsLabel.pack(anchor="w")
        self.roomsTree = ttk.Treeview(
            right, columns=("users", "topic"), show="tree headings", height=6
        )
        self.roomsTree.heading("#0", text="room")
        self.roomsTree.heading("users", text="users")
        self.roomsTree.heading("topic", text="topic")
        self.roomsTree.column("#0", width=self.px(90))
        self.roomsTree.column("users", width=self.px(56), anchor="e")
        self.roomsTree.column("topic", width=self.px(120))
        self.roomsTree.pack(fill="both", expand=True, pady=(self.px(4), self.px(0)))
        self.roomsTree.bind("<Double-1>", self._joinSelectedRoom)
        self.roomsTree.bind("<Return>", self._joinSelectedRoom)
        ttk.Button(right, text="Refresh rooms", command=self._refreshRooms).pack(
            anchor="w", pady=(self.px(4), self.px(0))
        )
        panes.add(right, weight=1)

        self.entry = entry = ttk.Entry(row, font=self.font)
        entry.pack(side="left", fill="x", expand=True)
        self.sendButton = ttk.Button(row, text="Send", command=self.sendInput)
        self.sendButton.pack(side="left", padx=(self.px(6), self.px(0)))
        entry.bind("<Return>", self.sendInput)
        entry.bind("<KP_Enter>", self.sendInput)
        entry.bind("<Up>", self._historyUp)
        entry.bind("<Down>", self._historyDown)
        entry.bind("<Tab>", self._complete)
        entry.bind("<KeyPress>", lambda e: self.completer.reset())
        self.closeButton = ttk.Button(row, text="Close tab", command=self.closeTab)
        self.closeButton.pack(side="left", padx=(self.px(6), self.px(0)))
        self.root.bind("<Control-w>", lambda e: self.closeTab())
        self.root.bind("<Control-f>", self.openSearch)

    def _buildSearch(self, chat: ttk.Frame, panes: ttk.PanedWindow) -> None:
        """
        The search bar (Ctrl+F), above the tabs while open: the words, and
        the lines found, newest first; a double-click (or Return) on one
        shows its tab and the line when the tab holds it.
        """
        bar = self.searchBar = ttk.Frame(chat, padding=(self.px(6), self.px(4)))
        self._searchPanes = panes
        row = ttk.Frame(bar)
        row.pack(fill="x")
        ttk.Label(row, text="Search").pack(side="left")
        entry = self.searchEntry = ttk.Entry(row, font=self.font)
        entry.pack(side="left", fill="x", expand=True, padx=(self.px(6), 0))
        entry.bind("<Return>", self._search)
        entry.bind("<KP_Enter>", self._search)
        entry.bind("<Escape>", self.closeSearch)
        ttk.Button(row, text="Find", command=self._search).pack(
            side="left", padx=(self.px(6), 0)
        )
        self.searchOlderButton = ttk.Button(
            row, text="Older", command=self.model.searchOlder, state="disabled"
        )
        self.searchOlderButton.pack(side="left", padx=(self.px(6), 0))
        ttk.Button(row, text="Close", command=self.closeSearch).pack(
            side="left", padx=(self.px(6), 0)
        )
        self.searchLabel = ttk.Label(bar, text="")
        self.searchLabel.pack(anchor="w")
        colours = self.colours
        self.results = tk.Listbox(
            bar,
            height=6,
            activestyle="none",
            font=self.font,
            borderwidth=0,
            highlightthickness=0,
            background=colours["panel"],
            foreground=colours["fg"],
            selectbackground=colours["select"],
        )
        self.results.pack(fill="x")
        self.results.bind("<Double-1>", self._jump)
        self.results.bind("<Return>", self._jump)
        self.results.bind("<Escape>", self.closeSearch)

    def openSearch(self, event: object = None) -> str:
        """
        Show the search bar, its words ready to type.
        """
        if not self.searchBar.winfo_manager():
            self.searchBar.pack(before=self._searchPanes, fill="x")
        self.searchEntry.focus_set()
        self.searchEntry.select_range(0, "end")
        return "break"

    def closeSearch(self, event: object = None) -> str:
        self.searchBar.pack_forget()
        self.entry.focus_set()
        return "break"

    def _search(self, event: object = None) -> str:
        self.model.searchFor(self.searchEntry.get())
        return "break"

    def _jump(self, event: object = None) -> str:
        for index in self.results.curselection():
            self.model.jumpTo(self.model.search.hits[index])
        return "break"

    def showHit(self, conversation: Conversation, hit: Hit) -> None:
        text = self._view(conversation)
        needle = "".join(part.text for part in render(hit.entry.line)[1])
        found = text.search(needle, "end", backwards=True, exact=True)
        if not found:
            return
        text.tag_remove("found", "1.0", "end")
        text.tag_add("found", f"{found} linestart", f"{found} lineend")
        text.see(found)
        self.following[id(conversation)] = False

    def _newText(self, conversation: Conversation) -> None:
        frame = ttk.Frame(self.notebook)
        topic = ttk.Label(
            frame, style="Topic.TLabel", anchor="w", padding=(self.px(8), self.px(4))
        )
        topic.pack(side="top", fill="x")
        colours = self.colours
        text = tk.Text(
            frame,
            wrap="word",
            height=10,
            state="disabled",
            font=self.font,
            padx=self.px(8),
            pady=self.px(6),
            undo=False,
            highlightthickness=0,
            borderwidth=0,
            cursor="arrow",
            background=colours["panel"],
            foreground=colours["fg"],
        )
        scroll = ttk.Scrollbar(frame, orient="vertical", command=text.yview)

        key = id(conversation)
        self.following[key] = True

        def scrolled(first: float | str, last: float | str) -> None:
            scroll.set(first, last)
            if not text.winfo_ismapped():
                # Laid out before it is shown: nobody scrolled.
                return
            self.following[key] = float(last) >= 1.0
            if float(first) <= 0.0 and float(last) < 1.0:
                self.model.olderHistory(conversation)

        def resized(event: object) -> None:
            # Shown for the first time, or resized: keep to the end when
            # the reader was there.
            if self.following.get(key, True):
                text.yview_moveto(1.0)

        text.configure(yscrollcommand=scrolled)
        text.bind("<Configure>", resized)
        scroll.pack(side="right", fill="y")
        text.pack(side="left", fill="both", expand=True)
        for kind, style in KIND_STYLES.items():
            options: dict[str, Any] = dict(style)
            if "font" in style:
                options["font"] = self.fonts[style["font"]]
            if "foreground" in style:
                options["foreground"] = self.lineColours[style["foreground"]]
            if kind == "message":
                options["foreground"] = colours["fg"]
            if kind == "separator":
                options["spacing1"] = options["spacing3"] = self.px(4)
            text.tag_configure(kind, options)
        text.tag_configure("time", foreground=colours["muted"])
        bold = self.fonts["bold"]
        for index, colour in enumerate(self.nameColours):
            text.tag_configure(f"name{index}", foreground=colour, font=bold)
        text.tag_configure("history", foreground=colours["history"])
        text.tag_configure("mention", background=colours["mention"])
        text.tag_configure("found", background=colours["select"])
        text.tag_raise("history")
        text.tag_raise("mention")
        self.views[id(conversation)] = (frame, topic, text, conversation)

    def _following(self, conversation: Conversation, text: tk.Text) -> bool:
        """
        Whether the reader is at the end of C{conversation}'s view (or has
        not seen it yet), so that new lines keep it there.
        """
        if not text.winfo_ismapped():
            return self.following.get(id(conversation), True)
        return text.yview()[1] >= 1.0

    def _view(self, conversation: Conversation) -> tk.Text:
        if id(conversation) not in self.views:
            self._newText(conversation)
        return self.views[id(conversation)][2]

    @property
    def text(self) -> tk.Text:
        """
        The selected conversation's chat view.
        """
        return self._view(self.model.selected)

    def _tabChanged(self, event: object = None) -> None:
        try:
            selected = self.notebook.select()
        except tk.TclError:
            return
        for frame, _, _, conversation in self.views.values():
            if str(frame) == selected and conversation is not self.model.selected:
                self.model.select(conversation)
                return

    def closeTab(self) -> None:
        """
        Close the selected tab: part its room, or hide the private
        conversation.
        """
        self.model.close(self.model.selected)

    def _privateWithSelected(self, event: object = None) -> None:
        chosen = self.users.curselection()
        if chosen:
            name = str(self.users.get(chosen[0]))
            if name != self.model.ownName:
                self.model.select(self.model.openPrivate(name))

    def _joinSelectedRoom(self, event: object = None) -> str:
        for item in self.roomsTree.selection():
            self.session.send(f"/join {self.roomsTree.item(item, 'text')}")
        return "break"

    def _refreshRooms(self) -> None:
        self.session.send("/rooms")

    # Actions

    def submit(self, event: object = None) -> str:
        """
        Connect (or try another name on the open connection) with what the
        form says.
        """
        self._clearFormErrors()
        host = self.hostVar.get().strip()
        name = self.nameVar.get().strip()
        try:
            port = int(self.portVar.get().strip())
            if not 0 < port < 65536:
                raise ValueError(port)
        except ValueError:
            port = 0
        problems = {
            "host": "" if host else "enter the server's host name",
            "port": "" if port else "a port is a number from 1 to 65535",
            "name": "" if name else "enter a name",
        }
        for key, problem in problems.items():
            self.formErrors[key].configure(text=problem)
        if any(problems.values()):
            return "break"
        password = self.passwordVar.get()
        register = self.registerVar.get()
        if register and not password:
            self.formErrors["password"].configure(
                text="choose a password for the account"
            )
            return "break"
        self.session.connect(
            host, port, name, password, self.tlsVar.get(), register=register
        )
        return "break"

    def _registerToggled(self) -> None:
        if self.registerVar.get():
            self._showPasswordRow()
            self.formEntries["password"].focus_set()

    def sendInput(self, event: object = None) -> str:
        """
        Send what the input line holds.
        """
        text = self.entry.get()
        if not text.strip():
            return "break"
        error = self.session.send(text)
        if error:
            self.model.addNotice(f"Not sent: {error}", "error")
            return "break"
        self.history.add(text)
        self.entry.delete(0, "end")
        return "break"

    def _setInput(self, text: str | None, cursor: int | None = None) -> str:
        if text is not None:
            self.entry.delete(0, "end")
            self.entry.insert(0, text)
            self.entry.icursor("end" if cursor is None else cursor)
        return "break"

    def _historyUp(self, event: object) -> str:
        return self._setInput(self.history.previous(self.entry.get()))

    def _historyDown(self, event: object) -> str:
        return self._setInput(self.history.next(self.entry.get()))

    def _complete(self, event: object) -> str:
        text, cursor = self.entry.get(), self.entry.index("insert")
        completed = self.completer.complete(text, cursor, self.model.userNames())
        if completed is None:
            return "break"
        return self._setInput(*completed)

    # IChatView

    def _chunks(self, batch: Sequence[ViewLine]) -> list[object]:
        chunks: list[object] = []
        for line in batch:
            tags: tuple[str, ...] = (line.kind,)
            if line.mention:
                tags += ("mention",)
            if line.history:
                tags += ("history",)
            chunks += [f"{line.time} ", ("time", *tags[1:])]
            for part in line.parts:
                if part.name and not line.history:
                    chunks += [part.text, (*tags, f"name{colour_index(part.name)}")]
                else:
                    chunks += [part.text, tags]
            chunks += ["\n", tags]
        return chunks

    def appendLines(
        self, batch: Sequence[ViewLine], trim: int, conversation: Conversation
    ) -> None:
        text = self._view(conversation)
        following = self._following(conversation, text)
        top = int(text.index("@0,0").split(".")[0])
        text.configure(state="normal")
        text.insert("end", *self._chunks(batch))  # type: ignore[arg-type]
        if trim:
            text.delete("1.0", f"{trim + 1}.0")
        text.configure(state="disabled")
        if following:
            text.yview_moveto(1.0)
        elif trim:
            text.yview(f"{max(1, top - trim)}.0")

    def insertLines(
        self, batch: Sequence[ViewLine], index: int, conversation: Conversation
    ) -> None:
        text = self._view(conversation)
        top = int(text.index("@0,0").split(".")[0])
        following = self._following(conversation, text) and index > 0
        text.configure(state="normal")
        text.insert(f"{index + 1}.0", *self._chunks(batch))  # type: ignore[arg-type]
        text.configure(state="disabled")
        if following:
            text.yview_moveto(1.0)
        elif index < top:
            # What the reader was reading stays where it was.
            text.yview(f"{top + len(batch)}.0")

    def showConversations(
        self, conversations: Sequence[Conversation], selected: Conversation | None
    ) -> None:
        notebook = self.notebook
        wanted = [id(c) for c in conversations]
        # A hidden conversation keeps its view, to show again as it was.
        kept = {id(c) for c in self.model.conversations.values()}
        for key in list(self.views):
            if key not in kept:
                frame = self.views.pop(key)[0]
                self.following.pop(key, None)
                frame.destroy()
        for conversation in conversations:
            self._view(conversation)
        if wanted != self._showing:
            for frame in notebook.tabs():
                notebook.forget(frame)
            for key in wanted:
                notebook.add(self.views[key][0])
            self._showing = wanted
        for conversation in conversations:
            frame = self.views[id(conversation)][0]
            notebook.tab(frame, text=conversation.label)
            self.showTopic(conversation)
        if selected is not None and id(selected) in self.views:
            notebook.select(self.views[id(selected)][0])

    def showTopic(self, conversation: Conversation) -> None:
        view = self.views.get(id(conversation))
        if view is None:
            return
        if conversation.kind == "private":
            words = f"Private conversation with {conversation.name}"
        else:
            words = conversation.topic or "No topic is set"
        view[1].configure(text=words)

    def showRooms(self, rooms: Sequence[lines.RoomEntry]) -> None:
        tree = self.roomsTree
        tree.delete(*tree.get_children())
        for room in rooms:
            tree.insert("", "end", text=room.room, values=(room.members, room.topic))
        self.roomsLabel.configure(text=f"Rooms ({len(rooms)})")

    def showUsers(self, names: Sequence[str]) -> None:
        users = self.users
        users.delete(0, "end")
        for index, name in enumerate(names):
            users.insert("end", name)
            users.itemconfigure(index, foreground=self.nameColours[colour_index(name)])
        self.usersLabel.configure(text=f"Members ({len(names)})")

    def showSearch(self, search: Search) -> None:
        results = self.results
        results.delete(0, "end")
        for hit in search.hits:
            results.insert("end", hit.describe())
        count = len(search.hits)
        self.searchLabel.configure(
            text=f"{count} found for {search.words}"
            + ("" if search.more else " (no more)")
        )
        self.searchOlderButton.configure(state="normal" if search.more else "disabled")
        self.openSearch()
        results.focus_set()
        if count:
            results.selection_set(0)

    def showTitle(self, title: str) -> None:
        self.root.title(title)

    def showStatus(self, status: Status) -> None:
        self.status.configure(
            text=status.text,
            foreground=self.statusColours.get(status.level, self.colours["fg"]),
        )
        if status.canReconnect:
            self.reconnectButton.pack(side="right")
        else:
            self.reconnectButton.pack_forget()

    def showLogin(self, error: str, field: str = "name") -> None:
        self.chat.pack_forget()
        self.formOuter.pack(fill="both", expand=True)
        self._clearFormErrors()
        self.formErrors[field].configure(
            text=error, foreground=self.statusColours["error"]
        )
        if field == "password":
            self._showPasswordRow()
            self.passwordVar.set("")  # a refused password is not kept
            self.formEntries["password"].focus_set()
            return
        nameEntry = self.formEntries["name"]
        nameEntry.focus_set()
        if error and field == "name":
            nameEntry.select_range(0, "end")

    def showPassword(self, name: str) -> None:
        self.chat.pack_forget()
        self.formOuter.pack(fill="both", expand=True)
        self._clearFormErrors()
        self._showPasswordRow()
        self.formErrors["password"].configure(
            text=f"the server asks for the password of {name}",
            foreground=self.statusColours["info"],
        )
        self.formEntries["password"].focus_set()

    def _showPasswordRow(self) -> None:
        for widget in self._passwordRow():
            widget.grid()

    def _clearFormErrors(self) -> None:
        for label in self.formErrors.values():
            label.configure(text="", foreground=self.statusColours["error"])

    def showChat(self) -> None:
        self.passwordVar.set("")  # the session keeps it, in memory only
        self.formOuter.pack_forget()
        self.chat.pack(fill="both", expand=True)
        self.entry.focus_set()

    # For tests and screenshots

    def conversationText(self, name: str) -> str:
        """
        @return: Everything in the chat view of the conversation C{name}.
        """
        conversation = self.model.conversation(name)
        if conversation is None or id(conversation) not in self.views:
            return ""
        return self.views[id(conversation)][2].get("1.0", "end-1c")

    def tabLabels(self) -> list[str]:
        """
        @return: The tabs' labels, in order.
        """
        return [str(self.notebook.tab(t, "text")) for t in self.notebook.tabs()]

    def lineCount(self) -> int:
        """
        @return: How many lines the chat view holds.
        """
        return int(self.text.index("end-1c").split(".")[0]) - 1

    def visibleText(self) -> str:
        """
        @return: Everything in the chat view.
        """
        return self.text.get("1.0", "end-1c")


def _scaled_geometry(geometry: str, scale: float) -> str:
    """
    @return: C{geometry} (C{WxH}, maybe C{+X+Y}) with its size scaled.
    """
    size, plus, place = geometry.partition("+")
    width, x, height = size.partition("x")
    if not (x and width.isdigit() and height.isdigit()) or scale == 1.0:
        return geometry
    scaled = f"{round(int(width) * scale)}x{round(int(height) * scale)}"
    return scaled + plus + place


def _variant(base: tkfont.Font, **options: str) -> tkfont.Font:
    variant = base.copy()
    variant.configure(**options)  # type: ignore[arg-type]
    return variant
