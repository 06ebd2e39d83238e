"""
The Tk widgets of the server console window.

The window draws what L{chatserver.console.model} computes and reports the
operator's clicks to callbacks; L{chatserver.console.service.ConsoleService} connects
the two to the running server.  Nothing here blocks: the window lives in the
reactor through L{twisted.internet.tksupport}, so there are no modal dialogs
(a modal dialog would stop the server while it is open).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Iterable, Sequence
from tkinter import ttk

from chatserver.console.model import ERROR, LogLine, RoomRow, UserRow

_LOG_COLOURS = {
    "listening": "#1a5fb4",
    "connect": "#555555",
    "disconnect": "#555555",
    "login": "#1a7f37",
    "leave": "#8a4b08",
    "join": "#1a7f37",
    "part": "#8a4b08",
    "rename": "#1a5fb4",
    "topic": "#1a5fb4",
    "refused": "#c01c28",
    "rejected": "#c01c28",
    "message": "#000000",
    ERROR: "#c01c28",
}


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
    The status line, the user list with its kick controls, the room list,
    the Stop button and the log view, in C{root}.

    @ivar maxLines: The most lines the log view keeps.
    """

    def __init__(
        self,
        root: tk.Tk,
        onKick: Callable[[str | None, str], None],
        onStop: Callable[[], None],
        maxLines: int,
        title: str = "Chat server",
    ) -> None:
        self.root = root
        self.maxLines = maxLines
        self._shownUsers: dict[str, Values] = {}
        self._shownRooms: dict[str, Values] = {}
        root.title(title)
        root.minsize(480, 440)
        root.protocol("WM_DELETE_WINDOW", onStop)
        root.columnconfigure(0, weight=1)
        root.rowconfigure(1, weight=2)
        root.rowconfigure(2, weight=1)
        root.rowconfigure(3, weight=4)
        self._buildStatus(onStop)
        self._buildUsers(onKick)
        self._buildRooms()
        self._buildLog()

    def _buildStatus(self, onStop: Callable[[], None]) -> None:
        root = self.root
        top = ttk.Frame(root, padding=(8, 8, 8, 4))
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(1, weight=1)
        self.statusWord = tk.Label(top, font=("TkDefaultFont", 11, "bold"))
        self.statusWord.grid(row=0, column=0, sticky="w")
        self.addressLabel = ttk.Label(top)
        self.addressLabel.grid(row=0, column=1, sticky="w", padx=(8, 0))
        self.stopButton = ttk.Button(top, text="Stop server", command=onStop)
        self.stopButton.grid(row=0, column=2, sticky="e")

    def _buildUsers(self, onKick: Callable[[str | None, str], None]) -> None:
        root = self.root
        users = ttk.LabelFrame(root, text="Users", padding=(6, 4))
        users.grid(row=1, column=0, sticky="nsew", padx=8, pady=4)
        users.columnconfigure(0, weight=1)
        users.rowconfigure(1, weight=1)
        self.countLabel = ttk.Label(users)
        self.countLabel.grid(row=0, column=0, columnspan=2, sticky="w")
        self.userTree = ttk.Treeview(
            users,
            columns=("name", "address", "since", "rooms"),
            show="headings",
            selectmode="browse",
            height=5,
        )
        for column, heading, width in (
            ("name", "Name", 130),
            ("address", "Address", 170),
            ("since", "Logged in since", 120),
            ("rooms", "Rooms", 180),
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
            onKick(self.selectedKey(), self.reasonEntry.get().strip())

        self.kickButton = ttk.Button(kick, text="Kick selected", command=kickSelected)
        self.kickButton.grid(row=0, column=2, sticky="e")
        self.reasonEntry.bind("<Return>", lambda _event: kickSelected())
        self.hintLabel = ttk.Label(kick, foreground="#c01c28")
        self.hintLabel.grid(row=1, column=0, columnspan=3, sticky="w")

    def _buildRooms(self) -> None:
        root = self.root
        rooms = ttk.LabelFrame(root, text="Rooms", padding=(6, 4))
        rooms.grid(row=2, column=0, sticky="nsew", padx=8, pady=4)
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

    def _buildLog(self) -> None:
        root = self.root
        logFrame = ttk.LabelFrame(root, text="Log", padding=(6, 4))
        logFrame.grid(row=3, column=0, sticky="nsew", padx=8, pady=(4, 8))
        logFrame.columnconfigure(0, weight=1)
        logFrame.rowconfigure(0, weight=1)
        self.logText = tk.Text(
            logFrame, height=10, width=80, wrap="word", state="disabled"
        )
        self.logText.grid(row=0, column=0, sticky="nsew")
        logScroll = ttk.Scrollbar(
            logFrame, orient="vertical", command=self.logText.yview
        )
        logScroll.grid(row=0, column=1, sticky="ns")
        self.logText.configure(yscrollcommand=logScroll.set)
        for kind, colour in _LOG_COLOURS.items():
            self.logText.tag_configure(kind, foreground=colour)

    def showStatus(self, word: str, colour: str, where: str) -> None:
        self.statusWord.configure(text=word, foreground=colour)
        self.addressLabel.configure(text=where)

    def showUsers(self, rows: Sequence[UserRow], count: str) -> None:
        """
        Show C{rows}, keeping the selected user selected (by connection, so
        across renames).
        """
        self.countLabel.configure(text=count)
        self._shownUsers = _sync_tree(
            self.userTree,
            self._shownUsers,
            [(row.key, (row.name, row.peer, row.since, row.rooms)) for row in rows],
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

    def selectedKey(self) -> str | None:
        selection = self.userTree.selection()
        return selection[0] if selection else None

    def showHint(self, text: str) -> None:
        self.hintLabel.configure(text=text)

    def clearReason(self) -> None:
        self.reasonEntry.delete(0, "end")

    def logLines(self) -> list[str]:
        """
        @return: The lines of the log view.
        """
        return self.logText.get("1.0", "end-1c").splitlines()

    def appendLog(self, lines: Iterable[LogLine]) -> None:
        """
        Add C{lines} at the end, dropping the oldest beyond L{maxLines}, and
        follow the end unless the operator has scrolled up.
        """
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

    def setStopping(self) -> None:
        """
        Disable the controls: the server is going away.
        """
        for button in (self.kickButton, self.stopButton):
            button.state(["disabled"])
        self.reasonEntry.state(["disabled"])
