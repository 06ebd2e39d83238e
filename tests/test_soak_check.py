"""
How the soak (C{bench/soak.py}) decides that a line arrived exactly once at
every member that was in the room when it was sent, and how it judges a
run against issue 25's targets.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from bench.soak import (
    Entry,
    Plan,
    Session,
    Worker,
    chat_text,
    read_text,
    room_of,
    section,
    tiny_plan,
    verdict,
)

SECOND = 1_000_000_000


def in_worker(test: Callable[[Worker], None]) -> None:
    """
    Run C{test} with a worker of one user per door in one room, its
    minutes starting at 1 s; no connection is made.
    """

    async def body() -> None:
        plan = Plan(users=8, rooms=1, workers=1, margin=2.0)
        worker = Worker(plan, 0, {})
        worker.start = SECOND
        test(worker)

    asyncio.run(body())


def member(worker: Worker, user: int, joined: int) -> Session:
    session = Session(worker, user)
    session.checkedUntil = 0
    session.joinedAt = joined
    worker.sessions[user] = session
    worker.live.append(session)
    return session


def line(worker: Worker, sender: int, number: int, sent: int) -> Entry:
    return (sent, number, room_of(worker.plan, sender), sender)


def arrive(
    worker: Worker, session: Session, sender: int, number: int, sent: int
) -> None:
    name = b"u%d" % sender
    text = chat_text(name, session.room, number, sent)
    worker.arrived(session, name, session.room, text, sent + 1000)


def total(worker: Worker, what: str) -> Any:
    return sum(minute[what] for minute in worker.minutes.values())


def test_a_line_missing_at_a_member_in_the_room_is_lost() -> None:
    def test(worker: Worker) -> None:
        member(worker, 1, joined=SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 1

    in_worker(test)


def test_a_line_that_arrived_once_is_neither_lost_nor_duplicated() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 0
        assert total(worker, "duplicated") == 0
        assert total(worker, "delivered") == 1

    in_worker(test)


def test_a_line_arriving_twice_is_duplicated() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        assert total(worker, "duplicated") == 1

    in_worker(test)


def test_a_line_sent_before_the_join_was_confirmed_may_be_missing() -> None:
    def test(worker: Worker) -> None:
        member(worker, 1, joined=3 * SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 0

    in_worker(test)


def test_a_line_sent_within_the_margin_before_a_quit_may_be_missing() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        session.leftAt = 4 * SECOND
        worker.checkUntil([line(worker, 0, 7, 3 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 0
        assert total(worker, "undecided") == 1

    in_worker(test)


def test_a_line_within_the_margin_before_a_later_one_that_arrived_is_lost() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        session.leftAt = 4 * SECOND
        arrive(worker, session, 0, 8, 3 * SECOND + 1)
        entries = [line(worker, 0, 7, 3 * SECOND), line(worker, 0, 8, 3 * SECOND + 1)]
        worker.checkUntil(entries, 10 * SECOND)
        assert total(worker, "lost") == 1

    in_worker(test)


def test_a_line_before_the_join_after_an_earlier_one_that_arrived_is_lost() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=3 * SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        entries = [line(worker, 0, 7, 2 * SECOND), line(worker, 0, 8, 2 * SECOND + 1)]
        worker.checkUntil(entries, 10 * SECOND)
        assert total(worker, "lost") == 1

    in_worker(test)


def test_a_line_sent_after_a_quit_is_not_expected() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        session.leftAt = 4 * SECOND
        worker.checkUntil([line(worker, 0, 7, 5 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 0
        assert total(worker, "undecided") == 0

    in_worker(test)


def test_a_line_sent_before_the_margin_before_a_quit_is_lost() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        session.leftAt = 9 * SECOND
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 1

    in_worker(test)


def test_a_sender_does_not_expect_its_own_line() -> None:
    def test(worker: Worker) -> None:
        member(worker, 0, joined=SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        assert total(worker, "lost") == 0

    in_worker(test)


def test_a_line_never_sent_to_the_room_is_unexpected() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        worker.checkUntil([], 10 * SECOND)
        assert total(worker, "unexpected") == 1

    in_worker(test)


def test_a_line_arriving_after_its_check_is_late_not_lost() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        assert total(worker, "lost") == 0
        assert total(worker, "late") == 1

    in_worker(test)


def test_a_line_arriving_again_after_its_check_is_duplicated() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        assert total(worker, "duplicated") == 1
        assert total(worker, "late") == 0

    in_worker(test)


def test_a_line_reaching_a_session_not_joined_at_its_check_is_late() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        session.joinedAt = None
        worker.checkUntil([line(worker, 0, 7, 2 * SECOND)], 10 * SECOND)
        arrive(worker, session, 0, 7, 2 * SECOND)
        assert total(worker, "late") == 1
        assert total(worker, "duplicated") == 0

    in_worker(test)


def test_a_line_marked_with_another_room_is_misrouted() -> None:
    def test(worker: Worker) -> None:
        session = member(worker, 1, joined=SECOND)
        text = chat_text(b"u0", b"#r999", 7, 2 * SECOND)
        worker.arrived(session, b"u0", b"#r999", text, 3 * SECOND)
        assert total(worker, "misrouted") == 1

    in_worker(test)


@given(
    name=st.from_regex(r"u[0-9]{1,5}", fullmatch=True),
    room=st.from_regex(r"#r[0-9]{3}", fullmatch=True),
    number=st.integers(0, 10**9),
    sent=st.integers(0, 10**15),
)
def test_a_line_text_reads_back_as_its_number_and_send_time(
    name: str, room: str, number: int, sent: int
) -> None:
    text = chat_text(name.encode(), room.encode(), number, sent)
    assert read_text(name.encode(), room.encode(), text) == (number, sent)


@given(
    number=st.integers(0, 10**9),
    sent=st.integers(0, 10**15),
    where=st.integers(0),
    byte=st.integers(0, 255),
)
# A hex digit of the check made upper case ("a" to "A", byte 65).
@example(number=7463, sent=21345353734, where=24, byte=65)
def test_a_line_text_with_a_changed_byte_is_refused(
    number: int, sent: int, where: int, byte: int
) -> None:
    text = bytearray(chat_text(b"u1", b"#r001", number, sent))
    where %= len(text)
    if text[where] == byte:
        return
    text[where] = byte
    assert read_text(b"u1", b"#r001", bytes(text)) is None


def test_a_line_text_said_by_another_user_is_refused() -> None:
    text = chat_text(b"u1", b"#r001", 7, 123)
    assert read_text(b"u2", b"#r001", text) is None


def soak(rss: list[float], p99: list[int], lost: int = 0) -> dict[str, Any]:
    rows = [
        {"minute": i + 1, "rss": r, "hist": {str(p): 100}}
        for i, (r, p) in enumerate(zip(rss, p99, strict=True))
    ]
    return {
        "plan": {"settle": 2},
        "rows": rows,
        "totals": {"lost": lost, "duplicated": 0},
        "tracebacks": 0,
    }


def test_rss_growing_less_than_5_percent_after_settling_meets_the_target() -> None:
    result = verdict(soak([50, 100, 101, 104], [1000] * 4))
    assert result["rssOk"]


def test_rss_growing_5_percent_after_settling_misses_the_target() -> None:
    result = verdict(soak([50, 100, 101, 105], [1000] * 4))
    assert not result["rssOk"]


def test_p99_growing_30_percent_after_settling_misses_the_target() -> None:
    result = verdict(soak([100] * 4, [1000, 1000, 1000, 1300]))
    assert not result["p99Ok"]


def test_a_lost_line_misses_the_target() -> None:
    result = verdict(soak([100] * 4, [1000] * 4, lost=1))
    assert not result["nothingLost"]


def test_the_report_of_a_run_cut_short_says_it_is_partial() -> None:
    result = soak([100] * 4, [1000] * 4)
    result["plan"] = tiny_plan(4).__dict__
    result.update(started="2026-12-07 23:00:00Z", complete=False, joined=24)
    for row in result["rows"]:
        row.update(fds=40, serverCpu=0.1, genCpu=0.1, online=24, load=1.0)
    result["verdict"] = verdict(result)
    text = section(result, None)
    assert text.startswith("## Soak (issue 25)\n")
    assert "(partial: the run did not finish)" in text
    assert text.count("\n| 4 |") == 1
