"""
The memory history store, and the paging rule every store shares.
"""

import gc
import sys
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock

from chatserver.history import memory
from chatserver.history.memory import (
    DEFAULT_MAX_BYTES,
    TRIM_INTERVAL,
    MemoryHistory,
    line_size,
)
from chatserver.history.ring import (
    CHUNK,
    RING_OVERHEAD,
    SEALED_LINE,
    UNSEALED_LINE,
)
from chatserver.history.store import MAX_PAGE, MESSAGE, HistoryEntry
from chatserver.testing import ChatHarness
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


def sized(length, tag=""):
    """
    @return: A text of C{length} characters (C{tag} then padding), whose
        entry L{line_size} counts as C{UNSEALED_LINE + 49 + length} bytes.
    """
    return (tag + "." * length)[:length]


ONE = line_size(HistoryEntry(0, "#a", 0.0, MESSAGE, "ann", sized(100)))
ROOM = RING_OVERHEAD


def test_a_line_is_counted_with_its_text_as_python_keeps_it():
    entry = HistoryEntry(0, "#a", 0.0, MESSAGE, "ann", "x" * 100)
    wide = HistoryEntry(0, "#a", 0.0, MESSAGE, "ann", "\U0001f600" * 100)
    assert line_size(entry) == UNSEALED_LINE + 49 + 100
    assert line_size(wide) > line_size(entry) + 300


def test_the_default_bound_is_64_mib():
    assert MemoryHistory(clock=Clock()).maxBytes == DEFAULT_MAX_BYTES == 64 << 20


def test_a_bound_below_one_byte_is_refused():
    with pytest.raises(ValueError, match="at least one byte"):
        MemoryHistory(clock=Clock(), maxBytes=0)


def test_the_bytes_of_every_kept_line_are_counted():
    clock = Clock()
    store = MemoryHistory(maxPerRoom=2, keepSeconds=100, clock=clock)
    result(store.start())
    say(store, "#a", sized(100), time=0)
    say(store, "#b", sized(100), time=0)
    assert store.byteCount() == 2 * ONE + 2 * ROOM
    clock.advance(50)
    for _ in range(3):
        say(store, "#a", sized(100), time=50)
    # #a keeps its last 2 lines.
    assert store.byteCount() == 3 * ONE + 2 * ROOM
    clock.advance(TRIM_INTERVAL)
    # #b's line is too old: trimmed, and #b forgotten.
    assert store.byteCount() == 2 * ONE + ROOM
    assert store.roomCount() == 1
    result(store.stop())


def test_the_room_written_least_recently_loses_its_oldest_lines_first():
    store = MemoryHistory(clock=Clock(), maxBytes=5 * ONE + 3 * ROOM)
    for text in ["a1", "a2"]:
        say(store, "#a", sized(100, text))
    for text in ["b1", "b2"]:
        say(store, "#b", sized(100, text))
    say(store, "#a", sized(100, "a3"))
    # #b is now the room written least recently.
    say(store, "#c", sized(100, "c1"))
    assert store.byteCount() == 5 * ONE + 3 * ROOM

    def kept(roomKey):
        return [t[:2] for t in texts(result(store.query(roomKey, 10)))]

    assert kept("#b") == ["b2"]
    assert kept("#a") == ["a1", "a2", "a3"]
    say(store, "#b", sized(100, "b3"))
    # Now #a is: its oldest line goes.
    assert kept("#a") == ["a2", "a3"]
    assert kept("#b") == ["b2", "b3"]
    assert kept("#c") == ["c1"]
    assert store.byteCount() == 5 * ONE + 3 * ROOM


def test_a_room_whose_lines_all_went_is_forgotten():
    store = MemoryHistory(clock=Clock(), maxBytes=3 * ONE + 2 * ROOM)
    say(store, "#a", sized(100))
    say(store, "#b", sized(100))
    say(store, "#b", sized(100))
    assert store.roomCount() == 2
    say(store, "#c", sized(100))
    assert store.roomCount() == 2
    assert result(store.query("#a", 10)) == []
    assert store.byteCount() == 3 * ONE + 2 * ROOM


def test_the_room_written_alone_loses_its_own_oldest_lines():
    store = MemoryHistory(clock=Clock(), maxBytes=3 * ONE + ROOM)
    for n in range(5):
        say(store, "#a", sized(100, str(n)))
    assert [t[0] for t in texts(result(store.query("#a", 10)))] == ["2", "3", "4"]
    assert store.byteCount() == 3 * ONE + ROOM


def test_a_line_larger_than_the_bound_is_given_an_id_but_not_kept():
    store = MemoryHistory(clock=Clock(), maxBytes=ONE + ROOM + 10)
    say(store, "#a", sized(100))
    entry = say(store, "#b", sized(200))
    assert entry.id == 2
    assert store.roomCount() == 0
    assert store.byteCount() == 0
    assert say(store, "#a", sized(100)).id == 3


def test_pages_after_the_bound_dropped_lines():
    store = MemoryHistory(clock=Clock(), maxBytes=8 * ONE + ROOM)
    for n in range(1, 11):
        say(store, "#a", sized(100, str(n)))

    # Ids 1 and 2 are gone; #a keeps ids 3 to 10.
    def page(**kw):
        return [t.rstrip(".") for t in texts(result(store.query("#a", 3, **kw)))]

    assert page() == ["8", "9", "10"]
    assert page(before=8) == ["5", "6", "7"]
    assert page(before=5) == ["3", "4"]
    assert page(before=3) == []
    assert page(after=0) == ["3", "4", "5"]
    assert page(after=2, before=5) == ["3", "4"]


def model(appends, maxPerRoom, maxBytes):
    """
    What a memory store with these bounds keeps, by a plain reading of its
    rule: rooms by last write; beyond the bytes, the first room's oldest
    entry goes, and a room with none is forgotten.

    @return: The kept entries per room key, rooms written least recently
        first.
    """
    rooms: dict[str, list[HistoryEntry]] = {}
    for key, entry in appends:
        rooms[key] = [*rooms.pop(key, []), entry][-maxPerRoom:]
        while model_bytes(rooms) > maxBytes:
            first = next(iter(rooms))
            rooms[first].pop(0)
            if not rooms[first]:
                del rooms[first]
    return rooms


def model_bytes(rooms):
    """
    @return: The bytes C{rooms} take as the store counts them, for rooms
        of fewer than L{CHUNK} lines (none sealed).
    """
    return sum(ROOM + sum(line_size(e) for e in ring) for ring in rooms.values())


@given(
    appends=st.lists(st.tuples(rooms, st.integers(0, 400)), max_size=60),
    maxPerRoom=st.integers(1, 12),
    maxBytes=st.integers(1, 12 * ONE + 3 * ROOM),
)
def test_the_bound_keeps_what_its_rule_says(appends, maxPerRoom, maxBytes):
    """
    Whatever is appended, every room keeps what the rule says, the bytes
    counted are those of the kept entries and never more than the bound,
    and each room's pages give its kept entries.
    """
    store = MemoryHistory(maxPerRoom=maxPerRoom, clock=Clock(), maxBytes=maxBytes)
    everything = [(key, say(store, key, sized(length))) for key, length in appends]
    kept = model(everything, maxPerRoom, maxBytes)
    assert store.roomCount() == len(kept)
    assert store.byteCount() == model_bytes(kept) <= maxBytes
    for key in ["#a", "#b", "#c"]:
        ring = kept.get(key, [])
        assert result(store.query(key, MAX_PAGE)) == ring
        paged: list[HistoryEntry] = []
        while page := result(store.query(key, 2, after=paged[-1].id if paged else 0)):
            paged.extend(page)
        assert paged == ring


def test_the_history_of_parted_rooms_stays_within_the_bound():
    """
    Finding 7 of issue 19: rooms filled and parted one after another kept
    all their history, whatever it took.  With a bound, the rooms parted
    first are forgotten and the last ones keep their newest lines.
    """
    bound = 1 << 20
    server = ChatHarness(rate=0, historyMemory=bound)
    alice = server.login("alice")
    line = "x" * 4000
    for n in range(40):
        alice.send(f"/join #room{n}")
        for _ in range(25):
            alice.send(line)
        alice.send(f"/part #room{n}")
    alice.received()
    store = server.realm.history
    assert isinstance(store, MemoryHistory)
    assert store.byteCount() <= bound
    assert store.roomCount() < 40
    assert result(store.query("#room0", 10)) == []
    assert len(result(store.query("#room39", 30))) == 25


def test_a_full_store_leaves_few_objects_to_the_collector():
    """
    Issue 24: a full collection stopped the reactor about 150 ms with a
    million lines kept, one object each.  Lines are packed: once the
    collector has seen them, a thousand lines in ten rooms add fewer than
    one tracked object per 20 lines.
    """
    store = MemoryHistory(clock=Clock())
    gc.collect()
    before = len(gc.get_objects())
    for n in range(1000):
        say(store, f"#r{n % 10}", f"line {n}")
    gc.collect()
    assert len(gc.get_objects()) - before < 1000 / 20


def test_trimming_drops_a_batch_per_turn_of_the_reactor(monkeypatch):
    """
    Lines grown too old together are dropped TRIM_BATCH at a time (the
    rooms looked at counting too), the rest in the turns of the reactor
    after, so that trimming never stops the chat long.
    """
    monkeypatch.setattr(memory, "TRIM_BATCH", 4)
    clock = Clock()
    store = MemoryHistory(keepSeconds=10, clock=clock)
    for n in range(6):
        say(store, "#a", str(n), time=0)
    say(store, "#b", "old", time=0)
    say(store, "#b", "new", time=20)
    clock.advance(20)
    store.trim()
    # #b first (the room written last): looked at, its old line dropped;
    # then #a looked at and one of its lines dropped.
    one = line_size(HistoryEntry(0, "#a", 0.0, MESSAGE, "ann", "0"))
    new = line_size(HistoryEntry(0, "#b", 0.0, MESSAGE, "ann", "new"))
    assert store.byteCount() == 5 * one + new + 2 * ROOM
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0)
    assert store.roomCount() == 1
    assert store.byteCount() == new + ROOM
    assert texts(result(store.query("#b", 10))) == ["new"]
    assert clock.getDelayedCalls() == []


def test_stopping_ends_a_trim_under_way(monkeypatch):
    monkeypatch.setattr(memory, "TRIM_BATCH", 2)
    clock = Clock()
    store = MemoryHistory(keepSeconds=10, clock=clock)
    result(store.start())
    for n in range(10):
        say(store, "#a", str(n), time=0)
    clock.advance(20)
    store.trim()
    result(store.stop())
    assert clock.getDelayedCalls() == []
    assert store.roomCount() == 1


def test_a_line_counts_less_once_sealed():
    """
    A line counts as it is held: L{UNSEALED_LINE} and its text when
    appended, L{SEALED_LINE} and its text once packed with the lines after
    it, and the room's ring once.
    """
    store = MemoryHistory(clock=Clock())
    text = sized(100)
    for _ in range(CHUNK - 1):
        say(store, "#a", text)
    assert store.byteCount() == ROOM + (CHUNK - 1) * ONE
    say(store, "#a", text)
    assert store.byteCount() == ROOM + CHUNK * (ONE - UNSEALED_LINE + SEALED_LINE)


def test_the_bound_keeps_as_many_packed_lines_as_fit_in_it():
    """
    Issue 24: the bound counted 160 bytes a line besides its text where a
    packed line takes 54, so it kept a third fewer lines than it could.
    Bound to a ring, 640 packed lines and room for the newest lines before
    they are packed, a room written 640 times keeps them all.
    """
    lines = 10 * CHUNK
    packed = ONE - UNSEALED_LINE + SEALED_LINE
    unpacked = CHUNK * (UNSEALED_LINE - SEALED_LINE)
    store = MemoryHistory(clock=Clock(), maxBytes=ROOM + lines * packed + unpacked)
    for n in range(lines):
        say(store, "#a", sized(100, str(n)))
    assert [entry.id for entry in result(store.query("#a", 1, after=0))] == [1]
    assert store.byteCount() == ROOM + lines * packed


def test_the_bytes_counted_are_the_bytes_the_lines_take():
    """
    What the store counts for more lines is, within a tenth, what
    C{tracemalloc} finds they take (their texts as Python holds them): the
    bound is the memory the history takes.  Measured after a first chunk
    of lines in each room, so that the interpreter's free lists of small
    tuples, filled once for the whole process, are not taken for the
    lines'.
    """
    rooms, first, then = 100, CHUNK, 9 * CHUNK
    texts = [
        f"line {n:08d} of the fill, a few words" for n in range(rooms * (first + then))
    ]
    names = [f"#r{r}" for r in range(rooms)]
    store = MemoryHistory(maxPerRoom=first + then, maxBytes=1 << 40, clock=Clock())

    def fill(numbers):
        for n in numbers:
            room = names[n % rooms]
            store.append(
                room, room=room, kind=MESSAGE, sender="ann", text=texts[n], time=1e9 + n
            )

    tracemalloc.start()
    try:
        fill(range(rooms * first))
        before = tracemalloc.get_traced_memory()[0], store.byteCount()
        fill(range(rooms * first, len(texts)))
        taken = tracemalloc.get_traced_memory()[0] - before[0]
    finally:
        tracemalloc.stop()
    taken += sum(sys.getsizeof(text) for text in texts[rooms * first :])
    counted = store.byteCount() - before[1]
    assert abs(counted - taken) < taken / 10
