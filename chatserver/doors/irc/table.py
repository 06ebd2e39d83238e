"""
Every command the IRC door reads, in one table (as Ergo's
C{irc/commands.go}): its handler, the fewest parameters it needs, and
whether it may come before registration, after it, or both.

L{dispatch} answers from the table what no handler checks for itself:
421 for a command not in it, 451 for one that needs registration sent
before it, 462 for a registration command sent after it, and 461 for
fewer parameters than the command needs.  A needed parameter that is
empty (C{JOIN :}; only the last can be) is missing too.  A handler is
called with what its command needs, and answers the rest: the numerics
its own command has for a missing nick or text (431, 409, 411, 412), and
the chat core's refusals (L{refusals.refuse}).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatserver.doors.irc import (
    accounts,
    chathistory,
    commands,
    markread,
    moderation,
    numerics,
    registration,
)
from chatserver.doors.irc.refusals import need_more_params

if TYPE_CHECKING:
    from chatserver.doors.irc.message import Message
    from chatserver.doors.irc.protocol import IrcProtocol

Handler = Callable[["IrcProtocol", "Message"], None]


@dataclass(frozen=True)
class Command:
    """
    One command of the table.

    @ivar handler: Called with the connection and the message once the
        table's checks have passed.
    @ivar minParams: How many parameters, none of them empty, it needs.
    @ivar beforeRegistration: Whether it may be sent before registration.
    @ivar afterRegistration: Whether it may be sent after registration
        (C{PASS} and C{USER} may not).
    """

    handler: Handler
    minParams: int = 0
    beforeRegistration: bool = False
    afterRegistration: bool = True


def _registered(command: commands.Command) -> Handler:
    """
    @return: A handler calling C{command} with the connection's user, which
        the table's checks made sure is there.
    """

    def handler(connection: IrcProtocol, msg: Message) -> None:
        user = connection.user
        assert user is not None
        command(connection, user, msg)

    return handler


def _registration(handler: Handler, minParams: int = 0) -> Command:
    """
    @return: The entry of a command a client may send before registration
        and after.
    """
    return Command(handler, minParams, beforeRegistration=True)


TABLE: dict[str, Command] = {
    # Registration, and what a client may send at any time.
    "CAP": _registration(registration.cap, 1),
    "PASS": Command(
        registration.password, 1, beforeRegistration=True, afterRegistration=False
    ),
    "NICK": _registration(registration.nick),  # no nick: 431, not 461
    "USER": Command(
        registration.user, 4, beforeRegistration=True, afterRegistration=False
    ),
    "AUTHENTICATE": _registration(registration.authenticate, 1),
    "REGISTER": _registration(accounts.register, 3),
    "PING": _registration(registration.ping),  # no token: 409, not 461
    "PONG": _registration(registration.pong),
    "QUIT": _registration(registration.quit),
    # Rooms.
    "JOIN": Command(_registered(commands.join), 1),
    "PART": Command(_registered(commands.part), 1),
    "TOPIC": Command(_registered(commands.topic), 1),
    "NAMES": Command(_registered(commands.names)),
    "LIST": Command(_registered(commands.list_)),
    # Messages: no target is 411, no text 412 (neither for a NOTICE).
    "PRIVMSG": Command(_registered(commands.privmsg)),
    "NOTICE": Command(_registered(commands.notice)),
    "TAGMSG": Command(_registered(commands.tagmsg)),
    # Users.
    "AWAY": Command(_registered(commands.away)),
    "WHO": Command(_registered(commands.who)),
    "WHOIS": Command(_registered(commands.whois)),  # no nick: 431
    "USERHOST": Command(_registered(commands.userhost), 1),
    "ISON": Command(_registered(commands.ison), 1),
    "MODE": Command(_registered(commands.mode), 1),
    # Moderation (chatserver.doors.irc.moderation; MODE #room too).
    "KICK": Command(_registered(moderation.kick), 2),
    "INVITE": Command(_registered(moderation.invite), 2),
    "OPER": Command(_registered(moderation.oper), 2),
    "KILL": Command(_registered(moderation.kill), 1),
    "KLINE": Command(_registered(moderation.kline), 1),
    "UNKLINE": Command(_registered(moderation.unkline), 1),
    # The server.
    "MOTD": Command(_registered(commands.motd)),
    "LUSERS": Command(_registered(commands.lusers)),
    "TIME": Command(_registered(commands.time_)),
    # Its missing parameters are IRCv3 FAIL NEED_MORE_PARAMS, per subcommand.
    "CHATHISTORY": Command(_registered(chathistory.chathistory)),
    "MARKREAD": Command(_registered(markread.markread)),
    "SESSIONS": Command(_registered(commands.sessions)),
}


def dispatch(connection: IrcProtocol, msg: Message) -> None:
    """
    Hand C{msg} to the handler of its command, or answer why not.
    """
    command = TABLE.get(msg.command)
    if command is None:
        connection.reply(numerics.ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
        return
    if connection.user is None:
        if not command.beforeRegistration:
            connection.reply(numerics.ERR_NOTREGISTERED, "You have not registered")
            return
    elif not command.afterRegistration:
        connection.reply(numerics.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    needed = msg.params[: command.minParams]
    if len(needed) < command.minParams or not all(needed):
        need_more_params(connection, msg.command)
        return
    command.handler(connection, msg)
