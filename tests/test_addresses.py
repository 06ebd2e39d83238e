"""
Per-address connection limits.
"""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv6Address, UNIXAddress
from twisted.internet.task import Clock

from chatserver.limits.addresses import (
    DEFAULT_EXEMPT,
    AddressLimits,
    ConnectRate,
    address_key,
    describe_address,
    parse_network,
)
from chatserver.testing import ChatHarness
from chatwire import lines
from chatwire.addresses import format_address

NO_RATE = ConnectRate(0, 1)


def limits(per_address=2, rate=NO_RATE, clock=None):
    exempt = [parse_network(n) for n in DEFAULT_EXEMPT]
    return AddressLimits(per_address, rate, exempt, clock or Clock())


def test_addresses_are_written_as_people_write_them():
    assert format_address("127.0.0.1", 5000) == "127.0.0.1:5000"
    assert format_address("::1", 5) == "[::1]:5"
    assert describe_address(IPv6Address("TCP", "::1", 5)) == "[::1]:5"
    assert describe_address(UNIXAddress(b"/tmp/chat")) == str(UNIXAddress(b"/tmp/chat"))


def test_ipv4_addresses_count_alone():
    assert address_key("192.0.2.7") == "192.0.2.7"


def test_ipv6_addresses_count_by_their_64():
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")


def test_ipv4_mapped_ipv6_counts_as_ipv4():
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"


def test_non_ip_peers_are_not_counted():
    assert address_key("/run/chat.sock") is None


@given(st.ip_addresses())
def test_every_ip_address_has_a_key_inside_its_own_network(address):
    key = address_key(str(address))
    assert key is not None
    network = ipaddress.ip_network(key, strict=False)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    assert address in network


def test_connections_at_once_are_limited_per_address():
    table = limits(per_address=2)
    assert table.admit("192.0.2.1") is None
    assert table.admit("192.0.2.1") is None
    assert "at most 2 at once" in str(table.admit("192.0.2.1"))
    assert table.admit("192.0.2.2") is None
    table.release("192.0.2.1")
    assert table.admit("192.0.2.1") is None


def test_ipv6_neighbours_in_one_64_share_a_limit():
    table = limits(per_address=1)
    assert table.admit("2001:db8::1") is None
    assert table.admit("2001:db8::2") is not None
    assert table.admit("2001:db8:0:1::1") is None


def test_zero_per_address_means_no_limit():
    table = limits(per_address=0)
    for _ in range(100):
        assert table.admit("192.0.2.1") is None


def test_loopback_is_exempt_by_default():
    table = limits(per_address=1, rate=ConnectRate(1, 600))
    for _ in range(10):
        assert table.admit("127.0.0.1") is None
        assert table.admit("::1") is None


def test_other_loopback_addresses_are_not_exempt():
    table = limits(per_address=1)
    assert table.admit("127.0.0.2") is None
    assert table.admit("127.0.0.2") is not None


def test_new_connections_are_limited_per_window():
    clock = Clock()
    table = limits(per_address=0, rate=ConnectRate(3, 10), clock=clock)
    for _ in range(3):
        assert table.admit("192.0.2.1") is None
    assert "at most 3 per 10 seconds" in str(table.admit("192.0.2.1"))
    clock.advance(10)
    assert table.admit("192.0.2.1") is None


def test_forgotten_addresses_are_swept():
    clock = Clock()
    table = limits(per_address=0, rate=ConnectRate(5, 1), clock=clock)
    for n in range(2048):
        table.admit(f"10.0.{n // 256}.{n % 256}")
        table.release(f"10.0.{n // 256}.{n % 256}")
        clock.advance(0.01)
    assert table.tracked() < 1100


@pytest.mark.parametrize("text", ["32/600", "1/0.5", "0/1"])
def test_connect_rate_reads_n_per_seconds(text):
    count, seconds = text.split("/")
    assert ConnectRate.parse(text) == ConnectRate(int(count), float(seconds))


@pytest.mark.parametrize(
    "text", ["", "32", "32/", "/600", "a/b", "-1/5", "5/0", "5/-1"]
)
def test_connect_rate_refuses_anything_else(text):
    with pytest.raises(ValueError, match="N/SECONDS"):
        ConnectRate.parse(text)


@given(st.integers(0, 10**6), st.floats(0.001, 10**6))
def test_connect_rate_reads_back_as_it_is_written(count, seconds):
    assert str(ConnectRate(32, 600.0)) == "32/600"
    rate = ConnectRate(count, seconds)
    assert ConnectRate.parse(str(rate)) == rate


@given(st.text(max_size=12))
def test_connect_rate_parser_never_fails_otherwise(text):
    try:
        rate = ConnectRate.parse(text)
    except ValueError:
        return
    assert rate.count >= 0 and rate.seconds > 0


def test_server_refuses_a_connection_over_the_address_limit_with_a_line():
    server = ChatHarness(maxPerAddress=1)
    first = server.connect("192.0.2.1")
    second = server.connect("192.0.2.1")
    assert second.events() == [
        lines.Error("too many connections from your address (at most 1 at once)")
    ]
    assert second.closing
    second.lose()
    first.lose()
    third = server.connect("192.0.2.1")
    assert not third.closing


def test_server_refuses_connections_over_the_connect_rate():
    server = ChatHarness(maxPerAddress=0, connectRate=ConnectRate(2, 60))
    for _ in range(2):
        server.connect("2001:db8::5").lose()
    refused = server.connect("2001:db8::6")
    assert refused.closing
    [event] = refused.events()
    assert isinstance(event, lines.Error)
    assert event.text.startswith("too many new connections")
