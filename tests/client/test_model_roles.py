"""
The view model and moderation: the member list's C{@} and C{+}, kept
current from the line door's lines, and what the reader may do.
"""

from __future__ import annotations

import time

from twisted.internet.task import Clock

from chatclient.model import ChatModel
from chatwire import lines
from tests.client.fakes import FakeView


def build() -> tuple[ChatModel, FakeView, Clock, list[str]]:
    clock = Clock()
    model = ChatModel(clock, localtime=time.gmtime)
    view = FakeView()
    model.attach(view)
    sent: list[str] = []
    model.send = sent.append
    model.loggedIn("me")
    model.addEvent(lines.Welcome("chat", "me"))
    return model, view, clock, sent


def in_dev(model: ChatModel, *shown: str) -> None:
    """
    The reader joined #dev, whose members are C{shown} (as /who shows them).
    """
    model.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    model.addEvent(lines.InRoom("#dev", lines.UserList(("me", "bob", "carol"))))
    model.addEvent(lines.InRoom("#dev", lines.UserList(shown)))


def test_joining_a_room_asks_who_has_which_role() -> None:
    model, _view, _clock, sent = build()
    model.addEvent(lines.InRoom("#dev", lines.Joined("me")))
    model.addEvent(lines.InRoom("#dev", lines.UserList(("me", "bob"))))
    assert sent == ["/who #dev"]


def test_the_member_list_shows_operators_then_voiced_members() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "@carol", "+bob", "me")
    clock.advance(0)
    assert view.users == ["@carol", "+bob", "me"]


def test_the_answer_the_model_asked_for_is_not_shown() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "@carol", "+bob", "me")
    clock.advance(0)
    assert view.shown("#dev").count("=== Users online (3): me, bob, carol") == 1
    assert not [t for t in view.shown("#dev") if "@carol" in t]


def test_a_role_given_shows_at_once() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "bob", "carol", "me")
    model.addEvent(lines.InRoom("#dev", lines.RoleChanged("carol", "bob", "o", True)))
    clock.advance(0)
    assert view.users == ["@bob", "carol", "me"]


def test_an_operator_who_loses_operator_keeps_voice() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "+bob", "carol", "me")
    model.addEvent(lines.InRoom("#dev", lines.RoleChanged("carol", "bob", "o", True)))
    model.addEvent(lines.InRoom("#dev", lines.RoleChanged("carol", "bob", "o", False)))
    clock.advance(0)
    assert view.users == ["+bob", "carol", "me"]


def test_a_role_follows_a_rename() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "@bob", "carol", "me")
    model.addEvent(lines.Renamed("bob", "robert"))
    clock.advance(0)
    assert view.users == ["@robert", "carol", "me"]


def test_a_kicked_member_leaves_the_list_and_its_role() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "@carol", "+bob", "me")
    kick = lines.Left.kick("bob", "carol", "spam")
    model.addEvent(lines.InRoom("#dev", kick))
    model.addEvent(lines.InRoom("#dev", lines.Joined("bob")))
    clock.advance(0)
    assert view.users == ["@carol", "bob", "me"]


def test_the_reader_may_moderate_where_it_is_an_operator() -> None:
    model, _view, _clock, _sent = build()
    in_dev(model, "@me", "bob", "carol")
    assert model.canModerate(model.conversations["#dev"])


def test_the_reader_may_not_moderate_where_it_has_no_role() -> None:
    model, _view, _clock, _sent = build()
    in_dev(model, "@carol", "bob", "me")
    assert not model.canModerate(model.conversations["#dev"])


def test_a_server_operator_may_moderate_every_room() -> None:
    model, _view, _clock, _sent = build()
    in_dev(model, "@carol", "bob", "me")
    model.addEvent(lines.Info(lines.OPERATOR_NOW))
    assert model.canModerate(model.conversations["#dev"])


def test_the_reader_made_operator_may_moderate_from_then_on() -> None:
    model, _view, _clock, _sent = build()
    in_dev(model, "@carol", "bob", "me")
    model.addEvent(lines.InRoom("#dev", lines.RoleChanged("carol", "me", "o", True)))
    assert model.canModerate(model.conversations["#dev"])


def test_being_kicked_says_so_where_the_reader_reads_now() -> None:
    model, view, clock, _sent = build()
    in_dev(model, "@carol", "bob", "me")
    model.addEvent(lines.InRoom("#dev", lines.Left.kick("me", "carol", "spam")))
    clock.advance(0)
    assert "#dev" not in model.conversations
    assert view.texts()[-1] == "You were kicked from #dev by carol: spam"
