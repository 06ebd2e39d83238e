"""
The server console: a Tk window showing a running chat server, in the same
reactor (through L{twisted.internet.tksupport}, no threads).

The window is fed by one stream, the server's own log events: an observer on
the global log publisher turns each event into a log line (see
L{chatserver.console.model}) and, after the events that may change who is
online or the rooms, redraws the user and room lists from the chat itself
(the server's realm and admission, whatever door the users came through).

Every second the figures at a glance are read from the counters the chat
keeps for C{/metrics} (L{chatserver.console.model.read_counters}), and every
few seconds the user list again, for its idle times.

C{twistd -n chat --console} wraps the L{ChatService} in a L{ConsoleService}.
Stopping the console service stops the chat service (the graceful shutdown
of SIGTERM, with C{Stopping...} shown meanwhile) and then closes the window.
The Stop button and the window's close box ask first; once confirmed they
stop the reactor, so the shutdown is twistd's own.

Tk is imported only when a console is started or checked for, so that a
server without a console does not need it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IReactorCore, IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import (
    ILogObserver,
    Logger,
    LogPublisher,
    globalLogPublisher,
)
from twisted.python import usage

from chatserver import LOG_NAMESPACE
from chatserver.console import model as console_model
from chatserver.console.actor import console_actor
from chatserver.console.model import BanRow, ConsoleLog, Counters, LogLine, UserRow
from chatserver.core.moderation.records import KLINE, MUTE
from chatserver.core.users import ChatUser
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatwire.errors import ChatError, NoSuchUser

if TYPE_CHECKING:
    from chatserver.console.window import ConsoleWindow

log = Logger(namespace=LOG_NAMESPACE)

#: Seconds between two readings of the figures at a glance.
FIGURES_EVERY = 1.0

#: Readings of the figures between two drawings of the user list (for its
#: idle times).
USERS_EVERY = 5


def display_problem() -> str | None:
    """
    Try to open a Tk window (and close it at once).

    @return: Why the console cannot be shown, in one line; L{None} if it
        can.
    """
    try:
        import tkinter
    except ImportError as e:
        return f"Tk is not available in this Python ({e})"
    try:
        root = tkinter.Tk()
    except tkinter.TclError as e:
        message = " ".join(str(e).split()) or "unknown Tk error"
        return f"cannot open a window ({message})"
    root.destroy()
    return None


def check_console(twistdOptions: Mapping[str, Any] | None) -> None:
    """
    Check, while the command line is read, that a console can be shown.

    @param twistdOptions: The options of C{twistd} itself (the parent of the
        C{chat} options), or L{None} when there is no parent.
    @raise usage.UsageError: If twistd is going to daemonize.
    @raise SystemExit: With a one-line message, if no window can be opened.
    """
    if twistdOptions is not None and not (
        twistdOptions.get("nodaemon", True) or twistdOptions.get("debug")
    ):
        raise usage.UsageError(
            "--console needs twistd -n (--nodaemon): the console cannot run in a daemon"
        )
    problem = display_problem()
    if problem is not None:
        raise SystemExit(f"twistd chat: --console: {problem}")


class ConsoleService(MultiService):
    """
    Runs C{chat} with a console window.

    @ivar chat: The chat server shown, a child of this service.
    @ivar log: The lines of the log view.
    @ivar window: The window while the service runs, else L{None}.
    @ivar stopping: Whether the server is stopping.
    @ivar theme: The desktop client's palette the window is drawn in.
    """

    def __init__(
        self,
        chat: ChatService,
        *,
        stop: Callable[[], object] | None = None,
        reactor: IReactorTime | None = None,
        publisher: LogPublisher = globalLogPublisher,
        maxLines: int = console_model.DEFAULT_MAX_LINES,
        title: str = "Chat server",
        theme: str = "light",
    ) -> None:
        """
        @param stop: Called when the operator has confirmed Stop (or closing
            the window); C{reactor.stop} by default.
        @param theme: The desktop client's palette to draw in: C{light} or
            C{dark}.
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor as globalReactor

            reactor = cast(IReactorTime, globalReactor)
        self._reactor = reactor
        if stop is None:
            stop = cast(IReactorCore, reactor).stop
        self._stop = stop
        self._publisher = publisher
        self._title = title
        self.theme = theme
        self.chat = chat
        chat.setServiceParent(self)
        self.log = ConsoleLog(maxLines)
        self.window: ConsoleWindow | None = None
        self.stopping = False
        self._stopRequested = False
        self._rows: dict[str, UserRow] = {}
        self._bans: dict[str, BanRow] = {}
        self._actor: ChatUser | None = None
        self._newLines: deque[LogLine] = deque(maxlen=maxLines)
        self._listsChanged = False
        self._drawCall: IDelayedCall | None = None
        self._thread = threading.get_ident()
        self._observer = cast(ILogObserver, self._observe)
        self._watching = False
        self._counters: Counters | None = None
        self._ticks = 0
        self._figures = LoopingCall(self._tick)
        self._figures.clock = reactor

    @property
    def server(self) -> ChatServer:
        """
        What every door of the chat shown shares.
        """
        return self.chat.server

    @property
    def addresses(self) -> list[str]:
        return self.chat.addresses

    # Starting and stopping

    def _watch(self) -> None:
        if not self._watching:
            self._watching = True
            self._publisher.addObserver(self._observer)

    def _unwatch(self) -> None:
        if self._watching:
            self._watching = False
            self._publisher.removeObserver(self._observer)

    def privilegedStartService(self) -> None:
        # twistd listens here, before startService: catch the "listening"
        # events for the log view.
        self._watch()
        super().privilegedStartService()

    def startService(self) -> None:
        import tkinter

        from twisted.internet import tksupport

        from chatserver.console.window import ConsoleWindow

        self._thread = threading.get_ident()
        root = tkinter.Tk()
        root.report_callback_exception = self._tkError
        from chatserver.console.window import Actions

        actions = Actions(
            kick=self._kick,
            lift=self._lift,
            stop=self._requestStop,
            reload=self._reloadAsked,
            logLines=lambda: self.log.lines,
            userCount=lambda: len(self._rows),
        )
        self.window = ConsoleWindow(
            root, actions, self.log.maxLines, self._title, self.theme
        )
        self.window.appendLog(self.log.lines)
        self._watch()
        try:
            super().startService()
        except BaseException:
            self._unwatch()
            self.window = None
            root.destroy()
            raise
        self._showStatus()
        self._refresh()
        self._figures.start(FIGURES_EVERY, now=True)
        tksupport.install(root)

    def stopService(self) -> defer.Deferred[None]:
        self.stopping = True
        if self.window is not None:
            self.window.setStopping()
        self._showStatus()
        stopped = defer.maybeDeferred(super().stopService)

        def closeWindow(result: object) -> object:
            self._closeWindow()
            return result

        return stopped.addBoth(closeWindow)

    def _closeWindow(self) -> None:
        self._unwatch()
        if self._figures.running:
            self._figures.stop()
        if self._drawCall is not None and self._drawCall.active():
            self._drawCall.cancel()
        self._drawCall = None
        window, self.window = self.window, None
        if window is not None:
            from twisted.internet import tksupport

            tksupport.uninstall()
            window.root.destroy()

    def _requestStop(self) -> None:
        """
        Stop confirmed (after the Stop button or the window's close box):
        stop the server, once.
        """
        if self._stopRequested or self.stopping:
            return
        self._stopRequested = True
        if self.window is not None:
            self.window.setStopping()
        self._stop()

    # The log stream

    def _observe(self, event: Mapping[str, Any]) -> None:
        if threading.get_ident() != self._thread:
            # Tk may only be used from the reactor's thread.
            from twisted.internet.interfaces import IReactorThreads

            cast(IReactorThreads, self._reactor).callFromThread(self._observe, event)
            return
        line = self.log.add(event)
        if self.window is None:
            return
        if event.get("chat_event") in ("listening", "cluster"):
            self._showStatus()
        if line is not None:
            self._newLines.append(line)
        if (
            console_model.changes_users(event)
            or console_model.changes_rooms(event)
            or console_model.changes_bans(event)
        ):
            self._listsChanged = True
        if (line is not None or self._listsChanged) and self._drawCall is None:
            # Draw once the code logging the event is done with the
            # connection (a leaving connection is released after its event),
            # and once for a burst of events.
            self._drawCall = self._reactor.callLater(0, self._draw)

    def _draw(self) -> None:
        self._drawCall = None
        if self.window is None:
            return
        if self._newLines:
            self.window.appendLog(self._newLines)
            self._newLines.clear()
        if self._listsChanged:
            self._refresh()

    def _tkError(
        self, kind: type[BaseException], value: BaseException, tb: Any
    ) -> None:
        from twisted.logger import Logger
        from twisted.python.failure import Failure

        Logger(namespace="chatserver.console.service").failure(
            "Error in the console window", Failure(value, kind, tb)
        )

    # Drawing

    def _showStatus(self) -> None:
        if self.window is not None:
            self.window.showStatus(
                *console_model.status(
                    self.stopping, self.chat.addresses, self._clusterStatus()
                )
            )

    def _clusterStatus(self) -> str:
        node = self.server.cluster
        if node is None:
            return ""
        if node.connected:
            return f"node {node.name} of {node.url}"
        return (
            f"node {node.name}: Redis {node.url} unreachable, chatting within the node"
        )

    def _refresh(self) -> None:
        self._listsChanged = False
        if self.window is None:
            return
        realm = self.server.realm
        rows = console_model.user_rows(realm.everyone(), realm.now(), realm.rooms)
        self._rows = {row.key: row for row in rows}
        count = console_model.count_text(
            len(rows),
            len(self.server.admission.connections) + len(realm.remote),
            len(realm.rooms),
        )
        self.window.showUsers(rows, count)
        self.window.showRooms(console_model.room_rows(realm.rooms.values()))
        bans = console_model.ban_rows(realm.moderation, realm.rooms, realm.now())
        self._bans = {row.key: row for row in bans}
        self.window.showBans(bans)

    def _tick(self) -> None:
        window = self.window
        if window is None:
            return
        counters = console_model.read_counters(self.server)
        window.showFigures(console_model.figures_text(self._counters, counters))
        self._counters = counters
        self._ticks += 1
        if self._ticks % USERS_EVERY == 0:
            self._refresh()

    # Reloading

    def reload(self) -> list[str]:
        """
        Read the server's settings files again, as C{SIGHUP} does
        (L{ChatService.reload}): the one place the console's Reload reaches
        it.

        @return: One line for each part that could not be read again;
            empty when all were.
        """
        log.info("Reload asked for from the console", chat_event="reload")
        return self.chat.reload()

    def _reloadAsked(self) -> None:
        window = self.window
        if window is None or self.stopping:
            return
        try:
            problems = self.reload()
        except Exception as e:
            problems = [f"reload failed: {e}"]
        if problems:
            window.showReload("; ".join(problems), True)
        else:
            when = console_model.format_since(self._reactorNow(), self._reactorNow())
            window.showReload(f"Reloaded at {when}.", False)

    def _reactorNow(self) -> float:
        return self._reactor.seconds()

    # Kicking

    def _kick(self, key: str | None, reason: str) -> None:
        window = self.window
        if window is None or self.stopping:
            return
        row = self._rows.get(key) if key is not None else None
        if row is None:
            window.showHint("Select a user to kick.")
            return
        user = row.user
        realm = self.server.realm
        gone = f"{row.name} is not connected any more."
        if realm.lookup(user.name) is not user:
            window.showHint(gone)
            return
        try:
            # By the user's name now: it may have been renamed since the
            # list was drawn.
            realm.kick(user.name, reason)
        except NoSuchUser:
            window.showHint(gone)
            return
        window.showHint("")
        window.clearReason()

    # Moderation

    def actor(self) -> ChatUser:
        """
        @return: Who the console acts as (L{console_actor}).
        """
        if self._actor is None:
            self._actor = console_actor(self.server.realm)
        return self._actor

    def _lift(self, key: str | None) -> None:
        window = self.window
        if window is None or self.stopping:
            return
        row = self._bans.get(key) if key is not None else None
        if row is None:
            window.showBanHint("Select a ban, a mute or a kline to lift.")
            return
        actor = self.actor()
        try:
            if row.kind == KLINE:
                actor.unkline(row.mask)
            elif row.kind == MUTE:
                actor.unmute(row.room, row.mask)
            else:
                actor.unban(row.room, row.mask)
        except ChatError as e:
            # It ended meanwhile, or its room has no members any more.
            window.showBanHint(str(e))
        else:
            window.showBanHint("")
        self._refresh()
