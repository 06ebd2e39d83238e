"""
A member's context menu in the member list, and the small moderation form
it opens.

A right-click on a member (or the Menu key, or Shift+F10, on the selected
one) offers a private message and, to the operators of the room (and to
server operators), kick, ban and mute (each asking a reason, and a
duration for a ban or a mute, in a form below the chat view: no modal
dialog, so the reactor goes on), and giving or taking operator and voice.
Each is the line door's command; a refusal is the server's one line.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk
from typing import Any

from chatclient.model import ChatModel, Conversation
from chatwire import lines
from chatwire.names import name_key

#: What each action of the form does, by command: its button, and whether it
#: takes a duration.
ACTIONS = {
    "kick": ("Kick", False),
    "ban": ("Ban", True),
    "mute": ("Mute", True),
}


class MemberMenu:
    """
    The member list's context menu and its moderation form.

    @ivar menu: The context menu (filled each time it opens).
    @ivar form: The moderation form, packed while it is open.
    @ivar reason: The form's reason.
    @ivar duration: The form's duration (a ban or a mute).
    """

    def __init__(
        self,
        users: tk.Listbox,
        model: ChatModel,
        send: Callable[[str], str],
        *,
        formParent: ttk.Frame,
        formBefore: tk.Misc,
        done: Callable[[], object],
    ) -> None:
        """
        @param users: The member list.
        @param send: Sends a command line; returns why it was not sent, or
            C{""}.
        @param formParent: Where the form is packed, above C{formBefore}.
        @param done: Gives the keyboard back to the input line.
        """
        self.users = users
        self.model = model
        self.send = send
        self.done = done
        self._before = formBefore
        self._action = ""
        self._target: tuple[Conversation, str] | None = None
        self.menu = tk.Menu(users, tearoff=False)
        users.bind("<Button-3>", self._clicked, add="+")
        users.bind("<Menu>", self._keyed, add="+")
        users.bind("<Shift-F10>", self._keyed, add="+")
        self._buildForm(formParent)

    def _buildForm(self, formParent: ttk.Frame) -> None:
        form = self.form = ttk.Frame(formParent, padding=(6, 4))
        self.formParent = formParent
        self.title = ttk.Label(form, font="TkHeadingFont")
        self.title.grid(row=0, column=0, columnspan=6, sticky="w")
        ttk.Label(form, text="Reason").grid(row=1, column=0, sticky="w")
        self.reason = ttk.Entry(form, width=30)
        self.reason.grid(row=1, column=1, sticky="we", padx=(4, 8))
        self.durationLabel = ttk.Label(form, text="Duration")
        self.durationLabel.grid(row=1, column=2, sticky="w")
        self.duration = ttk.Entry(form, width=8)
        self.duration.grid(row=1, column=3, padx=(4, 8))
        self.hint = ttk.Label(form, text="30s, 10m, 2h, 7d; empty: until lifted")
        self.hint.grid(row=2, column=2, columnspan=2, sticky="w")
        self.confirm = ttk.Button(form, command=self.submit)
        self.confirm.grid(row=1, column=4)
        self.cancel = ttk.Button(form, text="Cancel", command=self.close)
        self.cancel.grid(row=1, column=5, padx=(4, 0))
        form.columnconfigure(1, weight=1)
        for widget in (self.reason, self.duration, self.confirm):
            widget.bind("<Return>", self.submit)
            widget.bind("<KP_Enter>", self.submit)
        for widget in (self.reason, self.duration, self.confirm, self.cancel):
            widget.bind("<Escape>", self.close)

    # The menu

    def entries(self, name: str) -> list[tuple[str, Callable[[], object]]]:
        """
        @param name: A member of the selected room, as the list shows it.
        @return: What the menu offers for C{name}: labels and what each
            does (C{""} for a separator).
        """
        name, _ = lines.split_member(name)
        conversation = self.model.selected
        own = name_key(name) == name_key(self.model.ownName)
        offered: list[tuple[str, Callable[[], object]]] = []
        if not own:
            offered.append(("Private message", lambda: self._private(name)))
        if not self.model.canModerate(conversation):
            return offered
        if not own:
            offered.append(("", lambda: None))
            for command, (label, _) in ACTIONS.items():
                offered.append(
                    (f"{label}...", partial(self.open, command, conversation, name))
                )
        offered.append(("", lambda: None))
        roles = conversation.role(name)
        for letter, give, take in (("o", "op", "deop"), ("v", "voice", "devoice")):
            command = take if letter in roles else give
            offered.append(
                (
                    command.capitalize(),
                    partial(self._command, f"/{command} {conversation.name} {name}"),
                )
            )
        return offered[1:] if own else offered

    def post(self, index: int, x: int, y: int) -> bool:
        """
        Open the menu for the member at C{index}, at C{x}, C{y} on the
        screen.

        @return: Whether it had anything to offer.
        """
        self.users.selection_clear(0, "end")
        self.users.selection_set(index)
        self.users.activate(index)
        offered = self.entries(str(self.users.get(index)))
        menu = self.menu
        menu.delete(0, "end")
        for label, action in offered:
            if label:
                menu.add_command(label=label, command=action)
            else:
                menu.add_separator()
        if not offered:
            return False
        menu.tk_popup(x, y)
        return True

    def _clicked(self, event: Any) -> str:
        if self.users.size():
            self.post(self.users.nearest(event.y), event.x_root, event.y_root)
        return "break"

    def _keyed(self, event: object = None) -> str:
        users = self.users
        if not users.size():
            return "break"
        chosen = users.curselection()
        index = chosen[0] if chosen else users.index("active")
        box = users.bbox(index) or (0, 0, 0, 0)
        self.post(
            index,
            users.winfo_rootx() + box[0] + 8,
            users.winfo_rooty() + box[1] + box[3],
        )
        return "break"

    def _private(self, name: str) -> None:
        self.model.select(self.model.openPrivate(name))
        self.done()

    def _command(self, line: str) -> None:
        why = self.send(line)
        if why:
            self.model.addNotice(f"!!! {why}", "error")

    # The form

    def open(self, action: str, conversation: Conversation, name: str) -> None:
        """
        Open the form that asks how to C{action} (C{kick}, C{ban},
        C{mute}) C{name} in C{conversation}'s room.
        """
        self._action, self._target = action, (conversation, name)
        label, timed = ACTIONS[action]
        self.title.configure(text=f"{label} {name} in {conversation.name}")
        self.confirm.configure(text=label)
        self.reason.delete(0, "end")
        self.duration.delete(0, "end")
        for widget in (self.durationLabel, self.duration, self.hint):
            if timed:
                widget.grid()
            else:
                widget.grid_remove()
        self.form.pack(side="bottom", fill="x", before=self._before)
        self.reason.focus_set()

    @property
    def isOpen(self) -> bool:
        return bool(self.form.winfo_manager())

    def command(self) -> str:
        """
        @return: The command the form's fields make.
        """
        assert self._target is not None
        conversation, name = self._target
        words = [f"/{self._action}", conversation.name, name]
        duration = self.duration.get().strip()
        if ACTIONS[self._action][1] and duration:
            words.append(duration)
        reason = " ".join(self.reason.get().split())
        if reason:
            words.append(reason)
        return " ".join(words)

    def submit(self, event: object = None) -> str:
        if self._target is not None:
            self._command(self.command())
        self.close()
        return "break"

    def close(self, event: object = None) -> str:
        self._target = None
        self.form.pack_forget()
        self.done()
        return "break"
