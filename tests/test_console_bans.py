"""
The console's moderation panel, without a display: the rows it lists.
"""

from __future__ import annotations

from twisted.internet.task import Clock

from chatserver.console.model import ban_rows
from chatserver.core.moderation.masks import parse_mask
from chatserver.core.moderation.records import BAN, KLINE, MUTE, Ban
from chatserver.core.moderation.state import Moderation


def moderation() -> Moderation:
    state = Moderation(Clock())
    state.addBan("#dev", parse_mask("spam*"), Ban(BAN, "spam*", "alice", 0.0))
    state.addBan("#dev", parse_mask("bob"), Ban(MUTE, "bob", "alice", 0.0, 60.0))
    state.addBan("", parse_mask("10.0.0.1"), Ban(KLINE, "10.0.0.1", "root", 0.0))
    return state


def test_klines_come_first_then_each_rooms_bans_then_its_mutes() -> None:
    rows = ban_rows(moderation(), {}, 0.0)
    assert [(row.room, row.kind, row.mask) for row in rows] == [
        ("", "kline", "10.0.0.1"),
        ("#dev", "ban", "spam*"),
        ("#dev", "mute", "bob"),
    ]


def test_what_ends_by_itself_shows_when_and_the_rest_until_lifted() -> None:
    rows = ban_rows(moderation(), {}, 0.0)
    assert [row.ends == "until lifted" for row in rows] == [True, True, False]


def test_each_row_has_its_own_key() -> None:
    rows = ban_rows(moderation(), {}, 0.0)
    assert len({row.key for row in rows}) == 3
