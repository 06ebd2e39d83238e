"""
The line door over the coalescing fan-out, on a fake clock: what one turn
sends a client is written at once, in order.
"""

from chatserver.testing import ChatHarness
from chatwire import lines


def coalescing(**settings):
    server = ChatHarness(**settings)

    def login(name):
        client = server.connect()
        client.send(name)
        server.clock.advance(0)
        assert f"=== Welcome to chat, {name}!" in client.received()
        return client

    return server, login


def test_lines_read_together_are_written_together():
    server, login = coalescing(rate=0)
    alice, bob = login("alice"), login("bob")
    bob.received()
    writes: list[bytes] = []
    bob.transport.write = writes.append
    alice.send(b"one\r\ntwo\r\nthree\r\n")
    assert writes == []
    server.clock.advance(0)
    assert writes == [b"<alice> one\r\n<alice> two\r\n<alice> three\r\n"]


def test_replies_arrive_in_order_with_room_lines():
    server, login = coalescing(rate=0)
    alice, bob = login("alice"), login("bob")
    alice.received()
    bob.received()
    alice.send("hello")
    bob.send("/nosuchcommand")
    bob.send("/who")
    alice.send("again")
    server.clock.advance(0)
    assert bob.received() == [
        "<alice> hello",
        "!!! unknown command /nosuchcommand, try /help",
        "=== Users online (2): alice, bob",
        "<alice> again",
    ]


def test_quit_sends_the_turns_lines_before_closing():
    _, login = coalescing(rate=0)
    alice, bob = login("alice"), login("bob")
    bob.received()
    alice.send("bye all")
    bob.send("/quit")
    assert bob.closing
    assert bob.received() == ["<alice> bye all", "-!- Goodbye!"]


def test_a_client_that_does_not_read_is_still_dropped():
    server, login = coalescing(rate=0, maxBuffer=1000)
    alice, bob, carol = login("alice"), login("bob"), login("carol")
    bob.transport.producer.pauseProducing()  # bob's transport buffer is full
    for i in range(40):
        alice.send(f"line {i} " + "x" * 40)
    server.clock.advance(0)
    assert bob.closing
    carol.received()
    bob.lose()
    server.clock.advance(0)
    assert carol.received() == ["<-- bob has left (Send queue exceeded)"]
    assert lines.parse(alice.received()[-1]) == lines.Left("bob", "Send queue exceeded")


def test_a_user_in_two_rooms_gets_one_write_per_turn():
    server, login = coalescing(rate=0)
    alice, bob = login("alice"), login("bob")
    bob.send("/join #dev")
    alice.send("/join #dev")
    server.clock.advance(0)
    bob.received()
    writes: list[bytes] = []
    bob.transport.write = writes.append
    alice.send("/join #lobby")
    alice.send("in the lobby")
    alice.send("/join #dev")
    alice.send("in dev")
    server.clock.advance(0)
    assert writes == [b"#lobby <alice> in the lobby\r\n#dev <alice> in dev\r\n"]
