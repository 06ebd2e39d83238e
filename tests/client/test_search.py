"""
The client's search: C{/search} sent, the results read from the lines
between the header and the end, older pages added, a result's tab shown.
"""

from __future__ import annotations

from twisted.internet.task import Clock

from chatclient.model import ChatModel
from chatclient.search import Search
from chatwire import lines
from tests.client.fakes import FakeView


def found(room: str, id: int, sender: str, text: str) -> lines.InRoom:
    return lines.InRoom(
        room, lines.History(id, 86400.0 * id, lines.Message(sender, text))
    )


def page(words: str, *hits: lines.InRoom, more: bool = False) -> list[lines.Event]:
    return [
        lines.SearchHeader(len(hits), words),
        *hits,
        lines.SearchEnd(len(hits), more),
    ]


def model() -> tuple[ChatModel, FakeView, list[str]]:
    chat = ChatModel(Clock())
    view = FakeView()
    chat.attach(view)
    sent: list[str] = []
    chat.send = sent.append
    return chat, view, sent


def test_results_are_shown_once_complete_and_not_in_the_rooms():
    chat, view, sent = model()
    chat.searchFor("deploy from:bob")
    assert sent == ["/search deploy from:bob"]
    events = page("deploy", found("#dev", 2, "bob", "deploy two"), more=True)
    for event in events[:-1]:
        chat.addEvent(event)
    assert view.searches == []
    chat.addEvent(events[-1])
    assert view.searches == [["#dev  1970-01-03 00:00  <bob> deploy two"]]
    assert "#dev" not in chat.conversations
    assert chat.search.more


def test_older_results_are_added_and_a_new_search_replaces_them():
    chat, _, sent = model()
    chat.searchFor("deploy")
    for event in page("deploy", found("#dev", 2, "bob", "b"), more=True):
        chat.addEvent(event)
    assert chat.searchOlder()
    for event in page("deploy", found("#dev", 1, "bob", "a")):
        chat.addEvent(event)
    assert [hit.entry.id for hit in chat.search.hits] == [2, 1]
    assert not chat.searchOlder()
    chat.searchFor("other")
    for event in page("other"):
        chat.addEvent(event)
    assert chat.search.hits == []
    assert sent == ["/search deploy", "/search", "/search other"]


def test_a_result_shows_its_rooms_tab():
    chat, _, _ = model()
    chat.ownName = "me"
    chat.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    chat.addEvent(lines.InRoom("#ops", lines.Joined("me")))
    for event in page("x", found("#dev", 1, "bob", "x")):
        chat.addEvent(event)
    (hit,) = chat.search.hits
    assert chat.jumpTo(hit) is chat.conversations["#dev"]
    assert chat.selected is chat.conversations["#dev"]


def test_a_result_of_a_room_left_says_so():
    chat, _, _ = model()
    search = Search()
    search.take(lines.SearchHeader(1, "x"))
    search.take(found("#gone", 1, "bob", "x"))
    search.take(lines.SearchEnd(1, False))
    assert chat.jumpTo(search.hits[0]) is None


def history(chat: ChatModel, room: str, ids: range) -> None:
    for id in ids:
        chat.addEvent(
            lines.InRoom(
                room, lines.History(id, 1000.0 + id, lines.Message("bob", f"l{id}"))
            )
        )
    chat.addEvent(lines.InRoom(room, lines.HistoryEnd(len(ids))))


def test_a_result_older_than_its_tab_is_paged_back_to():
    chat, view, sent = model()
    chat.ownName = "me"
    chat.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    history(chat, "#dev", range(100, 120))
    for event in page("l50", found("#dev", 50, "bob", "l50")):
        chat.addEvent(event)
    sent.clear()
    chat.jumpTo(chat.search.hits[0])
    assert sent == ["/history #dev 50"]
    assert view.hits == []
    history(chat, "#dev", range(70, 100))
    assert sent == ["/history #dev 50", "/history #dev 50"]
    history(chat, "#dev", range(40, 70))
    assert view.hits == [("#dev", 50)]
    assert "<bob> l50" in view.shown("#dev")


def test_a_result_the_tab_holds_is_shown_at_once():
    chat, view, sent = model()
    chat.ownName = "me"
    chat.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    history(chat, "#dev", range(100, 120))
    for event in page("l110", found("#dev", 110, "bob", "l110")):
        chat.addEvent(event)
    sent.clear()
    chat.jumpTo(chat.search.hits[0])
    assert sent == []
    assert view.hits == [("#dev", 110)]
