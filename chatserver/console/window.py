"""
The Tk widgets of the server console window.

The window draws what L{chatserver.console.model} computes and reports the
operator's clicks to callbacks; L{chatserver.console.service.ConsoleService} connects
the two to the running server.  Nothing here blocks: the window lives in the
reactor through L{twisted.internet.tksupport}, so there are no modal dialogs
(a modal dialog would stop the server while it is open): stopping the
server asks in a bar of the window itself.

Its look is the desktop client's ttk theme (L{chatclient.theme}), light or
dark: one theme for both programs.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from tkinter import ttk

from chatclient.theme import LINE_COLOURS, STATUS_COLOURS_BY_THEME, apply_theme
from chatserver.console.model import (
    ERROR,
    LOG_GROUPS,
    BanRow,
    LogLine,
    RoomRow,
    UserRow,
    shows,
)

#: The client's line colour that each kind of log line takes (the
#: message kind takes the palette's text colour).
_LOG_KINDS = {
    "listening": "rename",
    "connect": "info",
    "disconnect": "info",
    "login": "join",
    "leave": "leave",
    "join": "join",
    "part": "leave",
    "rename": "rename",
    "topic": "rename",
    "reload": "rename",
    "refused": "error",
    "rejected": "error",
    "timeout": "error",
    ERROR: "error",
}


def log_colours(theme: str) -> dict[str, str]:
    """
    @return: The colour of each kind of log line in C{theme}'s palette.
    """
    from chatclient.theme import PALETTES

    colours = {kind: LINE_COLOURS[theme][key] for kind, key in _LOG_KINDS.items()}
    colours["message"] = PALETTES[theme]["fg"]
    return colours


@dataclass(frozen=True)
class Actions:
    """
    What the window's controls ask of the service.

    @ivar kick: Kick the user of a row key, with a reason.
    @ivar lift: Lift the ban, mute or kline of a row key of the moderation
        panel.
    @ivar stop: Stop the server (once the operator has confirmed).
    @ivar reload: Read the server's settings files again.
    @ivar logLines: Every line the console keeps, oldest first, to draw the
        log view again (filtered, or after a pause).
    @ivar userCount: How many users are online, for the stop question.
    """

    kick: Callable[[str | None, str], None]
    lift: Callable[[str | None], None]
    stop: Callable[[], None]
    reload: Callable[[], None]
    logLines: Callable[[], Iterable[LogLine]]
    userCount: Callable[[], int]


Values = tuple[str, ...]


def _sync_tree(
    tree: ttk.Treeview, shown: dict[str, Values], rows: Sequence[tuple[str, Values]]
) -> dict[str, Values]:
    """
    Make C{tree} show C{rows} (each an item id and its values), in order,
    changing only what changed so that the selection and the scroll position
    stay.

    @param shown: What C{tree} shows now, as this function last returned.
    @return: What C{tree} shows after.
    """
    wanted = [key for key, _values in rows]
    gone = set(shown) - set(wanted)
    if gone:
        tree.delete(*gone)
    for index, (key, values) in enumerate(rows):
        old = shown.get(key)
        if old is None:
            tree.insert("", index, iid=key, values=values)
        elif old != values:
            tree.item(key, values=values)
    if list(tree.get_children()) != wanted:  # a rename moved someone
        for index, key in enumerate(wanted):
            tree.move(key, "", index)
    return dict(rows)


class ConsoleWindow:
    """
    The status line with Reload and Stop (Stop and the close box ask first,
    in a bar), the figures at a glance, the user list with its kick
    controls, the room list, and the log view (filtered, searched and
    paused), in C{root}.

    @ivar maxLines: The most lines the log view keeps.
    @ivar paused: Whether the log view is paused (new lines wait).
    """

    def __init__(
        self,
        root: tk.Tk,
        actions: Actions,
        maxLines: int,
        title: str = "Chat server",
        theme: str = "light",
    ) -> None:
        self.root = root
        self.actions = actions
        self.maxLines = maxLines
        self.theme = theme
        self.colours = apply_theme(root, theme)
        self.statusColours = STATUS_COLOURS_BY_THEME[theme]
        self.paused = False
        self._waiting = 0
        self._shownUsers: dict[str, Values] = {}
        self._shownRooms: dict[str, Values] = {}
        self._shownBans: dict[str, Values] = {}
        root.title(title)
        root.minsize(560, 560)
        root.protocol("WM_DELETE_WINDOW", self.askStop)
        root.columnconfigure(0, weight=1)
        root.rowconfigure(3, weight=2)
        root.rowconfigure(4, weight=1)
        root.rowconfigure(5, weight=4)
        self._buildStatus()
        self._buildConfirm()
        self._buildFigures()
        self._buildUsers()
        self._buildRooms()
        self._buildLog()

    def _buildStatus(self) -> None:
        top = ttk.Frame(self.root, padding=(8, 8, 8, 4))
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(1, weight=1)
        self.statusWord = ttk.Label(top, font=("TkDefaultFont", 11, "bold"))
        self.statusWord.grid(row=0, column=0, sticky="w")
        self.addressLabel = ttk.Label(top)
        self.addressLabel.grid(row=0, column=1, sticky="w", padx=(8, 0))
        self.reloadButton = ttk.Button(top, text="Reload", command=self.actions.reload)
        self.reloadButton.grid(row=0, column=2, sticky="e", padx=(0, 6))
        self.stopButton = ttk.Button(top, text="Stop server", command=self.askStop)
        self.stopButton.grid(row=0, column=3, sticky="e")
        self.reloadLabel = ttk.Label(top)
        self.reloadLabel.grid(row=1, column=0, columnspan=4, sticky="w")

    def _buildConfirm(self) -> None:
        """
        The bar that asks before the server stops (shown by L{askStop}).
        """
        bar = self.confirmBar = ttk.Frame(self.root, padding=(8, 4))
        bar.columnconfigure(0, weight=1)
        self.confirmLabel = ttk.Label(
            bar, foreground=self.statusColours["warning"], font="TkHeadingFont"
        )
        self.confirmLabel.grid(row=0, column=0, sticky="w")
        self.confirmButton = ttk.Button(
            bar, text="Stop server", style="Accent.TButton", command=self.actions.stop
        )
        self.confirmButton.grid(row=0, column=1, padx=(6, 0))
        self.cancelButton = ttk.Button(bar, text="Cancel", command=self.cancelStop)
        self.cancelButton.grid(row=0, column=2, padx=(6, 0))
        bar.bind("<Escape>", lambda _event: self.cancelStop())
        for button in (self.confirmButton, self.cancelButton):
            button.bind("<Escape>", lambda _event: self.cancelStop())
        self.confirmButton.bind("<Return>", lambda _event: self.actions.stop())
        self.cancelButton.bind("<Return>", lambda _event: self.cancelStop())

    def _buildFigures(self) -> None:
        frame = ttk.LabelFrame(self.root, text="At a glance", padding=(6, 4))
        frame.grid(row=2, column=0, sticky="ew", padx=8, pady=4)
        self.figureLabels: dict[str, ttk.Label] = {}
        for column, (key, title) in enumerate(
            (
                ("users", "Users"),
                ("lines", "Lines in"),
                ("deliveries", "Deliveries"),
                ("drops", "Drops"),
            )
        ):
            frame.columnconfigure(column, weight=1)
            ttk.Label(frame, text=title, foreground=self.colours["muted"]).grid(
                row=0, column=column, sticky="w"
            )
            label = ttk.Label(frame, text="", font="TkHeadingFont")
            label.grid(row=1, column=column, sticky="w")
            self.figureLabels[key] = label

    def _buildUsers(self) -> None:
        users = ttk.LabelFrame(self.root, text="Users", padding=(6, 4))
        users.grid(row=3, column=0, sticky="nsew", padx=8, pady=4)
        users.columnconfigure(0, weight=1)
        users.rowconfigure(1, weight=1)
        self.countLabel = ttk.Label(users)
        self.countLabel.grid(row=0, column=0, columnspan=2, sticky="w")
        self.userTree = ttk.Treeview(
            users,
            columns=("name", "door", "address", "since", "idle", "rooms"),
            show="headings",
            selectmode="browse",
            height=5,
        )
        for column, heading, width in (
            ("name", "Name", 110),
            ("door", "Door", 50),
            ("address", "Address", 140),
            ("since", "Logged in since", 130),
            ("idle", "Idle", 60),
            ("rooms", "Rooms", 170),
        ):
            self.userTree.heading(column, text=heading, anchor="w")
            self.userTree.column(column, width=width, anchor="w")
        self.userTree.grid(row=1, column=0, sticky="nsew")
        userScroll = ttk.Scrollbar(
            users, orient="vertical", command=self.userTree.yview
        )
        userScroll.grid(row=1, column=1, sticky="ns")
        self.userTree.configure(yscrollcommand=userScroll.set)

        kick = ttk.Frame(users, padding=(0, 4, 0, 0))
        kick.grid(row=2, column=0, columnspan=2, sticky="ew")
        kick.columnconfigure(1, weight=1)
        ttk.Label(kick, text="Reason:").grid(row=0, column=0, sticky="w")
        self.reasonEntry = ttk.Entry(kick)
        self.reasonEntry.grid(row=0, column=1, sticky="ew", padx=4)

        def kickSelected() -> None:
            self.actions.kick(self.selectedKey(), self.reasonEntry.get().strip())

        self.kickButton = ttk.Button(kick, text="Kick selected", command=kickSelected)
        self.kickButton.grid(row=0, column=2, sticky="e")
        self.reasonEntry.bind("<Return>", lambda _event: kickSelected())
        self.hintLabel = ttk.Label(kick, foreground=self.statusColours["error"])
        self.hintLabel.grid(row=1, column=0, columnspan=3, sticky="w")

    def _buildRooms(self) -> None:
        # The rooms and the moderation panel share a row, as tabs.
        self.panels = ttk.Notebook(self.root)
        self.panels.grid(row=4, column=0, sticky="nsew", padx=8, pady=4)
        rooms = ttk.Frame(self.panels, padding=(6, 4))
        self.panels.add(rooms, text="Rooms")
        rooms.columnconfigure(0, weight=1)
        rooms.rowconfigure(0, weight=1)
        self.roomTree = ttk.Treeview(
            rooms,
            columns=("name", "members", "topic"),
            show="headings",
            selectmode="none",
            height=3,
        )
        for column, heading, width in (
            ("name", "Room", 130),
            ("members", "Members", 80),
            ("topic", "Topic", 400),
        ):
            self.roomTree.heading(column, text=heading, anchor="w")
            self.roomTree.column(column, width=width, anchor="w")
        self.roomTree.heading("members", anchor="center")
        self.roomTree.column("members", anchor="center", stretch=False)
        self.roomTree.grid(row=0, column=0, sticky="nsew")
        roomScroll = ttk.Scrollbar(
            rooms, orient="vertical", command=self.roomTree.yview
        )
        roomScroll.grid(row=0, column=1, sticky="ns")
        self.roomTree.configure(yscrollcommand=roomScroll.set)
        self._buildModeration()

    def _buildModeration(self) -> None:
        """
        The moderation panel: the klines, and every room's bans and mutes,
        each liftable.
        """
        panel = self.moderationPanel = ttk.Frame(self.panels, padding=(6, 4))
        self.panels.add(panel, text="Moderation")
        panel.columnconfigure(0, weight=1)
        panel.rowconfigure(0, weight=1)
        self.banTree = ttk.Treeview(
            panel,
            columns=("room", "kind", "mask", "setter", "set", "ends", "reason"),
            show="headings",
            selectmode="browse",
            height=3,
        )
        for column, heading, width in (
            ("room", "Room", 100),
            ("kind", "Kind", 50),
            ("mask", "Mask", 120),
            ("setter", "Set by", 80),
            ("set", "When", 110),
            ("ends", "Ends", 110),
            ("reason", "Reason", 160),
        ):
            self.banTree.heading(column, text=heading, anchor="w")
            self.banTree.column(column, width=width, anchor="w")
        self.banTree.grid(row=0, column=0, sticky="nsew")
        banScroll = ttk.Scrollbar(panel, orient="vertical", command=self.banTree.yview)
        banScroll.grid(row=0, column=1, sticky="ns")
        self.banTree.configure(yscrollcommand=banScroll.set)
        row = ttk.Frame(panel, padding=(0, 4, 0, 0))
        row.grid(row=1, column=0, columnspan=2, sticky="ew")
        row.columnconfigure(0, weight=1)
        self.banHint = ttk.Label(row, foreground=self.statusColours["error"])
        self.banHint.grid(row=0, column=0, sticky="w")

        def liftSelected() -> None:
            selection = self.banTree.selection()
            self.actions.lift(selection[0] if selection else None)

        self.liftButton = ttk.Button(row, text="Lift selected", command=liftSelected)
        self.liftButton.grid(row=0, column=1, sticky="e")
        self.banTree.bind("<Delete>", lambda _event: liftSelected())

    def _buildLog(self) -> None:
        logFrame = ttk.LabelFrame(self.root, text="Log", padding=(6, 4))
        logFrame.grid(row=5, column=0, sticky="nsew", padx=8, pady=(4, 8))
        logFrame.columnconfigure(0, weight=1)
        logFrame.rowconfigure(2, weight=1)
        tools = ttk.Frame(logFrame, padding=(0, 0, 0, 4))
        tools.grid(row=0, column=0, columnspan=2, sticky="ew")
        ttk.Label(tools, text="Show").pack(side="left")
        self.groupVar = tk.StringVar(tools, "Everything")
        self.groupBox = ttk.Combobox(
            tools,
            textvariable=self.groupVar,
            values=list(LOG_GROUPS),
            state="readonly",
            width=16,
        )
        self.groupBox.pack(side="left", padx=(4, 8))
        self.groupBox.bind("<<ComboboxSelected>>", lambda _event: self.redrawLog())
        ttk.Label(tools, text="with").pack(side="left")
        self.filterVar = tk.StringVar(tools, "")
        self.filterEntry = ttk.Entry(tools, textvariable=self.filterVar, width=14)
        self.filterEntry.pack(side="left", padx=(4, 8))
        self.filterVar.trace_add("write", lambda *_args: self.redrawLog())
        self.pauseVar = tk.BooleanVar(tools, False)
        self.pauseBox = ttk.Checkbutton(
            tools, text="Pause", variable=self.pauseVar, command=self._pauseChanged
        )
        self.pauseBox.pack(side="left", padx=(8, 0))
        self.logStateLabel = ttk.Label(tools, foreground=self.colours["muted"])
        self.logStateLabel.pack(side="left", padx=(6, 0))
        finding = ttk.Frame(logFrame, padding=(0, 0, 0, 4))
        finding.grid(row=1, column=0, columnspan=2, sticky="ew")
        tools = finding
        ttk.Label(tools, text="Find").pack(side="left")
        self.findEntry = ttk.Entry(tools, width=20)
        self.findEntry.pack(side="left", padx=(4, 2))
        self.findEntry.bind("<Return>", lambda _event: self.find(1))
        self.findEntry.bind("<Shift-Return>", lambda _event: self.find(-1))
        self.findNextButton = ttk.Button(
            tools, text="Next", width=6, command=lambda: self.find(1)
        )
        self.findNextButton.pack(side="left", padx=2)
        self.findPreviousButton = ttk.Button(
            tools, text="Previous", width=8, command=lambda: self.find(-1)
        )
        self.findPreviousButton.pack(side="left", padx=2)
        self.findLabel = ttk.Label(tools, foreground=self.colours["muted"])
        self.findLabel.pack(side="left", padx=(6, 0))

        colours = self.colours
        self.logText = tk.Text(
            logFrame,
            height=10,
            width=80,
            wrap="word",
            state="disabled",
            background=colours["panel"],
            foreground=colours["fg"],
            insertbackground=colours["fg"],
            selectbackground=colours["select"],
            highlightthickness=1,
            highlightcolor=colours["accent"],
            highlightbackground=colours["border"],
            borderwidth=0,
            padx=6,
            pady=4,
        )
        self.logText.grid(row=2, column=0, sticky="nsew")
        logScroll = ttk.Scrollbar(
            logFrame, orient="vertical", command=self.logText.yview
        )
        logScroll.grid(row=2, column=1, sticky="ns")
        self.logText.configure(yscrollcommand=logScroll.set)
        for kind, colour in log_colours(self.theme).items():
            self.logText.tag_configure(kind, foreground=colour)
        self.logText.tag_configure("found", background=colours["mention"])
        self.logText.tag_configure("current", background=colours["select"])
        self.logText.tag_raise("found")
        self.logText.tag_raise("current")

    # Stopping, with a question first

    def askStop(self) -> None:
        """
        The Stop button or the window's close box: ask in the confirm bar
        (no modal dialog: it would hold the reactor).
        """
        if self.stopButton.instate(["disabled"]):
            return
        count = self.actions.userCount()
        if count:
            users = "1 user is" if count == 1 else f"{count} users are"
            question = f"Stop the server? {users} online and will be disconnected."
        else:
            question = "Stop the server? Nobody is online."
        self.confirmLabel.configure(text=question)
        self.confirmBar.grid(row=1, column=0, sticky="ew", padx=8)
        self.root.deiconify()
        # The operator is at this window (its Stop, or its close box): the
        # keyboard answers the question, Cancel first.
        self.cancelButton.focus_force()

    def cancelStop(self) -> None:
        self.confirmBar.grid_remove()

    def confirming(self) -> bool:
        """
        @return: Whether the window asks to confirm stopping.
        """
        return bool(self.confirmBar.winfo_manager())

    # Drawing

    def showStatus(self, word: str, level: str, where: str) -> None:
        self.statusWord.configure(text=word, foreground=self.statusColours[level])
        self.addressLabel.configure(text=where)

    def showFigures(self, texts: dict[str, str]) -> None:
        for key, text in texts.items():
            self.figureLabels[key].configure(text=text)

    def showReload(self, text: str, problem: bool) -> None:
        colour = self.statusColours["error" if problem else "ok"]
        self.reloadLabel.configure(text=text, foreground=colour)

    def showUsers(self, rows: Sequence[UserRow], count: str) -> None:
        """
        Show C{rows}, keeping the selected user selected (by connection, so
        across renames).
        """
        self.countLabel.configure(text=count)
        self._shownUsers = _sync_tree(
            self.userTree,
            self._shownUsers,
            [(row.key, _user_values(row)) for row in rows],
        )

    def showRooms(self, rows: Sequence[RoomRow]) -> None:
        """
        Show C{rows} in the room list.
        """
        self._shownRooms = _sync_tree(
            self.roomTree,
            self._shownRooms,
            [(f"r{row.key}", (row.name, str(row.members), row.topic)) for row in rows],
        )

    def showBans(self, rows: Sequence[BanRow]) -> None:
        """
        Show C{rows} in the moderation panel; its tab says how many.
        """
        self._shownBans = _sync_tree(
            self.banTree,
            self._shownBans,
            [
                (
                    row.key,
                    (
                        row.room or "(server)",
                        row.kind,
                        row.mask,
                        row.setter,
                        row.setAt,
                        row.ends,
                        row.reason,
                    ),
                )
                for row in rows
            ],
        )
        title = f"Moderation ({len(rows)})" if rows else "Moderation"
        self.panels.tab(self.moderationPanel, text=title)

    def showBanHint(self, text: str) -> None:
        self.banHint.configure(text=text)

    def selectedKey(self) -> str | None:
        selection = self.userTree.selection()
        return selection[0] if selection else None

    def showHint(self, text: str) -> None:
        self.hintLabel.configure(text=text)

    def clearReason(self) -> None:
        self.reasonEntry.delete(0, "end")

    # The log view

    def logLines(self) -> list[str]:
        """
        @return: The lines of the log view.
        """
        return self.logText.get("1.0", "end-1c").splitlines()

    def _shows(self, line: LogLine) -> bool:
        return shows(line, self.filterVar.get(), self.groupVar.get())

    def appendLog(self, lines: Iterable[LogLine]) -> None:
        """
        Add those of C{lines} the filter lets through at the end, dropping
        the oldest beyond L{maxLines}, and follow the end unless the
        operator has scrolled up; while paused, only count them.
        """
        shown = [line for line in lines if self._shows(line)]
        if self.paused:
            self._waiting += len(shown)
            self._showLogState()
            return
        self._append(shown)

    def _append(self, lines: Sequence[LogLine]) -> None:
        text = self.logText
        following = text.yview()[1] >= 1.0
        text.configure(state="normal")
        for line in lines:
            if text.compare("end-1c", "!=", "1.0"):
                text.insert("end", "\n")
            text.insert("end", line.render(), line.kind)
        excess = int(text.index("end-1c").split(".")[0]) - self.maxLines
        if excess > 0:
            text.delete("1.0", f"{excess + 1}.0")
        text.configure(state="disabled")
        if following:
            text.see("end")
        if self.findEntry.get():
            self._markFound()

    def redrawLog(self) -> None:
        """
        Draw the log view again from every line kept (the filter changed,
        or the view was paused).
        """
        text = self.logText
        text.configure(state="normal")
        text.delete("1.0", "end")
        text.configure(state="disabled")
        self._waiting = 0
        self._append([line for line in self.actions.logLines() if self._shows(line)])
        text.see("end")
        self._showLogState()

    def _pauseChanged(self) -> None:
        self.setPaused(self.pauseVar.get())

    def setPaused(self, paused: bool) -> None:
        """
        Pause the log view (new lines are counted, not shown) or go on.
        """
        self.pauseVar.set(paused)
        if paused == self.paused:
            return
        self.paused = paused
        if not paused:
            self.redrawLog()
        self._showLogState()

    def _showLogState(self) -> None:
        if self.paused:
            waiting = self._waiting
            self.logStateLabel.configure(
                text=f"paused, {waiting} new line{'s' * (waiting != 1)}"
            )
        else:
            self.logStateLabel.configure(text="")

    def _markFound(self) -> int:
        text, words = self.logText, self.findEntry.get()
        text.tag_remove("found", "1.0", "end")
        if not words:
            return 0
        count, start = 0, "1.0"
        length = tk.IntVar(text)
        while True:
            found = text.search(words, start, "end", nocase=True, count=length)
            if not found:
                return count
            end = f"{found}+{length.get()}c"
            text.tag_add("found", found, end)
            count += 1
            start = end

    def find(self, step: int) -> str:
        """
        Mark every place the log view holds the words to find, and show
        the next one (C{step} 1) or the previous one (C{step} -1).
        """
        text = self.logText
        count = self._markFound()
        text.tag_remove("current", "1.0", "end")
        if not count:
            self.findLabel.configure(text="not found")
            return "break"
        here = text.index("insert")
        ranges = text.tag_ranges("found")
        starts = [str(ranges[i]) for i in range(0, len(ranges), 2)]
        ends = [str(ranges[i]) for i in range(1, len(ranges), 2)]
        if step > 0:
            later = [i for i, s in enumerate(starts) if text.compare(s, ">", here)]
            index = later[0] if later else 0
        else:
            earlier = [i for i, s in enumerate(starts) if text.compare(s, "<", here)]
            index = earlier[-1] if earlier else len(starts) - 1
        text.tag_add("current", starts[index], ends[index])
        text.mark_set("insert", starts[index])
        text.see(starts[index])
        self.findLabel.configure(text=f"{index + 1} of {count} found")
        return "break"

    def setStopping(self) -> None:
        """
        Disable the controls: the server is going away.
        """
        self.cancelStop()
        buttons = (self.kickButton, self.stopButton, self.reloadButton, self.liftButton)
        for button in buttons:
            button.state(["disabled"])
        self.reasonEntry.state(["disabled"])


def _user_values(row: UserRow) -> Values:
    return (row.name, row.door, row.peer, row.since, row.idle, row.rooms)
