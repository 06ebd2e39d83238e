"""
Rooms, private conversations and history in the client, without Tk: a
conversation per room and per person, history shown muted with a separator,
paging back, and a reconnection that rejoins without duplicates.
"""

from __future__ import annotations

from chatclient.model import OVERLAP
from chatwire import lines
from chatwire.lines import History, InRoom
from tests.client.fakes import FakeEndpoint, FakeView
from tests.client.test_session import build

T0 = 1_800_000_000.0


def login(endpoint: FakeEndpoint, rooms: tuple[str, ...] = ()) -> list[str]:
    endpoint.last.succeed()
    endpoint.last.receive(lines.Prompt("name", "name?"))
    assert endpoint.last.sent() == ["me"]
    endpoint.last.receive(lines.Welcome("chat", "me"), lines.UserList(("bob", "me")))
    assert endpoint.last.sent() == ["/where", "/rooms"]
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("bob", "me"))))
    sent = endpoint.last.sent()
    # The client asks who has which role (the answer to /where does not say).
    assert sent[0] == "/who #lobby"
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("bob", "me"))))
    return sent[1:]


def join_dev(endpoint: FakeEndpoint, *history: History) -> None:
    endpoint.last.receive(
        InRoom("#dev", lines.Joined("me")),
        InRoom("#dev", lines.UserList(("bob", "me"))),
    )
    assert endpoint.last.sent() == ["/who #dev"]
    endpoint.last.receive(
        InRoom("#dev", lines.UserList(("bob", "me"))),
        *(InRoom("#dev", h) for h in history),
        InRoom("#dev", lines.HistoryEnd(len(history))),
    )


def test_rooms_privates_unread_and_mentions() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    join_dev(endpoint)
    clock.advance(0)
    assert view.tabs == ["#lobby", "#dev"]
    assert view.selected == "#dev"
    endpoint.last.receive(
        InRoom("#lobby", lines.Message("bob", "hi me")),
        InRoom("#lobby", lines.Message("bob", "again")),
        InRoom("#dev", lines.Message("bob", "in dev")),
        lines.PrivateIn("carol", "psst"),
    )
    clock.advance(0)
    # A private line is marked as a mention is.
    assert view.tabs == ["@ #lobby (2)", "#dev", "@ carol (1)"]
    assert view.shown("#dev")[-1] == "<bob> in dev"
    # Typing in the lobby's tab makes it current first, and its answer is
    # not shown.
    session.model.select(session.model.home)
    assert session.send("hello") == ""
    assert endpoint.last.sent() == ["/join #lobby", "hello"]
    endpoint.last.receive(
        InRoom("#lobby", lines.Info("#lobby is your current room now"))
    )
    clock.advance(0)
    assert view.shown("#lobby")[-1] == "<me> hello"
    assert view.tabs == ["#lobby", "#dev", "@ carol (1)"]
    # A private tab sends to that person.
    session.model.select(session.model.conversations["carol"])
    assert session.send("hi carol") == ""
    assert endpoint.last.sent() == ["/msg carol hi carol"]
    # Closing a room's tab parts it; the tab goes when the server says so.
    session.model.close(session.model.conversations["#dev"])
    assert endpoint.last.sent() == ["/part #dev"]
    endpoint.last.receive(InRoom("#dev", lines.Left("me", "Part")))
    clock.advance(0)
    assert view.tabs == ["#lobby", "carol"]


def test_history_is_muted_with_a_separator_and_pages_insert_above() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    join_dev(
        endpoint,
        History(41, T0 - 60, lines.Message("bob", "old")),
        History(42, T0 - 30, lines.Action("bob", "waves")),
    )
    endpoint.last.receive(InRoom("#dev", lines.Message("bob", "live")))
    clock.advance(0)
    dev = session.model.conversations["#dev"]
    assert [line.text for line in dev.lines][-4:] == [
        "<bob> old",
        "* bob waves",
        "── live ──",
        "<bob> live",
    ]
    assert [line.history for line in dev.lines][-4:] == [True, True, False, False]
    assert session.model.olderHistory(dev)
    assert not session.model.olderHistory(dev)  # one page at a time
    assert endpoint.last.sent() == ["/history #dev 50"]
    endpoint.last.receive(
        InRoom("#dev", History(40, T0 - 90, lines.Message("bob", "older"))),
        InRoom("#dev", lines.HistoryEnd(1)),
    )
    assert view.shown("#dev")[0] == "<bob> older"
    assert session.model.olderHistory(dev)
    endpoint.last.receive(InRoom("#dev", lines.HistoryEnd(0)))
    assert view.shown("#dev")[0] == "── start of history ──"
    assert not session.model.olderHistory(dev)


def test_a_reconnection_rejoins_in_order_without_duplicates() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    join_dev(endpoint, History(41, T0 - 60, lines.Message("bob", "old")))
    endpoint.last.receive(
        InRoom("#ops", lines.Joined("me")), InRoom("#ops", lines.HistoryEnd(0))
    )
    clock.advance(10)
    endpoint.last.receive(InRoom("#dev", lines.Message("bob", "same")))
    assert session.send("/join #dev") == ""
    assert session.send("mine") == ""
    endpoint.last.sent()
    clock.advance(5)
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(lines.Prompt("name", "name?"))
    assert endpoint.last.sent() == ["me"]
    endpoint.last.receive(lines.Welcome("chat", "me"), lines.HistoryEnd(0))
    assert endpoint.last.sent() == ["/where", "/rooms"]
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("me",))))
    assert endpoint.last.sent() == ["/who #lobby", "/join #dev", "/join #ops"]
    # The server keeps "same" and "mine" with ids, at times near when we saw
    # them live; the replay holds them, one line said twice, and a new one.
    near = T0 + 10 + OVERLAP / 2
    join_dev(
        endpoint,
        History(41, T0 - 60, lines.Message("bob", "old")),
        History(43, near, lines.Message("bob", "same")),
        History(44, near, lines.Message("me", "mine")),
        History(45, near, lines.Message("bob", "same")),
        History(46, near, lines.Message("bob", "while away")),
    )
    clock.advance(0)
    texts = [t for t in view.shown("#dev") if not t.startswith(("--> ", "==="))]
    assert texts == [
        "<bob> old",
        "── live ──",
        "<bob> same",
        "<me> mine",
        "<bob> same",
        "<bob> while away",
        "── live ──",
    ]
    # "same" came while #ops was selected: still unread.
    assert view.tabs == ["#lobby", "#dev (1)", "#ops"]


def test_a_gap_is_filled_from_older_pages() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    join_dev(endpoint, History(41, T0 - 60, lines.Message("bob", "old")))
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(lines.Prompt("name", "name?"))
    endpoint.last.sent()
    endpoint.last.receive(lines.Welcome("chat", "me"))
    endpoint.last.sent()
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("me",))))
    assert endpoint.last.sent() == ["/who #lobby", "/join #dev"]
    join_dev(endpoint, History(44, T0, lines.Message("bob", "c")))
    # Nothing of the replay was seen: the page before it is asked for...
    assert endpoint.last.sent() == ["/history #dev 200"]
    endpoint.last.receive(
        InRoom("#dev", History(41, T0 - 60, lines.Message("bob", "old"))),
        InRoom("#dev", History(42, T0, lines.Message("bob", "a"))),
        InRoom("#dev", History(43, T0, lines.Message("bob", "b"))),
        InRoom("#dev", lines.HistoryEnd(3)),
    )
    # ... and what was missing goes before the replay: no gap, no duplicate.
    assert endpoint.last.sent() == []
    clock.advance(0)
    texts = [
        t for t in view.shown("#dev") if not t.startswith(("--> ", "===", "Connection"))
    ]
    assert texts == [
        "<bob> old",
        "── live ──",
        "<bob> a",
        "<bob> b",
        "<bob> c",
        "── live ──",
    ]


def test_view_is_unused() -> None:
    assert FakeView().tabs == []


def test_a_private_line_to_someone_who_left_says_which_line_failed() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    session.model.select(session.model.openPrivate("bob"))
    assert session.send("are you there?") == ""
    assert endpoint.last.sent() == ["/msg bob are you there?"]
    endpoint.last.receive(lines.Left("bob", "Quit"))
    endpoint.last.receive(lines.Error("no such user: bob"))
    clock.advance(0)
    assert view.shown("bob")[-2:] == [
        "<-- bob has left (Quit)",
        "!!! Not sent: bob is not online. Your line was: are you there?",
    ]
    assert "!!! no such user: bob" not in view.shown("#lobby")


def test_a_private_line_that_went_is_not_taken_for_a_failed_one() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    assert session.send("/msg bob first") == ""
    endpoint.last.receive(lines.PrivateOut("bob", "first"))
    endpoint.last.receive(lines.Error("no such user: bob"))
    clock.advance(0)
    assert view.shown("bob") == ["-> *bob* first"]
    assert view.shown("#lobby")[-1] == "!!! no such user: bob"


def test_the_rooms_panel_follows_joins_and_parts() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    endpoint.last.receive(
        lines.RoomsHeader(1), lines.RoomEntry("#lobby", 2), lines.Joined("carol")
    )
    clock.advance(0)
    assert view.rooms == [lines.RoomEntry("#lobby", 3)]
    join_dev(endpoint)
    endpoint.last.receive(InRoom("#dev", lines.TopicSet("bob", "ship it")))
    clock.advance(0)
    assert view.rooms == [
        lines.RoomEntry("#dev", 2, "ship it"),
        lines.RoomEntry("#lobby", 3),
    ]
    endpoint.last.receive(lines.Left("bob", "Quit"))
    clock.advance(0)
    assert view.rooms == [
        lines.RoomEntry("#dev", 1, "ship it"),
        lines.RoomEntry("#lobby", 2),
    ]
    endpoint.last.receive(InRoom("#dev", lines.Left("me", "Part")))
    clock.advance(0)
    assert view.rooms == [lines.RoomEntry("#lobby", 2)]


def test_a_reconnection_shows_no_second_welcome_nor_live_separator() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    endpoint.last.succeed()
    endpoint.last.receive(lines.Prompt("name", "name?"))
    old = History(41, T0 - 60, lines.Message("bob", "old"))
    greeting = (
        lines.Welcome("chat", "me"),
        lines.Info("Be nice."),
        lines.TopicIs("the lobby", "bob"),
        lines.UserList(("bob", "me")),
        old,
        lines.HistoryEnd(1),
    )
    endpoint.last.receive(*greeting)
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("bob", "me"))))
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(lines.Prompt("name", "name?"))
    endpoint.last.receive(*greeting)
    endpoint.last.receive(InRoom("#lobby", lines.UserList(("bob", "me"))))
    clock.advance(0)
    shown = view.shown("#lobby")
    assert shown.count("=== Welcome to chat, me!") == 1
    assert shown.count("-!- Be nice.") == 1
    assert shown.count("── live ──") == 1
    assert shown[-1] == "Reconnected."
    assert session.model.home.members == {"bob": "bob", "me": "me"}


def test_logging_in_again_after_quitting_shows_the_welcome_again() -> None:
    session, view, endpoint, clock = build()
    clock.advance(T0)
    session.connect("h", 1, "me")
    login(endpoint)
    assert session.send("/quit") == ""
    endpoint.last.lose()
    clock.advance(0)
    session.connect("h", 1, "me")
    login(endpoint)
    clock.advance(0)
    assert view.shown("#lobby").count("=== Welcome to chat, me!") == 2
    assert "Reconnected." not in view.shown("#lobby")
