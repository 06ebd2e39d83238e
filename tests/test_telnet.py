"""
The telnet filter takes every telnet command out of the stream, however the
stream is cut into reads.
"""

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from chatserver.doors.line.iac import IAC, SB, SE, TelnetFilter

WILL, DO, IP = 0xFB, 0xFD, 0xF4


def run(data: bytes, cuts: Sequence[int] = ()) -> bytes:
    telnet = TelnetFilter()
    out, start = b"", 0
    for cut in sorted(cuts):
        out += telnet.feed(data[start:cut])
        start = cut
    return out + telnet.feed(data[start:])


def test_plain_text_passes_unchanged():
    assert run(b"hello\r\n") == b"hello\r\n"


def test_negotiation_is_removed():
    assert run(bytes([IAC, WILL, 31]) + b"hi" + bytes([IAC, DO, 1])) == b"hi"


def test_interrupt_from_ctrl_c_is_removed():
    assert run(b"a" + bytes([IAC, IP]) + b"b") == b"ab"


def test_subnegotiation_is_removed_up_to_iac_se():
    data = b"x" + bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE]) + b"y"
    assert run(data) == b"xy"


def test_iac_iac_is_one_ff_byte():
    assert run(b"a" + bytes([IAC, IAC]) + b"b") == b"a\xffb"


def test_command_split_across_reads_is_removed():
    data = b"a" + bytes([IAC, WILL, 31]) + b"b"
    for cut in range(1, len(data)):
        assert run(data, [cut]) == b"ab"


text_bytes = st.binary().map(lambda b: b.replace(bytes([IAC]), b""))
commands = st.one_of(
    st.builds(
        lambda c, o: bytes([IAC, c, o]),
        st.sampled_from([0xFB, 0xFC, 0xFD, 0xFE]),
        st.integers(0, 255),
    ),
    st.builds(lambda c: bytes([IAC, c]), st.integers(0xF1, 0xF9)),
    st.builds(
        lambda body: (
            bytes([IAC, SB])
            + body.replace(bytes([IAC]), bytes([IAC, IAC]))
            + bytes([IAC, SE])
        ),
        st.binary(max_size=20),
    ),
)


@given(st.lists(st.tuples(text_bytes, commands)), text_bytes, st.data())
def test_text_survives_any_commands_cut_anywhere(pieces, tail, data):
    stream = b"".join(text + command for text, command in pieces) + tail
    expected = b"".join(text for text, _ in pieces) + tail
    cuts = data.draw(st.lists(st.integers(0, len(stream))))
    assert run(stream, cuts) == expected
