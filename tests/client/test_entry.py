"""
Input history, name completion and what a typed line becomes.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatclient.entry import InputHistory, NameCompleter, Outgoing, prepare_outgoing
from chatwire import lines

texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)


@given(st.lists(texts.filter(str.strip), min_size=1, max_size=20), texts)
def test_walk_up_then_down_gives_back_the_draft(sent: list[str], draft: str) -> None:
    history = InputHistory()
    for text in sent:
        history.add(text)
    seen = []
    current = draft
    while (older := history.previous(current)) is not None:
        seen.append(older)
        current = older
    expected = [t for i, t in enumerate(sent) if i == 0 or sent[i - 1] != t]
    assert seen == expected[::-1]
    for newer in [*expected[1:], draft]:
        current = history.next(current)  # type: ignore[assignment]
        assert current == newer
    assert history.next(current) is None


@given(st.lists(texts, max_size=30), st.integers(1, 5))
def test_history_is_bounded(sent: list[str], limit: int) -> None:
    history = InputHistory(limit)
    for text in sent:
        history.add(text)
    assert len(history.entries) <= limit
    assert all(entry.strip() for entry in history.entries)


def test_history_add_resets_the_walk() -> None:
    history = InputHistory()
    history.add("one")
    history.add("two")
    assert history.previous("") == "two"
    assert history.previous("two") == "one"
    assert history.previous("one") is None
    history.add("three")
    assert history.previous("draft") == "three"
    assert history.next("three") == "draft"


def test_complete_at_start_and_cycle() -> None:
    completer = NameCompleter()
    names = ["alice", "Albert", "bob"]
    first = completer.complete("al", 2, names)
    assert first == ("Albert: ", 8)
    second = completer.complete(*first, names)
    assert second == ("alice: ", 7)
    third = completer.complete(*second, names)
    assert third == ("Albert: ", 8)
    completer.reset()
    assert completer.complete(*third, names) is None  # "Albert: " ends in a space


def test_complete_mid_line_keeps_the_rest() -> None:
    completer = NameCompleter()
    assert completer.complete("/msg B hello", 6, ["bob"]) == ("/msg bob  hello", 9)
    assert completer.complete("hi zz", 5, ["bob"]) is None


@given(
    st.lists(st.from_regex(r"[A-Za-z][\w.-]{0,6}", fullmatch=True), max_size=6),
    texts,
    texts,
)
def test_completion_inserts_a_matching_name(
    names: list[str], before: str, after: str
) -> None:
    completer = NameCompleter()
    text = before + after
    result = completer.complete(text, len(before), names)
    start = len(before)
    while start > 0 and not before[start - 1].isspace():
        start -= 1
    prefix = before[start:].casefold()
    matching = [n for n in names if prefix and n.casefold().startswith(prefix)]
    if result is None:
        assert not matching
        return
    newText, cursor = result
    assert newText.startswith(before[:start])
    assert newText.endswith(after)
    inserted = newText[start:cursor].removesuffix(": ").removesuffix(" ")
    assert inserted in matching


def test_outgoing() -> None:
    assert prepare_outgoing("hello", "me") == Outgoing(
        "hello", lines.Message("me", "hello")
    )
    assert prepare_outgoing("//slash", "me").echo == lines.Message("me", "/slash")
    assert prepare_outgoing("/me waves ", "me").echo == lines.Action("me", "waves")
    assert prepare_outgoing("/msg bob hi", "me") == Outgoing("/msg bob hi")
    assert prepare_outgoing("/quit bye", "me").quits
    assert prepare_outgoing("   ", "me") == Outgoing()
    assert "control and format characters" in prepare_outgoing("a\x07", "me").error
