"""
The memory history store, and the paging rule every store shares.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.history.memory import TRIM_INTERVAL, MemoryHistory
from chatserver.history.store import MAX_PAGE, MESSAGE, HistoryEntry
from tests.history.support import result


def say(store, roomKey, text, time=0.0):
    return store.append(
        roomKey, room=roomKey.title(), kind=MESSAGE, sender="ann", text=text, time=time
    )


def texts(entries):
    return [entry.text for entry in entries]


def test_ids_grow_across_rooms_from_one():
    store = MemoryHistory(clock=Clock())
    ids = [say(store, room, "hi").id for room in ["#a", "#b", "#a", "#c"]]
    assert ids == [1, 2, 3, 4]


def test_append_gives_the_whole_entry():
    store = MemoryHistory(clock=Clock())
    entry = store.append(
        "#dev", room="#Dev", kind=MESSAGE, sender="bob", text="hello", time=12.5
    )
    assert entry == HistoryEntry(1, "#Dev", 12.5, MESSAGE, "bob", "hello")


def test_query_has_already_fired():
    store = MemoryHistory(clock=Clock())
    say(store, "#a", "one")
    assert texts(result(store.query("#a", 10))) == ["one"]


def test_unknown_room_is_empty():
    store = MemoryHistory(clock=Clock())
    say(store, "#a", "one")
    assert result(store.query("#b", 10)) == []


def test_pages():
    store = MemoryHistory(clock=Clock())
    for n in range(1, 11):
        say(store, "#a", str(n))
        say(store, "#b", "other")
    # Ids of room #a: 1, 3, 5, ..., 19 for texts 1..10.
    assert texts(result(store.query("#a", 3))) == ["8", "9", "10"]
    assert texts(result(store.query("#a", 3, before=9))) == ["2", "3", "4"]
    assert texts(result(store.query("#a", 3, after=9))) == ["6", "7", "8"]
    assert texts(result(store.query("#a", 10, after=3, before=9))) == ["3", "4"]
    assert texts(result(store.query("#a", 1, after=3, before=9))) == ["3"]
    assert result(store.query("#a", 0)) == []
    assert result(store.query("#a", 5, before=1)) == []
    assert result(store.query("#a", 5, after=19)) == []


def test_limit_is_capped():
    store = MemoryHistory(clock=Clock())
    for n in range(MAX_PAGE + 50):
        say(store, "#a", str(n))
    page = result(store.query("#a", 10 * MAX_PAGE))
    assert len(page) == MAX_PAGE
    assert page[-1].text == str(MAX_PAGE + 49)


def test_a_room_keeps_its_newest_entries():
    store = MemoryHistory(maxPerRoom=3, clock=Clock())
    for n in range(5):
        say(store, "#a", str(n))
    say(store, "#b", "b")
    assert texts(result(store.query("#a", 10))) == ["2", "3", "4"]
    assert texts(result(store.query("#b", 10))) == ["b"]


def test_old_entries_are_never_given():
    clock = Clock()
    store = MemoryHistory(keepSeconds=100, clock=clock)
    say(store, "#a", "old", time=0)
    clock.advance(50)
    say(store, "#a", "new", time=50)
    clock.advance(60)
    # No trim has run: the old entry is still in memory, but not given.
    assert texts(result(store.query("#a", 10))) == ["new"]
    assert texts(result(store.query("#a", 10, after=0))) == ["new"]


def test_trimming_drops_old_entries_and_empty_rooms():
    clock = Clock()
    store = MemoryHistory(keepSeconds=100, clock=clock)
    result(store.start())
    say(store, "#a", "a", time=0)
    say(store, "#b", "b", time=0)
    clock.advance(TRIM_INTERVAL)
    assert store.roomCount() == 2
    say(store, "#b", "b2", time=clock.seconds())
    clock.advance(TRIM_INTERVAL)
    assert store.roomCount() == 1
    assert texts(result(store.query("#b", 10))) == ["b2"]
    result(store.stop())
    assert clock.getDelayedCalls() == []


def test_start_and_stop_twice():
    clock = Clock()
    store = MemoryHistory(clock=clock)
    result(store.start())
    result(store.start())
    result(store.stop())
    result(store.stop())
    assert clock.getDelayedCalls() == []


rooms = st.sampled_from(["#a", "#b", "#c"])
ids = st.none() | st.integers(min_value=-2, max_value=60)


@given(
    appends=st.lists(st.tuples(rooms, st.integers(0, 5)), max_size=50),
    maxPerRoom=st.integers(1, 12),
    query=st.tuples(rooms, st.integers(-1, 15), ids, ids),
    now=st.integers(0, 8),
)
def test_query_agrees_with_a_list(appends, maxPerRoom, query, now):
    """
    Any query gives what a plain list of everything appended says it should:
    the room's last C{maxPerRoom} entries, less those too old, within the
    bounds, the first C{limit} with C{after}, else the last C{limit}.
    """
    room, limit, before, after = query
    clock = Clock()
    store = MemoryHistory(maxPerRoom=maxPerRoom, keepSeconds=3, clock=clock)
    everything = []
    for roomKey, time in appends:
        everything.append((roomKey, say(store, roomKey, "x", time=time)))
    clock.advance(now)

    kept = [entry for key, entry in everything if key == room][-maxPerRoom:]
    wanted = [
        entry
        for entry in kept
        if entry.time >= now - 3
        and (before is None or entry.id < before)
        and (after is None or entry.id > after)
    ]
    if limit <= 0:
        expected = []
    elif after is not None:
        expected = wanted[:limit]
    else:
        expected = wanted[-limit:]
    assert result(store.query(room, limit, before=before, after=after)) == expected
