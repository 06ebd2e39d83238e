"""
Logging in with a password: the realm, the throttle, and the handshake.
"""

import pytest
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.internet.task import Clock
from twisted.logger import LogEvent, globalLogPublisher

from chatserver.auth.checkers import AnyNameChecker, ChosenName
from chatserver.limits.throttle import LoginThrottle
from chatserver.testing import ChatHarness
from chatwire import lines
from chatwire.errors import InvalidName


def accounts_server(**settings):
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret", bob=b"hunter2")
    return ChatHarness(checkers=[checker], **settings)


def test_an_open_server_takes_any_valid_name_without_a_password():
    ids: list[object] = []
    AnyNameChecker().requestAvatarId(ChosenName("Ålice")).addCallback(ids.append)
    assert ids == ["Ålice".encode()]


def test_an_open_server_refuses_an_invalid_name():
    failures: list[object] = []
    AnyNameChecker().requestAvatarId(ChosenName("no spaces")).addErrback(
        failures.append
    )
    assert failures[0].check(InvalidName)  # type: ignore[attr-defined]


def test_throttle_doubles_the_delay_per_recent_failure_up_to_a_cap():
    throttle = LoginThrottle(Clock())
    delays = [throttle.failed("192.0.2.1") for _ in range(10)]
    assert delays[:4] == [0.25, 0.5, 1.0, 2.0]
    assert delays[-1] == LoginThrottle.maxDelay


def test_throttle_counts_per_address_and_forgets_old_failures():
    clock = Clock()
    throttle = LoginThrottle(clock)
    throttle.failed("192.0.2.1")
    throttle.failed("192.0.2.1")
    assert throttle.failed("192.0.2.2") == 0.25
    clock.advance(LoginThrottle.forgetAfter + 1)
    assert throttle.failed("192.0.2.1") == 0.25


def named(server, name):
    client = server.connect()
    client.received()
    client.send(name)
    return client


def test_after_the_name_the_server_asks_for_the_password():
    client = named(accounts_server(), "alice")
    assert client.events() == [lines.Prompt("password", "Password for alice?")]


def test_the_right_password_logs_in():
    server = accounts_server()
    client = named(server, "alice")
    client.received()
    client.send("s3cret")
    assert client.events()[0] == lines.Welcome("chat", "alice")


def test_a_wrong_password_is_answered_after_a_delay_and_may_try_again():
    server = accounts_server()
    client = named(server, "alice")
    client.received()
    client.send("guess")
    assert client.received() == []
    server.clock.advance(0.25)
    assert client.events() == [
        lines.Error("wrong name or password"),
        lines.Prompt("name", "What's your name?"),
    ]
    client.send("alice")
    client.send("s3cret")
    assert client.events() == [
        lines.Prompt("password", "Password for alice?"),
        lines.Welcome("chat", "alice"),
        lines.UserList(("alice",)),
    ]


def test_an_unknown_name_fails_like_a_wrong_password():
    server = accounts_server()
    client = named(server, "mallory")
    client.received()
    client.send("anything")
    server.clock.advance(1)
    assert client.events()[0] == lines.Error("wrong name or password")


def test_lines_sent_while_a_password_is_checked_wait_their_turn():
    server = accounts_server()
    client = named(server, "alice")
    client.received()
    client.send(b"bad\r\nalice\r\ns3cret\r\n")
    server.clock.advance(0.25)
    events = client.events()
    assert events[0] == lines.Error("wrong name or password")
    assert lines.Welcome("chat", "alice") in events


def test_three_failures_close_the_connection():
    server = accounts_server()
    client = named(server, "alice")
    for attempt in range(3):
        client.send("wrong")
        server.clock.advance(2)
        if attempt < 2:
            client.send("alice")
    assert client.events()[-1] == lines.Error(
        "wrong name or password; too many failures, goodbye"
    )
    assert client.closing


def test_failures_from_one_address_slow_down_across_connections():
    server = accounts_server()
    for _ in range(3):
        client = named(server, "alice")
        client.send("wrong")
        server.clock.advance(2)
        client.lose()
    client = named(server, "alice")
    client.received()
    client.send("wrong")
    server.clock.advance(1.0)
    assert client.received() == []
    server.clock.advance(1.0)
    assert client.events()[0] == lines.Error("wrong name or password")


def test_a_second_login_of_an_online_account_asks_its_password_too():
    server = accounts_server()
    first = named(server, "alice")
    first.send("s3cret")
    second = named(server, "ALICE")
    assert second.events() == [lines.Prompt("password", "Password for ALICE?")]
    second.send("wrong")
    server.clock.advance(1)
    assert second.events()[0] == lines.Error("wrong name or password")


def test_the_account_name_is_the_one_the_checker_vouched_for():
    checker = InMemoryUsernamePasswordDatabaseDontUse(Alice=b"pw")
    server = ChatHarness(checkers=[checker])
    client = named(server, "Alice")
    client.send("pw")
    assert lines.Welcome("chat", "Alice") in client.events()


def test_nick_may_only_change_case_with_accounts():
    server = accounts_server()
    client = named(server, "alice")
    client.send("s3cret")
    client.received()
    client.send("/nick bob")
    assert client.events() == [
        lines.Error("names are accounts here: only the case of a name may change")
    ]
    client.send("/nick Alice")
    assert client.events() == [lines.Renamed("alice", "Alice")]


def test_passwords_never_appear_in_the_logs():
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)  # type: ignore[arg-type]
    try:
        server = accounts_server()
        client = named(server, "alice")
        client.send("wrong-pass-123")
        server.clock.advance(1)
        client.send("alice")
        client.send("s3cret")
    finally:
        globalLogPublisher.removeObserver(events.append)  # type: ignore[arg-type]
    text = repr(events)
    assert "wrong-pass-123" not in text and "s3cret" not in text
    assert any(e.get("chat_event") == "login" for e in events)


@pytest.mark.parametrize("line", ["/quit", "/help"])
def test_commands_still_work_while_choosing_a_name_with_accounts(line):
    client = accounts_server().connect()
    client.received()
    client.send(line)
    assert client.events()
