"""
The view model: rendering, users, batches, scrollback, unread count.
"""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatclient.model import (
    KINDS,
    PALETTE,
    ChatModel,
    Status,
    colour_index,
    mentions,
    render,
)
from chatwire import lines
from tests.client.fakes import FakeView
from tests.strategies import events, names


@given(events, st.booleans())
def test_rendering_reads_as_the_server_line(event: lines.Event, own: bool) -> None:
    kind, parts = render(event, own)
    assert kind in KINDS
    assert "".join(part.text for part in parts) == event.format()
    for part in parts:
        if part.name:
            assert part.text == part.name


def test_render_kinds() -> None:
    assert render(lines.Message("Bob", "x"), own=True)[0] == "own"
    assert render(lines.Message("Bob", "x"))[0] == "message"
    assert render(lines.Error("no"))[0] == "error"
    assert render(lines.Renamed("a", "b"))[1][3].name == "b"


@given(names)
def test_colours_are_stable_and_follow_the_servers_name_key(name: str) -> None:
    assert colour_index(name) == colour_index(name.casefold()) == colour_index(name)
    assert 0 <= colour_index(name) < len(PALETTE)


def test_colours_ignore_case() -> None:
    assert colour_index("Alice") == colour_index("ALICE") == colour_index("alice")


def test_colour_is_the_same_every_run() -> None:
    assert colour_index("alice") == 7  # adler32, not the randomised hash()


def test_mentions() -> None:
    assert mentions("hey Alice, look", "alice")
    assert mentions("alice.", "alice")
    assert not mentions("malice", "alice")
    assert not mentions("alice.smith", "alice")
    assert not mentions("anything", "")


def build(
    scrollback: int = 5000, batch: int = 250
) -> tuple[ChatModel, FakeView, Clock]:
    clock = Clock()
    clock.advance(12 * 3600)
    model = ChatModel(clock, scrollback, batch, localtime=time.gmtime)
    view = FakeView()
    model.attach(view)
    return model, view, clock


def test_lines_are_stamped_and_flushed_next_turn() -> None:
    model, view, clock = build()
    model.addEvent(lines.Message("bob", "hi"))
    model.addNotice("local")
    assert view.lines == []
    clock.advance(0)
    assert [(line.time, line.text) for line in view.lines] == [
        ("12:00", "<bob> hi"),
        ("12:00", "local"),
    ]
    assert view.batches == [2]
    assert clock.getDelayedCalls() == []


def test_users_follow_the_notices() -> None:
    model, view, clock = build()
    model.addEvent(lines.UserList(("me", "bob")))
    model.addEvent(lines.Joined("Carol"))
    model.addEvent(lines.Left("bob", "Quit"))
    model.addEvent(lines.Renamed("Carol", "anna"))
    clock.advance(0)
    assert view.users == ["anna", "me"]
    model.disconnected()
    clock.advance(0)
    assert view.users == []


def test_own_rename_follows() -> None:
    model, view, clock = build()
    model.setServer("h:1")
    model.loggedIn("me")
    model.addEvent(lines.Renamed("ME", "you"))
    clock.advance(0)
    assert model.ownName == "you"
    assert view.title == "you on h:1 - Chat"
    assert view.chat


def test_burst_goes_in_batches_and_is_capped() -> None:
    model, view, clock = build(scrollback=1000, batch=300)
    for i in range(10_000):
        model.addEvent(lines.Message("bob", str(i)))
    model.flush()
    # Lines that would be trimmed before they were seen never reach the view.
    assert view.batches == [300]
    assert model.pending == 700
    assert len(clock.getDelayedCalls()) == 1  # the next batch, next turn
    clock.advance(0)
    assert view.batches == [300, 300, 300, 100]
    assert len(view.lines) == len(model.selected.lines) == 1000
    assert view.lines[0].text == "<bob> 9000"
    assert view.lines[-1].text == "<bob> 9999"
    model.addEvent(lines.Message("bob", "more"))
    clock.advance(0)
    assert len(view.lines) == 1000
    assert view.lines[0].text == "<bob> 9001"


def test_unread_count_in_title() -> None:
    model, view, clock = build()
    model.setServer("h:1")
    model.loggedIn("me")
    model.setFocused(False)
    model.addEvent(lines.Message("bob", "one"))
    model.addEvent(lines.Message("me", "mine"))
    model.addNotice("local")
    model.addEvent(lines.Joined("eve"))
    clock.advance(0)
    # Chat lines from others count; joins, notices and one's own do not.
    assert view.title == "(1) me on h:1 - Chat"
    model.setFocused(True)
    clock.advance(0)
    assert view.title == "me on h:1 - Chat"


def test_unread_count_follows_a_read_marker_moved_elsewhere() -> None:
    model, view, clock = build()
    model.setServer("h:1")
    model.loggedIn("me")
    model.setFocused(False)
    model.addEvent(lines.Message("bob", "one"))
    model.addEvent(lines.Message("bob", "two"))
    clock.advance(0)
    assert view.title == "(2) me on h:1 - Chat"
    model.addEvent(lines.ReadUpTo(model.home.name, 7, 0))
    clock.advance(0)
    assert view.title == "me on h:1 - Chat"
    model.addEvent(lines.ReadUpTo(model.home.name, 7, 1))
    clock.advance(0)
    assert view.title == "(1) me on h:1 - Chat"


def test_mentions_are_marked() -> None:
    model, view, clock = build()
    model.loggedIn("me")
    model.addEvent(lines.Message("bob", "hi me"))
    model.addEvent(lines.Message("me", "me me"))
    model.addEvent(lines.Action("bob", "pokes ME"))
    model.addEvent(lines.PrivateIn("bob", "psst"))
    clock.advance(0)
    assert [line.mention for line in view.lines] == [True, False, True, False]


def test_status_goes_straight_to_the_view() -> None:
    model, view, _ = build()
    model.setStatus(Status("x", "error", True))
    assert view.status == Status("x", "error", True)


def test_cancel() -> None:
    model, _, clock = build()
    model.addNotice("x")
    model.cancel()
    assert clock.getDelayedCalls() == []


def test_a_mention_while_the_window_is_not_focused_asks_for_attention() -> None:
    model, view, _clock = build()
    model.loggedIn("alice")
    model.setFocused(False)
    model.addEvent(lines.Message("bob", "Alice: look"))
    model.addEvent(lines.Message("bob", "no name here"))
    assert view.attentions == [("", "<bob> Alice: look")]


def test_a_private_line_while_the_window_is_not_focused_asks_for_attention() -> None:
    model, view, _clock = build()
    model.loggedIn("alice")
    model.setFocused(False)
    model.addEvent(lines.PrivateIn("bob", "psst"))
    assert view.attentions == [("bob", "*bob* psst")]


def test_nothing_asks_for_attention_while_the_window_is_focused() -> None:
    model, view, _clock = build()
    model.loggedIn("alice")
    model.addEvent(lines.Message("bob", "alice: look"))
    model.addEvent(lines.PrivateIn("bob", "psst"))
    model.echo(lines.Message("alice", "alice talks of herself"))
    assert view.attentions == []


def test_a_private_tab_gets_the_mention_mark() -> None:
    model, view, clock = build()
    model.loggedIn("alice")
    model.addEvent(lines.PrivateIn("bob", "psst"))
    clock.advance(0)
    assert view.tabs[-1] == "@ bob (1)"
    model.select(model.conversations["bob"])
    clock.advance(0)
    assert view.tabs[-1] == "bob"


def test_private_tabs_are_restored_without_being_selected() -> None:
    model, view, clock = build()
    model.restorePrivates(["bob", " ", "Carol"])
    clock.advance(0)
    assert model.privateNames() == ["bob", "Carol"]
    assert view.tabs == ["…", "bob", "Carol"]
    assert model.selected is model.home
    model.close(model.conversations["bob"])
    assert model.privateNames() == ["Carol"]
