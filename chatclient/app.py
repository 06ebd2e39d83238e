"""
The program: read the command line, build the window, install Tk into the
reactor with L{tksupport.install}, and run the reactor.

There is one thread: the reactor calls Tk's C{update} a hundred times a
second (that is all L{tksupport} does), and Tk's callbacks call the
session, which writes to the connection.
"""

from __future__ import annotations

import argparse
import os
import sys
import tkinter as tk
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from chatclient import config
from chatclient.attention import Notifier, notify_send
from chatclient.model import ChatModel
from chatclient.network import (
    EndpointMaker,
    RetryPolicy,
    endpoint_maker,
    load_trust_root,
)
from chatclient.passwords import Keyring
from chatclient.session import ChatSession
from chatclient.window import ChatWindow


@dataclass(frozen=True)
class Options:
    """
    The command line.

    @ivar name: The name to log in with; when given the client connects at
        once instead of waiting on its connect form.
    @ivar scrollback: How many lines the chat view keeps.
    @ivar tls: Whether to connect over TLS (the form's box starts ticked).
    @ivar ca: A PEM file of the certificates to trust over TLS (a private
        CA, or the server's self-signed certificate), or C{""} for the
        platform's trust.
    @ivar keepPassword: Whether the "Remember password" box starts ticked
        (remembered): the password is then in the system keyring.

    There is no password option: a password on a command line can be read
    by every user of the machine (C{ps}); the connect form asks for it.
    """

    host: str = "localhost"
    port: int = 8123
    name: str = ""
    scrollback: int = 5000
    tls: bool = False
    ca: str = ""
    theme: str = "light"
    geometry: str = "900x560"
    rooms: tuple[str, ...] = ()
    privates: tuple[str, ...] = ()
    rememberedName: str = ""
    scale: float | None = None
    keepPassword: bool = False


def _number(text: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    return int(digits)


def _port(text: str) -> int:
    port = _number(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"a port is from 1 to 65535, not {port}")
    return port


def _positive(text: str) -> int:
    number = _number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _scale(text: str) -> float:
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.5 <= scale <= 4.0:
        raise argparse.ArgumentTypeError(f"a scale is from 0.5 to 4, not {text}")
    return scale


def _ca_file(path: str) -> str:
    try:
        with open(path, "rb") as f:
            load_trust_root(f.read())
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{path}: {e}") from None
    return os.path.abspath(path)


def parse_arguments(argv: Sequence[str]) -> Options:
    """
    Read the command line.

    @param argv: The arguments, without the program's name.
    @raise SystemExit: On a bad argument (after printing why), or C{--help}.
    """
    parser = argparse.ArgumentParser(
        prog="chat-client",
        description="A desktop client for the Twisted group chat server.",
    )
    remembered = config.load()
    parser.add_argument("--host", default=None, help="server host name")
    parser.add_argument("--port", type=_port, default=None, help="server port")
    parser.add_argument(
        "--name", default="", help="log in as NAME at once (else show the form)"
    )
    parser.add_argument(
        "--theme",
        choices=("light", "dark"),
        default=remembered.theme,
        help="light or dark (remembered)",
    )
    parser.add_argument(
        "--scale",
        type=_scale,
        default=None,
        metavar="FACTOR",
        help="draw FACTOR times larger than at 96 DPI, e.g. 2 on a HiDPI "
        "screen (default: from the DPI the X server reports)",
    )
    parser.add_argument(
        "--scrollback",
        type=_positive,
        default=5000,
        metavar="LINES",
        help="lines the chat view keeps (default 5000)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="connect over TLS, verifying the server's certificate and host name",
    )
    parser.add_argument(
        "--ca",
        type=_ca_file,
        default=None,
        metavar="FILE",
        help="trust the certificates in this PEM file (a private CA or the "
        "server's self-signed certificate) instead of the system's; implies --tls",
    )
    args = parser.parse_args(list(argv))
    return Options(
        args.host or remembered.host,
        args.port or remembered.port,
        args.name.strip(),
        args.scrollback,
        tls=args.tls or bool(args.ca),
        ca=args.ca or "",
        theme=args.theme,
        geometry=remembered.geometry,
        rooms=tuple(remembered.rooms),
        privates=tuple(remembered.privates),
        rememberedName=remembered.name,
        scale=args.scale,
        keepPassword=remembered.keepPassword,
    )


class ChatClient:
    """
    The whole client, assembled: model, session and window on one Tk root.
    """

    def __init__(
        self,
        root: tk.Tk,
        clock: IReactorTime,
        options: Options,
        makeEndpoint: EndpointMaker | None = None,
        retryPolicy: RetryPolicy | None = None,
        *,
        notify: Notifier | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        """
        @param notify: Shows a desktop notification; by default
            C{notify-send}, where it is installed.
        @param keyring: Where a password is kept when the reader asks; by
            default the system's.
        """
        self.root = root
        self.options = options
        self.model = ChatModel(clock, options.scrollback)
        if makeEndpoint is None:
            trustRoot = None
            if options.ca:
                with open(options.ca, "rb") as f:
                    trustRoot = load_trust_root(f.read())
            makeEndpoint = endpoint_maker(trustRoot, clock)
        self.session = ChatSession(self.model, clock, makeEndpoint, retryPolicy)
        self.window = ChatWindow(
            root,
            self.model,
            self.session,
            host=options.host,
            port=options.port,
            name=options.name,
            tls=options.tls,
            trust=options.ca,
            theme=options.theme,
            geometry=options.geometry,
            scale=options.scale,
            notify=notify_send() if notify is None else notify,
            keyring=keyring,
            keepPassword=options.keepPassword,
        )
        self.session.wantedRooms = list(options.rooms)
        self.model.restorePrivates(options.privates)
        if not options.name and options.rememberedName:
            self.window.nameVar.set(options.rememberedName)
        self._closing: defer.Deferred[None] | None = None

    def start(self) -> None:
        """
        Connect at once when the command line named the user.
        """
        if self.options.name:
            self.window.submit()

    def remembered(self) -> config.Remembered:
        """
        @return: What to remember for the next start.
        """
        window, options = self.window, self.options
        return config.Remembered(
            host=window.hostVar.get().strip() or options.host,
            port=self.session.connection.port or options.port,
            name=self.session.wantedName or window.nameVar.get().strip(),
            tls=window.tlsVar.get(),
            theme=options.theme,
            geometry=window.unscaledSize(),
            rooms=list(self.model.roomNames() or self.session.wantedRooms),
            privates=self.model.privateNames(),
            keepPassword=window.keepVar.get(),
        )

    def close(self) -> defer.Deferred[None]:
        """
        Say goodbye to the server and close the connection.

        @return: Fires when that is done; calling again gives the same wait.
        """
        if self._closing is None:
            self._closing = self.session.quit()
            self._closing.addBoth(lambda _: self.model.cancel())
        done = defer.Deferred[None]()
        self._closing.addBoth(lambda _: done.callback(None))
        return done


def prepare(options: Options, reactor: Any) -> ChatClient:
    """
    Build the client on a new Tk root and install it into C{reactor}:
    closing the window stops the reactor, and stopping the reactor (from
    the window, Ctrl-C or SIGTERM) first says goodbye to the server.

    @param reactor: The reactor that is about to run.
    @return: The client; it connects once the reactor runs if C{options}
        name the user.
    """
    from twisted.internet import tksupport

    root = tk.Tk(className="Chat")
    client = ChatClient(root, reactor, options)
    tksupport.install(root)

    def goodbye() -> defer.Deferred[None]:
        config.save(client.remembered())
        root.withdraw()

        def destroy(_: object) -> None:
            tksupport.uninstall()
            client.window.alerts.close()
            root.destroy()

        return client.close().addCallback(destroy)

    reactor.addSystemEventTrigger("before", "shutdown", goodbye)
    root.protocol("WM_DELETE_WINDOW", reactor.stop)
    root.createcommand("::tk::mac::Quit", reactor.stop)
    reactor.callWhenRunning(client.start)
    return client


def main(argv: Sequence[str] | None = None) -> None:
    """
    Run the client until its window is closed.
    """
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    from twisted.internet import reactor

    prepare(options, reactor)
    reactor.run()
