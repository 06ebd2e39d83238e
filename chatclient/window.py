"""
The Tk window: the connect form, the chat view, the users panel, the input
line and the status line, bound to a L{ChatModel} and a L{ChatSession}.

Nothing here blocks: there is no dialog box and no nested event loop, since
Tk runs inside the reactor (L{twisted.internet.tksupport}) and anything that
held Tk would hold the network too.  Problems are shown in the status line
and in the chat view.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
import webbrowser
from collections.abc import Callable, Sequence
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

from zope.interface import implementer

from chatclient.attention import Attention, Notifier
from chatclient.entry import InputHistory, NameCompleter
from chatclient.members import MemberMenu
from chatclient.model import (
    ChatModel,
    Conversation,
    IChatView,
    Status,
    ViewLine,
    colour_index,
    find_links,
    render,
)
from chatclient.passwords import Keyring
from chatclient.search import Hit, Search
from chatclient.session import ChatSession
from chatclient.theme import (
    LINE_COLOURS,
    NAME_COLOURS,
    STATUS_COLOURS_BY_THEME,
    apply_scale,
    apply_theme,
    screen_scale,
)
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


@implementer(IChatView)
class ChatWindow:
    """
    The client's window.

    @ivar form: The connect form (host, port, name, the password once the
        server asks for one, TLS, Connect).
    @ivar chat: The chat view, users panel and input line.
    @ivar text: The chat view's Text widget (read-only).
    @ivar users: The users panel's Listbox (operators shown C{@NAME}, voiced
        members C{+NAME}).
    @ivar memberMenu: A member's context menu and the moderation form.
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
        notify: Notifier | None = None,
        openURL: Callable[[str], object] = webbrowser.open,
        keyring: Keyring | None = None,
        keepPassword: bool = False,
    ) -> None:
        """
        @param tls: Whether the TLS box starts ticked.
        @param trust: What TLS trusts, in words (C{--ca}), or C{""} for the
            platform's certificate authorities.
        @param scale: How much larger than at 96 DPI to draw (fonts,
            padding, the default size); L{None} for what the screen says
            (L{screen_scale}).
        @param notify: Shows a desktop notification (a summary, a body), or
            L{None} for none.
        @param openURL: Opens an http or https link in the browser.
        @param keyring: Where a password is kept when the reader asks;
            by default the system's (L{Keyring}).
        @param keepPassword: Whether the "Remember password" box starts
            ticked (when the keyring can be used).
        """
        self.root = root
        self.openURL = openURL
        self.alerts = Attention(root, notify)
        self.model = model
        self.session = session
        self.keyring = Keyring() if keyring is None else keyring
        self._keepPassword = keepPassword and not self.keyring.unusable
        # The password typed for a login, kept in the keyring once that
        # login succeeds.
        self._toKeep: tuple[str, int, str, str, bool] | None = None
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
        self._hangs: dict[str, set[str]] = {}
        #: Whether each view (by conversation id) keeps to its end.
        self.following: dict[int, bool] = {}
        self._fonts()
        self._buildStatus()
        self._buildForm(host, port, name, tls, trust)
        self._buildChat()
        self.memberMenu = MemberMenu(
            self.users,
            model,
            session.send,
            formParent=self.chat,
            formBefore=self.panes,
            done=self.entry.focus_set,
        )
        root.bind("<FocusIn>", self._focusIn, add="+")
        root.bind("<FocusOut>", lambda e: model.setFocused(False), add="+")
        self._bindKeys()
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
        bar = self.statusBar = ttk.Frame(self.root, padding=(self.px(6), self.px(3)))
        bar.pack(side="bottom", fill="x")
        bar.columnconfigure(0, weight=1)
        self.status = ttk.Label(bar, anchor="w")
        self.status.grid(row=0, column=0, sticky="ew")
        self.reconnectButton = ttk.Button(
            bar, text="Reconnect now", command=self.session.reconnectNow
        )
        # The bar is as tall as the button from the start, so that nothing
        # moves when the button shows.
        bar.rowconfigure(0, minsize=self.reconnectButton.winfo_reqheight())
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
        # Opt-in: the password goes to the system keyring, never to the
        # config file; without a usable keyring the box says why not.
        self.keepVar = tk.BooleanVar(form, self._keepPassword)
        self.keepBox = ttk.Checkbutton(
            form,
            text="Remember password in the system keyring",
            variable=self.keepVar,
        )
        self.keepBox.grid(row=8, column=1, columnspan=2, sticky="w", padx=self.px(8))
        self.keepReason = ttk.Label(
            form, text=self.keyring.unusable, foreground=self.statusColours["info"]
        )
        if self.keyring.unusable:
            self.keepBox.state(["disabled"])
            self.keepReason.grid(
                row=9, column=1, columnspan=2, sticky="w", padx=self.px(8)
            )
        self.connectButton = ttk.Button(
            form, text="Connect", style="Accent.TButton", command=self.submit
        )
        self.connectButton.grid(
            row=10,
            column=1,
            sticky="w",
            padx=self.px(8),
            pady=(self.px(12), self.px(0)),
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
        panes = self.panes = ttk.PanedWindow(chat, orient="horizontal")
        panes.pack(fill="both", expand=True)
        self._buildSearch(chat, panes)

        self.notebook = ttk.Notebook(panes)
        self.notebook.bind("<<NotebookTabChanged>>", self._tabChanged)
        # A click on a tab gives the input back; so does typing while the
        # tabs have the focus.
        self.notebook.bind("<ButtonRelease-1>", self._toInput, add="+")
        self.notebook.bind("<Key>", self._typedOnTabs, add="+")
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
            background=colours["panel"],
            foreground=colours["fg"],
            selectbackground=colours["select"],
            **self._focusRing(),
        )
        self.users.pack(fill="both", expand=True, pady=(self.px(4), self.px(8)))
        self.users.bind("<Double-1>", self._privateWithSelected)
        self.users.bind("<Return>", self._privateWithSelected)
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
        self.roomsTree.bind("<FocusIn>", self._focusFirstRoom, add="+")
        self.refreshButton = ttk.Button(
            right, text="Refresh rooms", command=self._refreshRooms
        )
        self.refreshButton.pack(anchor="w", pady=(self.px(4), self.px(0)))
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
        # Shift+Tab is the focus order's own (ISO_Left_Tab on X11), never
        # completion.
        entry.bind("<KeyPress>", lambda e: self.completer.reset())
        self.closeButton = ttk.Button(row, text="Close tab", command=self.closeTab)
        self.closeButton.pack(side="left", padx=(self.px(6), self.px(0)))
        self.root.bind("<Control-w>", lambda e: self.closeTab())
        self.root.bind("<Control-f>", self.openSearch)
        for widget in (entry, self.notebook, self.users, self.roomsTree):
            self._takeKeys(widget)

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
            # In the focus order, though read-only: the keys scroll it.
            takefocus=1,
            borderwidth=0,
            cursor="arrow",
            background=colours["panel"],
            foreground=colours["fg"],
            **self._focusRing(),
        )
        self._takeKeys(text)
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
        text.tag_configure("link", foreground=colours["link"], underline=True)
        text.tag_bind("link", "<Enter>", lambda e: text.configure(cursor="hand2"))
        text.tag_bind("link", "<Leave>", lambda e: text.configure(cursor="arrow"))
        text.tag_bind("link", "<ButtonRelease-1>", lambda e: self._openLink(text))
        text.tag_raise("history")
        text.tag_raise("mention")
        text.tag_raise("link")
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
            name, _ = lines.split_member(str(self.users.get(chosen[0])))
            if name != self.model.ownName:
                self.model.select(self.model.openPrivate(name))

    def _joinSelectedRoom(self, event: object = None) -> str:
        for item in self.roomsTree.selection():
            self.session.send(f"/join {self.roomsTree.item(item, 'text')}")
        return "break"

    def _refreshRooms(self) -> None:
        self.session.send("/rooms")

    # The keyboard

    def _focusRing(self) -> dict[str, Any]:
        """
        @return: The options that show a classic Tk widget has the focus.
        """
        colours = self.colours
        return {
            "highlightthickness": self.px(2),
            "highlightcolor": colours["accent"],
            "highlightbackground": colours["panel"],
        }

    def _takeKeys(self, widget: tk.Misc) -> None:
        """
        Let C{widget} switch tabs with Ctrl+Tab, Ctrl+Shift+Tab and
        Alt+1..9 before its own bindings see the keys.
        """
        widget.bindtags(("ChatKeys", *widget.bindtags()))

    def _bindKeys(self) -> None:
        bind = self.root.bind_class
        bind("ChatKeys", "<Control-Tab>", lambda e: self.switchTab(1))
        bind("ChatKeys", "<Control-Shift-Tab>", lambda e: self.switchTab(-1))
        with contextlib.suppress(tk.TclError):  # X11's Shift+Tab; not elsewhere
            bind("ChatKeys", "<Control-ISO_Left_Tab>", lambda e: self.switchTab(-1))
        for number in range(1, 10):
            bind("ChatKeys", f"<Alt-Key-{number}>", self._showTabKey(number - 1))

    def _showTabKey(self, index: int) -> Callable[[object], str]:
        return lambda event: self.showTab(index)

    def switchTab(self, step: int) -> str:
        """
        Select the tab C{step} tabs after the selected one (before it, for
        a negative step), round the ends; the input follows.
        """
        tabs = self.model.tabs()
        if tabs:
            try:
                now = tabs.index(self.model.selected)
            except ValueError:
                now = 0
            self.model.select(tabs[(now + step) % len(tabs)])
            self.model.flush()
        self.entry.focus_set()
        return "break"

    def showTab(self, index: int) -> str:
        """
        Select the tab at C{index} (0 for the first), if there is one.
        """
        tabs = self.model.tabs()
        if 0 <= index < len(tabs):
            self.model.select(tabs[index])
            self.model.flush()
        self.entry.focus_set()
        return "break"

    def _toInput(self, event: object = None) -> None:
        if self.chat.winfo_ismapped():
            self.entry.focus_set()

    def _typedOnTabs(self, event: Any) -> str | None:
        if event.char and event.char.isprintable() and not event.state & 0x4:
            self.entry.focus_set()
            self.entry.insert("insert", event.char)
            return "break"
        return None

    def _focusFirstRoom(self, event: object = None) -> None:
        tree = self.roomsTree
        children = tree.get_children()
        if children and not tree.focus():
            tree.focus(children[0])

    def _focusIn(self, event: object = None) -> None:
        self.model.setFocused(True)
        self.alerts.clear()

    def attention(self, conversation: Conversation, line: ViewLine) -> None:
        where = conversation.name or "chat"
        if conversation.kind == "private":
            summary = f"{conversation.name} (private)"
        else:
            summary = f"Mentioned in {where}"
        self.alerts.want(summary, line.text)

    def _openLink(self, text: tk.Text) -> None:
        found = text.tag_prevrange("link", "current + 1c")
        if not found:
            return
        url = text.get(*found)
        if find_links(url) == [(0, len(url))]:
            self.openURL(url)

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
        password = self._keyringPassword(host, port, name, password, register)
        self.session.connect(
            host, port, name, password, self.tlsVar.get(), register=register
        )
        return "break"

    def _keyringPassword(
        self, host: str, port: int, name: str, typed: str, register: bool
    ) -> str:
        """
        Follow the "Remember password" box for a login: a password typed is
        kept once the login succeeds (L{showChat}); none typed is the one
        the keyring holds; an unticked box forgets it.

        @return: The password to log in with.
        """
        self._toKeep = None
        if self.keyring.unusable:
            return typed
        if not self.keepVar.get():
            self.keyring.forget(host, port, name)
            return typed
        if typed:
            self._toKeep = (host, port, name, typed, register)
            return typed
        return "" if register else self.keyring.get(host, port, name)

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
            # Nothing to complete: Tab moves on, as everywhere else.
            following = self.entry.tk_focusNext()
            if following is not None:
                following.focus_set()
            return "break"
        return self._setInput(*completed)

    # IChatView

    def _hang(self, text: tk.Text, stamp: str) -> str:
        """
        @return: The tag that makes a line's wrapped rows start under its
            text, after its time C{stamp} (made the first time it is used).
        """
        width = self.font.measure(f"{stamp} ")
        tag = f"hang{width}"
        if tag not in self._hangs.setdefault(str(text), set()):
            text.tag_configure(tag, lmargin2=width)
            text.tag_lower(tag)
            self._hangs[str(text)].add(tag)
        return tag

    def _chunks(self, text: tk.Text, batch: Sequence[ViewLine]) -> list[object]:
        chunks: list[object] = []
        for line in batch:
            tags: tuple[str, ...] = (line.kind,)
            if line.mention:
                tags += ("mention",)
            if line.history:
                tags += ("history",)
            hang = self._hang(text, line.time)
            chunks += [f"{line.time} ", ("time", hang, *tags[1:])]
            tags += (hang,)
            for part in line.parts:
                if part.name and not line.history:
                    chunks += [part.text, (*tags, f"name{colour_index(part.name)}")]
                elif part.link:
                    chunks += [part.text, (*tags, "link")]
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
        text.insert("end", *self._chunks(text, batch))  # type: ignore[arg-type]
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
        text.insert(f"{index + 1}.0", *self._chunks(text, batch))  # type: ignore[arg-type]
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
            colour = self.nameColours[colour_index(lines.split_member(name)[0])]
            users.itemconfigure(index, foreground=colour)
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
            self.reconnectButton.grid(row=0, column=1, sticky="e")
        else:
            self.reconnectButton.grid_remove()

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
        if self._toKeep is not None:
            (host, port, name, password, register), self._toKeep = self._toKeep, None
            # A guest's login (a name that is no account) keeps nothing.
            refused = ""
            if register or self.model.account:
                refused = self.keyring.keep(host, port, name, password)
            if refused:
                self.model.addNotice(f"Password not remembered: {refused}", "error")
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
