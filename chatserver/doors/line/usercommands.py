"""
What a logged-in user can do: chat lines, and the commands C{/who},
C{/msg}, C{/me}, C{/nick}, C{/quit} and C{/help}.

A mixin of L{chatserver.doors.line.protocol.ChatProtocol}: a command C{/NAME ARGS} runs
its C{command_NAME} method with C{ARGS}.
"""

from __future__ import annotations

from twisted.logger import Logger

from chatserver import LOG_NAMESPACE
from chatserver.core.names import InvalidName, check_name, name_key
from chatserver.core.registry import NameTaken
from chatserver.doors.line import lines
from chatserver.doors.line.commands import (
    HELP,
    Chat,
    Command,
    InvalidText,
    parse_input,
    split_first,
)
from chatserver.doors.line.connection import ConnectionPart

log = Logger(namespace=LOG_NAMESPACE)


class UserCommandsMixin(ConnectionPart):
    """
    The part of a connection that serves a logged-in user.
    """

    def _chat(self, text: str) -> None:
        if self.config.idleTimeout > 0:
            self.resetTimeout()
        try:
            parsed = parse_input(text)
        except InvalidText as e:
            self._reject(str(e))
            return
        if parsed is None:
            return
        if isinstance(parsed, Chat):
            self._logMessage(parsed.text)
            self.registry.broadcast(lines.Message(self.name, parsed.text), self)
        else:
            self._dispatch(parsed)

    def _logMessage(self, text: str, to: str = "") -> None:
        if self.config.logMessages:
            log.info(
                "<{name}{arrow}{to}> {text}",
                chat_event="message",
                name=self.name,
                arrow=" -> " if to else "",
                to=to,
                text=text,
            )

    def _dispatch(self, command: Command) -> None:
        handler = getattr(self, f"command_{command.name}", None)
        if handler is None:
            self.send(lines.Error(f"unknown command /{command.name}, try /help"))
            return
        handler(command.args)

    def command_help(self, args: str) -> None:
        for usage, meaning in HELP:
            self.send(lines.Info(f"{usage:<16} {meaning}"))

    def command_who(self, args: str) -> None:
        self.send(lines.UserList(self.registry.names()))

    def command_me(self, args: str) -> None:
        if not args:
            self.send(lines.Error("usage: /me ACTION"))
            return
        self._logMessage(f"* {args}")
        self.registry.broadcast(lines.Action(self.name, args), exclude=self)

    def command_msg(self, args: str) -> None:
        target, text = split_first(args)
        if not target or not text:
            self.send(lines.Error("usage: /msg NAME TEXT"))
            return
        recipient = self.registry.get(target)
        if recipient is None:
            self.send(lines.Error(f"no such user: {target}"))
            return
        self._logMessage(text, to=recipient.name)
        self.registry.sendTo(recipient, lines.PrivateIn(self.name, text))
        self.send(lines.PrivateOut(recipient.name, text))

    def command_nick(self, args: str) -> None:
        new = args.strip()
        if not new:
            self.send(lines.Error("usage: /nick NAME"))
            return
        try:
            check_name(new)
        except InvalidName as e:
            self._reject(f"invalid name: {e}")
            return
        if new == self.name:
            self.send(lines.Error(f"you are already called {new}"))
            return
        if self.portal is not None and name_key(new) != name_key(self.name):
            self.send(
                lines.Error("names are accounts here: /nick may only change case")
            )
            return
        old = self.name
        try:
            self.registry.rename(self, old, new)
        except NameTaken:
            self._reject(f"the name {new} is taken, choose another")
            return
        self.name = new
        log.info(
            "{old} is now known as {new}",
            chat_event="rename",
            old=old,
            new=new,
            peer=self.peer,
        )
        self.registry.broadcast(lines.Renamed(old, new))

    def command_quit(self, args: str) -> None:
        reason = f"Quit: {args}" if args else "Quit"
        self.close(reason, lines.Info("Goodbye!"))
