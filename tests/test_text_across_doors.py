"""
Text that crosses doors: what a user of one door gives (a line, an action, a
private line, a topic, a part, quit or away reason, a real name, a client
tag, a name) reaches the users of every other door as one well-formed
message each, with no control or format character, or the sender gets one
error.  Four doors on one fake server, in memory: line, telnet, IRC (two
clients) and web.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from chatserver.doors.irc.codec import MAX_LINE
from chatserver.doors.irc.message import escape_tag_value, parse
from chatserver.testing import ChatHarness, LineClient
from chatwire import lines
from tests.doors.line.test_telnet import TelnetClient
from tests.doors.test_web import session

# Mathematical script capitals A and Z: four bytes of UTF-8 each.
LONG_NAME = "\U0001d49c" * 32  # 128 bytes, the longest name
LONG_ROOM = "#" + "\U0001d4b5" * 50  # 201 bytes, the longest room name


def _tagless(line: str) -> bytes:
    """
    @return: An IRC line as bytes, without its tags.
    """
    if line.startswith("@"):
        line = line.partition(" ")[2]
    return line.encode("utf-8")


def _strings(value: Any) -> Iterator[str]:
    """
    @return: Every string in a decoded JSON value, keys included.
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_JOINERS = frozenset("\u200c\u200d")


def _clean(text: str) -> bool:
    """
    @return: Whether C{text} has no control character (but the tab), lone
        surrogate, format character (but the joiners), line or paragraph
        separator or Hangul filler.
    """
    for char in text:
        category = unicodedata.category(char)
        if char == "\t" or char in _JOINERS:
            continue
        if category in ("Cc", "Cs", "Cf", "Zl", "Zp") or char in _BLANK_LETTERS:
            return False
    return True


class Doors:
    """
    One user on each door, all in C{#lobby}: C{lina} (line), C{tom}
    (telnet), C{ira} and C{iro} (IRC, with message-tags and server-time),
    C{wes} (web).
    """

    def __init__(self, **settings: Any) -> None:
        self.server = ChatHarness(rate=0, **settings)
        self.line = self.server.login("lina")
        self.telnet = TelnetClient(self.server)
        self.telnet.output()  # IAC DO BINARY and the greeting
        self.telnet.send("tom")
        irc = ("message-tags", "server-time")
        self.irc = self.server.ircLogin("ira", *irc, join="#lobby")
        self.irc2 = self.server.ircLogin("iro", *irc, join="#lobby")
        self.web, self.webOut, _ = session(self.server)
        self.web.textMessageReceived('{"type": "login", "name": "wes"}')
        self.read()

    def read(self) -> dict[str, list[Any]]:
        """
        @return: What each door's user received since the last call: lines
            (line, telnet, IRC, without line ends) or JSON messages (web).
        """
        web = list(self.webOut.sent)
        self.webOut.sent.clear()
        return {
            "line": self.line.received(),
            "telnet": self.telnet.received(),
            "irc": self.irc.raw(),
            "irc2": self.irc2.raw(),
            "web": web,
        }

    def webSend(self, **message: Any) -> None:
        self.web.textMessageReceived(json.dumps(message))

    def webLose(self) -> None:
        self.web.connectionLost(Failure(ConnectionDone()))


# The findings of issue 19, each on its own.


def test_a_web_quit_reason_forges_no_irc_line_and_breaks_no_line():
    doors = Doors()
    forged = "bye\r\n:admin!admin@irc PRIVMSG #lobby :spoofed\r\n"
    doors.webSend(type="quit", reason=forged)
    doors.webLose()
    got = doors.read()
    (quit,) = got["irc"]
    assert parse(quit).command == "QUIT"
    assert parse(quit).params == ("Quit: bye:admin!admin@irc PRIVMSG #lobby :spoofed",)
    assert got["line"] == [
        "<-- wes has left (Quit: bye:admin!admin@irc PRIVMSG #lobby :spoofed)"
    ]


def test_an_irc_quit_reason_reaches_line_users_without_control_characters():
    doors = Doors()
    doors.irc.protocol.dataReceived(b"QUIT :\x1b[2Jgone\x07\x00 for good\r\n")
    doors.irc.lose()
    got = doors.read()
    assert got["line"] == ["<-- ira has left (Quit: [2Jgone for good)"]
    assert got["telnet"] == got["line"]


def test_a_real_name_with_control_characters_is_cleaned_in_whois_and_who():
    doors = Doors()
    eve = doors.server.irc()
    eve.protocol.dataReceived(b"NICK eve\r\nUSER eve 0 * :\x1bEvil\x01 \x00Eve\r\n")
    doors.irc.send("WHOIS eve", "WHO eve")
    replies = {m.command: m.params for m in doors.irc.messages()}
    assert replies["311"][-1] == "Evil Eve"
    assert replies["352"][-1] == "0 Evil Eve"
    assert eve.protocol.realname == "Evil Eve"


def test_a_client_tag_value_with_nul_and_esc_is_relayed_cleaned():
    doors = Doors()
    doors.irc.protocol.dataReceived(
        b"@+draft/reply=41\x00\x1b[2J PRIVMSG #lobby :hi\r\n"
    )
    doors.irc.protocol.dataReceived(b"@+typing=\x1bactive TAGMSG #lobby\r\n")
    said, typing = doors.irc2.messages()
    assert said.tags["+draft/reply"] == "41[2J"
    assert typing.tags["+typing"] == "active"


@pytest.mark.parametrize("name", ["\u3164", "bob\u3164", "\u01c3\u01c3\u01c3"])
def test_names_that_render_blank_or_as_punctuation_are_refused_on_every_door(name):
    doors = Doors()
    client = doors.server.connect()
    client.received()
    client.send(name)
    (error,) = client.events()
    assert isinstance(error, lines.Error) and "not allowed in a name" in error.text
    irc = doors.server.irc()
    irc.send(f"NICK {name}")
    assert irc.commands() == ["432"]
    web, out, _ = session(doors.server)
    out.sent.clear()
    web.textMessageReceived(json.dumps({"type": "login", "name": name}))
    assert [m["type"] for m in out.sent] == ["error"]
    assert name not in doors.server.realm
    assert doors.read()["line"] == []


def test_a_right_to_left_override_in_text_is_refused_on_every_door():
    doors = Doors()
    text = "see \u202etxt.exe"
    doors.line.send(text)
    doors.irc.send(f"PRIVMSG #lobby :{text}")
    doors.webSend(type="say", text=text)
    got = doors.read()
    why = "control and format characters are not allowed (found U+202E RIGHT-TO-LEFT"
    assert [line.startswith(f"!!! {why}") for line in got["line"]] == [True]
    (fail,) = (parse(line) for line in got["irc"])
    assert fail.command == "FAIL" and fail.params[-1].startswith(why)
    (error,) = got["web"]
    assert error["type"] == "error" and error["message"].startswith(why)
    assert got["telnet"] == got["irc2"] == []


def test_a_long_multibyte_part_reason_and_topic_fit_512_bytes_on_irc():
    doors = Doors()
    sender = doors.server.login(LONG_NAME)
    sender.send(f"/join {LONG_ROOM}")
    doors.irc.send(f"JOIN {LONG_ROOM}")
    sender.send(f"/topic {LONG_ROOM} " + "é" * 195)
    sender.send(f"/part {LONG_ROOM} " + "€" * 130)
    topic, part = doors.read()["irc"][-2:]
    assert parse(topic).command == "TOPIC" and parse(part).command == "PART"
    for line in (topic, part):
        assert len(_tagless(line)) + 2 <= MAX_LINE
    assert parse(topic).params[-1] == "é" * len(parse(topic).params[-1])


def test_only_the_first_piece_of_a_split_message_carries_its_msgid():
    doors = Doors()
    doors.line.send("word " * 300)
    pieces = [parse(line) for line in doors.read()["irc"]]
    assert len(pieces) >= 3
    assert [piece.command for piece in pieces] == ["PRIVMSG"] * len(pieces)
    assert "msgid" in pieces[0].tags
    assert [("msgid" in piece.tags) for piece in pieces[1:]] == [False] * (
        len(pieces) - 1
    )
    assert all("time" in piece.tags for piece in pieces)


def test_a_web_line_longer_than_a_line_user_may_send_is_refused():
    doors = Doors()
    doors.webSend(type="say", text="x" * 5000)
    got = doors.read()
    assert got["web"] == [
        {
            "type": "error",
            "message": "a line is at most 4096 bytes of UTF-8 (that one has 5000)",
            "about": "say",
        }
    ]
    assert got["line"] == got["telnet"] == got["irc"] == []
    doors.webSend(type="say", text="x" * 4096)
    assert doors.read()["line"] == ["<wes> " + "x" * 4096]


# Arbitrary Unicode through every door's every field.

_DANGEROUS = (
    "\r\n\x00\x01\x07\x1b\x7f\x85\t \u202e\u2066\u200e\u3164\u01c3\u2028\ufeff"
    "\ud800\U000e0041\u200d\ufe0f:#/@;\\\u00e9\U0001d49c"
)
texts = st.text(
    st.characters(exclude_categories=()) | st.sampled_from(_DANGEROUS), max_size=300
)

Action = Callable[[Doors, str], None]


def _framed(text: str) -> str:
    """
    @return: C{text} as a line-framed door can carry it: a line end ends
        the line, and UTF-8 has no lone surrogates.
    """
    text = text.replace("\r", " ").replace("\n", " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def _line_door(
    client: Callable[[Doors], LineClient | TelnetClient],
    lose: Callable[[Doors], None],
) -> dict[str, Action]:
    def command(template: str) -> Action:
        def act(doors: Doors, text: str) -> None:
            client(doors).send(template.format(_framed(text)))

        return act

    def say(doors: Doors, text: str) -> None:
        text = _framed(text)
        client(doors).send("/" + text if text.startswith("/") else text)

    def quit(doors: Doors, text: str) -> None:
        client(doors).send(f"/quit {_framed(text)}")
        lose(doors)

    def login(doors: Doors, text: str) -> None:
        # A newcomer of the same door, whom the others see join.
        newcomer = client(doors)
        other = (
            doors.server.connect()
            if isinstance(newcomer, LineClient)
            else TelnetClient(doors.server)
        )
        other.send(_framed(text))

    return {
        "login": login,
        "say": say,
        "act": command("/me {}"),
        "msg": command("/msg iro {}"),
        "topic": command("/topic #lobby {}"),
        "part": command("/part #lobby {}"),
        "quit": quit,
        "nick": command("/nick {}"),
        "to": command("/msg {} hi"),
        "room": command("/join {}"),
    }


def _irc_send(doors: Doors, line: str) -> None:
    doors.irc.protocol.dataReceived(_framed(line).encode("utf-8") + b"\r\n")


def _one_target(text: str) -> str:
    return "".join(char for char in text if char not in " ,") or "x"


def _irc_realname(doors: Doors, text: str) -> None:
    eve = doors.server.irc()
    eve.protocol.dataReceived(
        f"NICK eve\r\nUSER eve 0 * :{_framed(text)}\r\nJOIN #lobby\r\n".encode()
    )
    doors.irc.send("WHOIS eve", "WHO eve")


def _irc_away(doors: Doors, text: str) -> None:
    _irc_send(doors, f"AWAY :{text}")
    doors.irc2.send("WHOIS ira")


def _irc_tag(doors: Doors, text: str) -> None:
    value = escape_tag_value(text.encode("utf-8", "replace").decode("utf-8"))
    doors.irc.protocol.dataReceived(
        f"@+draft/reply={value} PRIVMSG #lobby :hi\r\n".encode()
    )


def _irc_quit(doors: Doors, text: str) -> None:
    _irc_send(doors, f"QUIT :{text}")
    doors.irc.lose()


def _web_quit(doors: Doors, text: str) -> None:
    doors.webSend(type="quit", reason=text)
    doors.webLose()


def _web_login(doors: Doors, text: str) -> None:
    web = session(doors.server)[0]
    web.textMessageReceived(json.dumps({"type": "login", "name": text}))


SENDERS: dict[str, tuple[str, dict[str, Action]]] = {
    "line": (
        "line",
        _line_door(lambda doors: doors.line, lambda doors: doors.line.lose()),
    ),
    "telnet": (
        "telnet",
        _line_door(
            lambda doors: doors.telnet,
            lambda doors: doors.telnet.telnet.connectionLost(Failure(ConnectionDone())),
        ),
    ),
    "irc": (
        "irc",
        {
            "say": lambda d, t: _irc_send(d, f"PRIVMSG #lobby :{t}"),
            "act": lambda d, t: _irc_send(d, f"PRIVMSG #lobby :\x01ACTION {t}\x01"),
            "msg": lambda d, t: _irc_send(d, f"PRIVMSG lina :{t}"),
            "topic": lambda d, t: _irc_send(d, f"TOPIC #lobby :{t}"),
            "part": lambda d, t: _irc_send(d, f"PART #lobby :{t}"),
            "quit": _irc_quit,
            "nick": lambda d, t: _irc_send(d, f"NICK :{t}"),
            # One target (IRC's lists are split at commas).
            "to": lambda d, t: _irc_send(d, f"PRIVMSG {_one_target(t)} :hi"),
            "room": lambda d, t: _irc_send(d, f"JOIN {_one_target(t)}"),
            "away": _irc_away,
            "realname": _irc_realname,
            "tag": _irc_tag,
        },
    ),
    "web": (
        "web",
        {
            "say": lambda d, t: d.webSend(type="say", text=t),
            "act": lambda d, t: d.webSend(type="act", text=t),
            "msg": lambda d, t: d.webSend(type="msg", to="tom", text=t),
            "topic": lambda d, t: d.webSend(type="topic", room="#lobby", text=t),
            "part": lambda d, t: d.webSend(type="part", room="#lobby", reason=t),
            "quit": _web_quit,
            "nick": lambda d, t: d.webSend(type="nick", name=t),
            "login": _web_login,
            "to": lambda d, t: d.webSend(type="msg", to=t, text="hi"),
            "room": lambda d, t: d.webSend(type="join", room=t),
        },
    ),
}
CASES = [(door, field) for door, (_, fields) in SENDERS.items() for field in fields]


def _errors(door: str, received: list[Any]) -> int:
    """
    @return: How many of what the sender's door received are errors.
    """
    if door in ("line", "telnet"):
        return sum(line.startswith("!!! ") for line in received)
    if door == "irc":
        commands = [parse(line).command for line in received]
        return sum(c == "FAIL" or (c.isdigit() and c[0] == "4") for c in commands)
    return sum(message["type"] == "error" for message in received)


def _well_formed(door: str, received: list[Any]) -> int:
    """
    Check that what one door's user received is well-formed and clean.

    @return: How many events it tells (the pieces of one split IRC message
        tell one).
    """
    if door in ("line", "telnet"):
        for line in received:
            assert _clean(line), line
            lines.parse(line)
        return len(received)
    if door.startswith("irc"):
        messages = []
        for line in received:
            assert len(_tagless(line)) + 2 <= MAX_LINE, line
            message = parse(line)
            texts = [message.prefix, *message.params, *message.tags.values()]
            if texts[-1 - len(message.tags)].startswith("\x01ACTION "):
                # An action's CTCP framing, the one control character IRC
                # itself needs.
                action = texts[-1 - len(message.tags)]
                assert action.endswith("\x01"), line
                texts[-1 - len(message.tags)] = action[len("\x01ACTION ") : -1]
            for text in texts:
                assert _clean(text), line
            messages.append(message)
        commands = {m.command for m in messages}
        if commands <= {"PRIVMSG", "NOTICE"}:
            return min(len(messages), 1)
        return len(messages)
    for message in received:
        for text in _strings(message):
            assert _clean(text), message
    return len(received)


@pytest.mark.parametrize(("door", "field"), CASES)
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=texts)
def test_any_text_reaches_every_other_door_as_one_clean_message_or_is_refused(
    door, field, text
):
    doors = Doors(maxLine=600)
    senderDoor, actions = SENDERS[door]
    actions[field](doors, text)
    got = doors.read()
    # A real name is given by a client of its own (eve), not by ira.
    errors = 0 if field == "realname" else _errors(senderDoor, got.pop(senderDoor))
    assert errors <= 1
    if field in ("realname", "away"):
        # Seen only when asked for (WHOIS, WHO): by an IRC user.
        asker = "irc" if field == "realname" else "irc2"
        _well_formed(asker, got[asker])
        return
    told = {where: _well_formed(where, received) for where, received in got.items()}
    if field == "msg":
        recipient = {"line": "irc2", "telnet": "irc2", "irc": "line", "web": "telnet"}
        told = {recipient[door]: told[recipient[door]]}
    if field == "tag":
        told = {"irc2": told["irc2"]}
    if field == "to":
        # Whoever the name names (if anyone) is told, once.
        assert sum(told.values()) <= 1, (told, got)
        return
    if field == "quit":
        # The connection closes whatever the reason holds: everyone is told,
        # once (a line door's /quit refused for its text, then closed, is
        # told with the door's own reason).
        assert set(told.values()) == {1}, (told, got)
        return
    assert set(told.values()) <= {0, 1}, (told, got)
    if 1 in told.values():
        assert set(told.values()) == {1}, (told, got)
        assert errors == 0
    event("told" if 1 in told.values() else "refused" if errors else "ignored")


def test_a_private_line_to_a_name_no_user_may_have_is_refused_in_one_line():
    doors = Doors()
    doors.web.textMessageReceived('{"type": "msg", "to": "\\u3164", "text": "hi"}')
    (error,) = doors.read()["web"]
    assert error["type"] == "error"
    assert error["message"].startswith("invalid name: U+3164")
    doors.irc.send("PRIVMSG \u3164 :hi")
    assert [m.command for m in doors.irc.messages()] == ["401"]


def test_an_irc_ident_holds_only_what_a_name_may_hold():
    doors = Doors()
    eve = doors.server.irc()
    eve.send("NICK eve", "USER \u3164e\u01c3ve\u202e 0 * :Eve", "JOIN #lobby")
    (join,) = doors.irc.messages()
    assert join.prefix == "eve!~eve@irc"


def test_a_command_with_a_control_character_before_login_gets_one_error_line():
    doors = Doors()
    client = doors.server.connect()
    client.received()
    client.send("/quit \x1b[2J")
    assert client.received() == [
        "!!! control and format characters are not allowed (found U+001B)"
    ]
    assert not client.closing
