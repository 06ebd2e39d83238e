"""
A room's packed history in memory (L{chatserver.history.ring}): a list to
whoever reads it, few objects to the garbage collector.
"""

import gc

from hypothesis import given
from hypothesis import strategies as st

from chatserver.history.ring import (
    CHUNK,
    SEALED_LINE,
    UNSEALED_LINE,
    Ring,
    text_size,
)
from chatserver.history.store import ACTION, MESSAGE, HistoryEntry


def entry(n):
    return HistoryEntry(n, "#A", n / 2, (MESSAGE, ACTION)[n % 2], f"u{n % 3}", f"t{n}")


@given(
    st.lists(
        st.one_of(
            st.integers(1, 3 * CHUNK), st.builds(lambda n: -n, st.integers(1, 90))
        ),
        max_size=12,
    )
)
def test_a_ring_reads_as_the_list_of_what_it_kept(steps):
    """
    Appending runs of entries and dropping the oldest, in any order, the
    ring reads as a list that was given the same: entries, ids, oldest
    time, length, and the bytes each line added or dropped took.
    """
    ring = Ring()
    model: list[HistoryEntry] = []
    # The newest lines not sealed yet: a tail reaching CHUNK is sealed.
    unsealed = 0
    n = 0
    for step in steps:
        if step > 0:
            for _ in range(step):
                n += 1
                grew = ring.append(entry(n))
                model.append(entry(n))
                unsealed += 1
                assert grew == UNSEALED_LINE + text_size(model[-1].text) - (
                    CHUNK * (UNSEALED_LINE - SEALED_LINE) if unsealed == CHUNK else 0
                )
                unsealed %= CHUNK
        else:
            for _ in range(min(-step, len(model))):
                sealed = len(model) > unsealed
                unsealed -= not sealed
                line = SEALED_LINE if sealed else UNSEALED_LINE
                assert ring.popleft() == line + text_size(model.pop(0).text)
        assert len(ring) == len(model)
        assert list(ring) == model
        assert list(reversed(ring)) == model[::-1]
        assert list(ring.ids) == [e.id for e in model]
        if model:
            assert ring.oldestTime() == model[0].time
            assert ring[-1] == model[-1]
            assert ring[len(model) // 2] == model[len(model) // 2]
            assert ring[1:3] == model[1:3]


def test_a_filled_ring_gives_the_collector_nothing_to_visit():
    """
    Once the collector has seen them (a few times: it may stop tracking
    only one level of nested tuples each time), the lines a ring keeps,
    sealed or not, are in objects it no longer tracks: a full collection
    visits the ring and the two tuples it holds, not the lines.
    """
    ring = Ring()
    for n in range(1, 10 * CHUNK + CHUNK // 2):
        ring.append(entry(n))
    for _ in range(3):
        gc.collect()
    held = [o for o in gc.get_referents(ring) if isinstance(o, tuple)]
    assert len(held) == 2
    assert not any(gc.is_tracked(o) for o in held)
