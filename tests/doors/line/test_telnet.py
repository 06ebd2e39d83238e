"""
The line door behind telnet (C{--telnet}): negotiation, 8-bit text, IAC
escaping, line ends, hidden passwords, and the limits of the line protocol
still in force, on L{StringTransport}s without sockets.
"""

from __future__ import annotations

from itertools import count

from hypothesis import given
from hypothesis import strategies as st
from twisted.conch import telnet
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import ITCPTransport
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver.doors.line.echo import IInputHiding
from chatserver.doors.line.factory import refusal
from chatserver.doors.line.telnet import BINARY, ChatTelnetFactory, ChatTelnetTransport
from chatserver.limits.flow import SendQueueGuard
from chatserver.testing import ChatHarness
from chatwire import lines
from tests.accounts.support import accounts_harness

IAC, WILL, WONT, DO, DONT = (
    telnet.IAC,
    telnet.WILL,
    telnet.WONT,
    telnet.DO,
    telnet.DONT,
)
ECHO, SGA, NAWS, LINEMODE = telnet.ECHO, telnet.SGA, telnet.NAWS, telnet.LINEMODE
TTYPE = b"\x18"
SB, SE = telnet.SB, telnet.SE

_ports = count(50000)


class TelnetClient:
    """
    One connection to a C{--telnet} listener, seen from the client's side.
    """

    def __init__(self, server: ChatHarness, transport: StringTransport | None = None):
        address = IPv4Address("TCP", "127.0.0.1", next(_ports))
        self.server = server
        self.transport = transport or StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8023), peerAddress=address
        )
        gate = server.server.gate(ChatTelnetFactory(server.factory), refusal)
        self.connection = gate.buildProtocol(address)
        self.connection.makeConnection(self.transport)
        self.telnet: ChatTelnetTransport = self.connection.wrappedProtocol

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8") + b"\r\n"
        self.telnet.dataReceived(data)

    def output(self) -> bytes:
        self.server.flush()
        data: bytes = self.transport.value()
        self.transport.clear()
        return data

    def received(self) -> list[str]:
        """
        The lines received since the last call, without line ends; telnet
        commands in the output fail the test.
        """
        data = self.output()
        assert IAC not in data, data
        return data.decode("utf-8").split("\r\n")[:-1]


class Recorder(Protocol):
    """
    Records what the telnet layer hands the protocol above it.
    """

    def __init__(self) -> None:
        self.data = b""

    def dataReceived(self, data: bytes) -> None:
        self.data += data


def recorded(*chunks: bytes) -> bytes:
    """
    @return: What the protocol above gets when the client sends C{chunks},
        one read each.
    """
    recorder = Recorder()
    layer = ChatTelnetTransport(recorder)
    layer.makeConnection(StringTransport())
    for chunk in chunks:
        layer.dataReceived(chunk)
    return recorder.data


def accounts_server(**settings: object) -> ChatHarness:
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"s3cret")
    return ChatHarness(checkers=[checker], **settings)  # type: ignore[arg-type]


# Negotiation


def test_on_connect_the_server_asks_for_binary_input_then_greets():
    client = TelnetClient(ChatHarness())
    assert client.output() == (
        IAC + DO + BINARY + b"-!- Welcome to chat. Type /help for help.\r\n"
        b">>> name: What's your name?\r\n"
    )


def test_binary_is_accepted_both_ways_and_needs_no_more_answers():
    client = TelnetClient(ChatHarness())
    client.output()
    client.send(IAC + WILL + BINARY)  # the answer to our DO
    assert client.output() == b""
    assert client.telnet.getOptionState(BINARY).him.state == "yes"
    client.send(IAC + DO + BINARY)  # the client asks us to send binary
    assert client.output() == IAC + WILL + BINARY
    assert client.telnet.getOptionState(BINARY).us.state == "yes"
    client.send(IAC + DO + SGA + IAC + WILL + SGA)
    assert client.output() == IAC + WILL + SGA + IAC + DO + SGA


def test_options_we_do_not_support_are_refused():
    client = TelnetClient(ChatHarness())
    client.output()
    client.send(IAC + WILL + NAWS + IAC + WILL + TTYPE + IAC + WILL + LINEMODE)
    assert client.output() == IAC + DONT + NAWS + IAC + DONT + TTYPE + IAC + DONT + (
        LINEMODE
    )
    # The client may not make us echo outside a password, nor echo itself
    # on our behalf.
    client.send(IAC + DO + ECHO + IAC + WILL + ECHO + IAC + DO + LINEMODE)
    assert client.output() == IAC + WONT + ECHO + IAC + DONT + ECHO + IAC + WONT + (
        LINEMODE
    )


def test_a_refused_binary_leaves_a_working_chat():
    server = ChatHarness()
    alice = server.login("alice")
    client = TelnetClient(server)
    client.output()
    client.send(IAC + WONT + BINARY)
    client.send("tel")
    assert "=== Welcome to chat, tel!" in client.received()
    assert lines.Joined("tel") in alice.events()


# Text


def test_8_bit_text_arrives_whole_and_reaches_a_raw_user_as_the_same_text():
    server = ChatHarness()
    alice = server.login("alice")
    client = TelnetClient(server)
    client.output()
    client.send(IAC + WILL + BINARY)
    client.send("tel")
    client.received()
    alice.received()
    client.send("héllo Å 日本")
    assert alice.events() == [lines.Message("tel", "héllo Å 日本")]
    alice.send("and back: Å 日本")
    assert client.received() == ["<alice> and back: Å 日本"]


def test_iac_iac_is_one_ff_byte():
    assert recorded(b"a" + IAC + IAC + b"b") == b"a\xffb"
    assert recorded(b"a" + IAC, IAC + b"b") == b"a\xffb"


def test_an_ff_byte_reaches_the_line_protocol_unfiltered():
    # Were the raw door's telnet filter applied after the telnet layer, the
    # 0xFF would start a "command" eating the "c", and "abd" would log in.
    client = TelnetClient(ChatHarness())
    client.output()
    client.send(b"ab" + IAC + IAC + b"cd\r\n")
    assert client.received() == ["!!! invalid UTF-8, line discarded"]


def test_ff_in_output_is_doubled():
    client = TelnetClient(ChatHarness())
    client.output()
    client.telnet.write(b"x\xffy")
    client.telnet.writeSequence([b"\xff", b"z\xff\xff"])
    assert client.output() == b"x\xff\xffy" + b"\xff\xff" + b"z\xff\xff\xff\xff"


def test_commands_in_the_input_are_taken_out():
    ip, nop, se, sb = telnet.IP, telnet.NOP, telnet.SE, telnet.SB
    data = b"a" + IAC + ip + b"b" + IAC + nop + IAC + sb + NAWS + b"\x00P\x00\x18"
    data += IAC + se + b"c" + IAC + WILL + b"\r" + b"d"
    assert recorded(data) == b"abcd"


def test_a_command_byte_conch_does_not_know_is_skipped():
    # conch raises ValueError("Stumped") on these.
    assert recorded(b"a" + IAC + telnet.SE + b"b" + IAC + b"\x01c") == b"abc"


# Line ends


def test_cr_lf_cr_nul_and_a_lone_cr_are_each_one_line_end():
    assert recorded(b"a\r\nb\r\x00c\rd\ne") == b"a\nb\nc\nd\ne"


def test_a_line_end_split_after_its_cr_is_still_one():
    assert recorded(b"a\r", b"\nb\r", b"\x00c") == b"a\nb\nc"


def test_a_cr_is_delivered_at_once_not_when_the_next_byte_comes():
    assert recorded(b"name\r") == b"name\n"


def test_a_name_ended_by_cr_nul_logs_in():
    client = TelnetClient(ChatHarness())
    client.output()
    client.send(b"tel\r\x00")
    assert "=== Welcome to chat, tel!" in client.received()


# Hidden passwords


def test_the_password_is_typed_with_the_echo_off():
    client = TelnetClient(accounts_server())
    client.output()
    client.send("alice")
    # The echo is asked off before the prompt shows.
    assert client.output() == (
        IAC + WILL + ECHO + b">>> password: Password for alice?\r\n"
    )
    client.send(IAC + DO + ECHO)  # the client stops echoing
    assert client.output() == b""
    client.send("s3cret")
    output = client.output()
    assert output.startswith(IAC + WONT + ECHO + b"=== Welcome to chat, alice!\r\n")
    client.send(IAC + DONT + ECHO)
    assert client.output() == b""
    assert client.telnet.getOptionState(ECHO).us.state == "no"


def test_a_wrong_password_gives_the_echo_back_too():
    server = accounts_server()
    client = TelnetClient(server)
    client.output()
    client.send("alice")
    client.send(IAC + DO + ECHO)
    client.output()
    client.send("guess")
    assert client.output() == IAC + WONT + ECHO
    server.clock.advance(1)
    assert client.output().startswith(b"!!! wrong name or password\r\n")


def test_echo_comes_back_once_a_slow_client_has_answered():
    client = TelnetClient(accounts_server())
    client.output()
    client.send("alice")
    client.output()
    client.send("s3cret")  # before the client answered WILL ECHO
    assert IAC not in client.output()
    client.send(IAC + DO + ECHO)
    assert client.output() == IAC + WONT + ECHO


def test_a_client_refusing_to_stop_echoing_is_not_asked_again():
    client = TelnetClient(accounts_server())
    client.output()
    client.send("alice")
    client.output()
    client.send(IAC + DONT + ECHO)
    assert client.output() == b""
    client.send("s3cret")
    assert IAC not in client.output()


# The raw door stays raw


def test_the_raw_door_never_gets_a_telnet_byte():
    server = ChatHarness()
    raw = server.login("bob")
    assert not IInputHiding.providedBy(raw.transport)
    tel = TelnetClient(server)
    tel.send(IAC + WILL + BINARY + IAC + WILL + NAWS + IAC + DO + ECHO)
    tel.send("tel")
    tel.send(b"\xc3" + IAC + telnet.NOP + b"\x85 " + IAC + telnet.IP + b"x\r\x00")
    assert raw.events() == [lines.Joined("tel"), lines.Message("tel", "Å x")]
    tel.output()
    raw.send(b"\xff\xfb\x01hi\r\n")  # raw mode: its own filter still works
    assert tel.received() == ["<bob> hi"]
    assert IAC not in raw.transport.value()


def test_the_raw_door_password_prompt_sends_no_telnet_bytes():
    server = accounts_server()
    raw = server.connect()
    raw.received()
    raw.send("alice")
    assert raw.received() == [">>> password: Password for alice?"]
    raw.send("s3cret")
    assert IAC not in raw.transport.value()
    assert "=== Welcome to chat, alice!" in raw.received()


# Limits and the transport underneath


def test_the_send_queue_guard_drops_a_telnet_client_that_does_not_read():
    server = ChatHarness(maxBuffer=1000, rate=0)
    alice = server.login("alice")
    bob = server.login("bob")
    client = TelnetClient(server)
    client.send("tel")
    guard = client.transport.producer
    assert isinstance(guard, SendQueueGuard)  # registered on the real transport
    assert client.transport.streaming
    guard.pauseProducing()  # what the socket does once its buffer is full
    for n in range(200):
        alice.send(f"line {n}")
    server.flush()
    assert client.transport.disconnected  # aborted, not flushed
    client.telnet.connectionLost(Failure(ConnectionDone()))
    assert bob.events()[-1] == lines.Left("tel", "Send queue exceeded")


def test_pausing_reaches_the_real_transport():
    server = ChatHarness(rate=5, burst=3)
    server.login("alice")
    client = TelnetClient(server)
    client.send("tel")
    server.clock.advance(1)
    client.send(b"1\r\n2\r\n3\r\n4\r\n5\r\n")
    assert client.transport.producerState == "paused"
    for _ in range(10):
        server.clock.advance(0.2)
    assert client.transport.producerState == "producing"


def test_telnet_connections_count_against_max_clients_with_raw_ones():
    server = ChatHarness(maxClients=2)
    server.connect()
    TelnetClient(server)
    client = TelnetClient(server)
    # Refused at accept: no telnet negotiation, one line.
    assert client.output() == b"!!! the server is full, please try again later\r\n"
    assert client.transport.disconnecting


def test_a_telnet_user_is_told_goodbye_when_the_server_stops():
    server = ChatHarness()
    client = TelnetClient(server)
    client.send("tel")
    client.output()
    server.server.admission.shutdown()
    assert (
        client.received()[-1]
        == lines.Info("The server is shutting down. Goodbye!").format()
    )
    assert client.transport.disconnecting


def test_tcp_keepalive_is_turned_on_through_the_telnet_layer():
    @implementer(ITCPTransport)
    class TCPTransport(StringTransport):  # type: ignore[misc]
        keepAlive = False
        noDelay = False

        def setTcpKeepAlive(self, enabled):
            self.keepAlive = enabled

        def setTcpNoDelay(self, enabled):
            self.noDelay = enabled

    transport = TCPTransport()
    client = TelnetClient(ChatHarness(), transport)
    assert ITCPTransport.providedBy(client.telnet)
    assert transport.keepAlive


def test_addresses_are_the_real_transports():
    client = TelnetClient(ChatHarness())
    assert client.telnet.getPeer() == client.transport.getPeer()
    assert client.telnet.getHost() == client.transport.getHost()


# Any stream, cut anywhere


def cut(stream: bytes, data: st.DataObject) -> list[bytes]:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    return [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


@given(st.binary(max_size=200), st.data())
def test_any_bytes_cut_anywhere_give_the_same_data_as_fed_whole(stream, data):
    pieces = cut(stream, data)
    assert recorded(*pieces) == recorded(stream)


telnet_bytes = st.lists(
    st.one_of(
        st.binary(max_size=8),
        st.sampled_from(
            [IAC + IAC, IAC + WILL, IAC + DO, IAC + SGA, b"\r", b"\r\n", b"\r\x00"]
        ),
        st.builds(
            lambda c, o: IAC + c + o,
            st.sampled_from([WILL, WONT, DO, DONT]),
            st.sampled_from([BINARY, ECHO, SGA, NAWS, b"\r", IAC]),
        ),
        st.builds(
            lambda body: IAC + SB + body.replace(IAC, IAC + IAC) + IAC + SE,
            st.binary(max_size=6),
        ),
    )
).map(b"".join)


@given(telnet_bytes, st.data())
def test_telnet_like_streams_cut_anywhere_give_the_same_data(stream, data):
    pieces = cut(stream, data)
    whole = recorded(stream)
    assert recorded(*pieces) == whole
    assert b"\r" not in whole


def test_register_asks_the_new_password_with_the_echo_off():
    client = TelnetClient(accounts_harness())
    client.output()
    client.send("carol")
    client.output()
    client.send("/register")
    assert client.output() == (
        IAC + WILL + ECHO + b">>> password: Choose a password for carol:\r\n"
    )
    client.send(IAC + DO + ECHO)
    client.send("s3cret")
    output = client.output()
    assert output.startswith(IAC + WONT + ECHO + b"-!- the account carol is registered")
    assert b"s3cret" not in output
