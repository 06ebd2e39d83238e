"""
The view model moves the account's read marker: what the focused window
shows is read, and the server is told (C{/read}) once per burst.
"""

from __future__ import annotations

import time

from twisted.internet.task import Clock

from chatclient.model import READ_DELAY, ChatModel
from chatwire import lines
from tests.client.fakes import FakeView


def build(account: bool = True) -> tuple[ChatModel, FakeView, Clock, list[str]]:
    """
    A model logged in as C{me} (an account unless told otherwise), in
    C{#dev}, with the lines it sends collected.
    """
    clock = Clock()
    clock.advance(12 * 3600)
    model = ChatModel(clock, localtime=time.gmtime)
    view = FakeView()
    model.attach(view)
    sent: list[str] = []
    model.send = sent.append
    model.setServer("h:1")
    model.loggedIn("me")
    model.account = account
    model.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    clock.advance(0)
    return model, view, clock, sent


def say(model: ChatModel, room: str, *texts: str) -> None:
    for text in texts:
        model.addEvent(lines.InRoom(room, lines.Message("bob", text)))


def test_a_burst_of_lines_in_the_shown_conversation_is_one_read() -> None:
    model, _view, clock, sent = build()
    say(model, "#dev", "one", "two", "three")
    clock.advance(READ_DELAY / 2)
    say(model, "#dev", "four")
    assert sent == []
    clock.advance(READ_DELAY / 2)
    assert sent == ["/read #dev"]
    clock.advance(READ_DELAY * 5)
    assert sent == ["/read #dev"]


def test_lines_after_a_read_are_another_read() -> None:
    model, _view, clock, sent = build()
    say(model, "#dev", "one")
    clock.advance(READ_DELAY)
    say(model, "#dev", "two")
    clock.advance(READ_DELAY)
    assert sent == ["/read #dev", "/read #dev"]


def test_a_replay_is_read_up_to_its_newest_id() -> None:
    model, _view, clock, sent = build()
    for id in (40, 42, 41):
        entry = lines.History(id, 1000.0 + id, lines.Message("bob", str(id)))
        model.addEvent(lines.InRoom("#dev", entry))
    model.addEvent(lines.InRoom("#dev", lines.HistoryEnd(3)))
    clock.advance(READ_DELAY)
    assert sent == ["/read #dev 42"]


def test_a_live_line_after_the_replay_is_read_as_the_newest() -> None:
    model, _view, clock, sent = build()
    entry = lines.History(42, 1042.0, lines.Message("bob", "old"))
    model.addEvent(lines.InRoom("#dev", entry))
    model.addEvent(lines.InRoom("#dev", lines.HistoryEnd(1)))
    say(model, "#dev", "new")
    clock.advance(READ_DELAY)
    # The live line's id is not known here: the server's newest line.
    assert sent == ["/read #dev"]


def test_an_unfocused_window_reads_nothing_until_it_gains_the_focus() -> None:
    model, _view, clock, sent = build()
    model.setFocused(False)
    say(model, "#dev", "one", "two")
    clock.advance(READ_DELAY * 5)
    assert sent == []
    model.setFocused(True)
    clock.advance(READ_DELAY)
    assert sent == ["/read #dev"]


def test_focus_again_with_nothing_new_reads_nothing() -> None:
    model, _view, clock, sent = build()
    say(model, "#dev", "one")
    clock.advance(READ_DELAY)
    model.setFocused(False)
    model.setFocused(True)
    clock.advance(READ_DELAY)
    assert sent == ["/read #dev"]


def test_a_tab_not_shown_is_read_when_it_is_selected() -> None:
    model, _view, clock, sent = build()
    dev = model.selected
    model.addEvent(lines.InRoom("#ops", lines.Joined("me")))
    ops = model.selected
    model.select(dev)
    say(model, "#ops", "one")
    model.addEvent(lines.PrivateIn("carol", "psst"))
    clock.advance(READ_DELAY * 5)
    assert sent == []
    model.select(ops)
    model.select(model.conversation("carol") or dev)
    clock.advance(READ_DELAY)
    # Two conversations read in one spell: one read each, together.
    assert sent == ["/read #ops", "/read carol"]


def test_a_guest_reads_nothing() -> None:
    model, _view, clock, sent = build(account=False)
    say(model, "#dev", "one")
    model.setFocused(False)
    model.setFocused(True)
    clock.advance(READ_DELAY * 5)
    assert sent == []


def test_a_refused_read_of_its_own_is_not_shown() -> None:
    model, view, clock, sent = build()
    model.addEvent(lines.PrivateIn("guest", "hello"))
    model.select(model.conversation("guest") or model.home)
    clock.advance(READ_DELAY)
    assert sent == ["/read guest"]
    model.addEvent(lines.Error("there is no line to mark read in guest"))
    clock.advance(0)
    assert "!!! there is no line" not in [line.text for line in view.lines]
    # The same refusal, not asked for by the client, is shown.
    model.addEvent(lines.Error("there is no line to mark read in guest"))
    clock.advance(0)
    assert "!!! there is no line to mark read in guest" in [
        line.text for line in view.lines
    ]


def test_the_shown_conversation_has_no_unread_count_from_elsewhere() -> None:
    model, _view, clock, sent = build()
    say(model, "#dev", "one")
    model.addEvent(lines.ReadUpTo("#dev", 7, 1))
    clock.advance(0)
    assert model.selected.unread == 0
    clock.advance(READ_DELAY)
    assert sent == ["/read #dev"]


def test_a_marker_moved_elsewhere_to_the_end_needs_no_read() -> None:
    model, _view, clock, sent = build()
    model.setFocused(False)
    say(model, "#dev", "one")
    model.addEvent(lines.ReadUpTo("#dev", 7, 0))
    model.setFocused(True)
    clock.advance(READ_DELAY)
    assert sent == []


def test_registering_makes_the_name_an_account() -> None:
    model, _view, _clock, _sent = build(account=False)
    model.addEvent(
        lines.Info("the account me is registered: log in with its password from now on")
    )
    assert model.account
    model.addEvent(lines.Info("the account me is gone: you are a guest now"))
    assert not model.account
