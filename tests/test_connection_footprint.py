"""
A connection keeps its state in slots: whatever it goes through, nothing
lands in an instance dict, which would cost hundreds of bytes per idle user
(bench/RESULTS.md, the idle scenario).
"""

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.testing import ChatHarness, LineClient


def assert_no_instance_dict(client: LineClient) -> None:
    assert vars(client.protocol) == {}
    assert vars(client.connection) == {}  # the gate's


def test_a_chatting_user_keeps_no_instance_dict():
    server = ChatHarness(rate=1, burst=1, loginTimeout=30, idleTimeout=60)
    client = server.connect()
    other = server.login("bob")
    assert_no_instance_dict(client)
    client.send("alice")
    assert_no_instance_dict(client)
    client.send(b"hello\r\nagain\r\n")  # the second line waits for the rate
    server.clock.advance(1)
    for line in (
        "/me waves",
        "/who",
        "/msg bob hi",
        "/nick Alice",
        "/help",
        "/join #dev",
        "/topic #dev testing",
        "/rooms",
        "/history #dev 5",
        "/part #dev",
    ):
        client.send(line)
        server.clock.advance(1)
    client.send(b"\xff\xf4\xff\xfd\x06")  # telnet: interrupt, timing mark
    client.send(b"x" * 5000 + b"\r\nafter\r\n")  # too long, then a good one
    client.send(b"\xff\xfe\r\n")  # not UTF-8
    for _ in range(5):  # the lines held back by the rate
        server.clock.advance(1)
    other.protocol.pauseProducing()
    assert_no_instance_dict(client)
    server.clock.advance(61)  # idle timeout
    assert client.closing
    client.lose()
    assert_no_instance_dict(client)


def test_reading_paused_and_resumed_keeps_no_instance_dict():
    server = ChatHarness(rate=1, burst=1)
    client = server.login("alice")
    client.send(b"one\r\ntwo\r\n")  # one line a second, the name included
    assert client.protocol.paused
    for _ in range(3):
        server.clock.advance(1)
    assert not client.protocol.paused
    assert_no_instance_dict(client)


def test_a_user_who_fails_a_password_keeps_no_instance_dict():
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")
    server = ChatHarness(checkers=[checker])
    client = server.connect()
    client.send("alice")
    client.send("guess")
    server.clock.advance(1)
    client.send("alice")
    client.send("s3cret")
    assert client.protocol.loggedIn
    client.send("/quit bye")
    client.lose()
    assert_no_instance_dict(client)


def test_a_user_dropped_for_not_reading_keeps_no_instance_dict():
    server = ChatHarness(maxBuffer=10)
    client = server.login("alice")
    client.transport.producer.pauseProducing()  # type: ignore[union-attr]
    talker = server.login("bob")
    talker.send("x" * 100)
    assert client.closing
    assert_no_instance_dict(client)
