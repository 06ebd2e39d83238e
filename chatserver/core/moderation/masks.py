"""
What a ban, a mute or a kline matches: a name pattern (C{spam*}), an IRC
mask (C{nick!ident@host}, each part a pattern), an address
(C{203.0.113.7}, C{2001:db8::1}) or a network (C{203.0.113.0/24},
C{2001:db8::/32}).

Patterns use the linear wildcard matcher of L{chatserver.core.wildcard}
(C{*} and C{?}, compared folded as names are); addresses and networks the
L{ipaddress} module, so C{::ffff:203.0.113.7} is the IPv4 address it maps.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from chatserver.core.moderation.errors import InvalidMask
from chatserver.core.wildcard import MAX_MASK_LENGTH, Mask, compile_mask
from chatwire.addresses import parse_ip_address
from chatwire.names import name_key

_NOT_IN_MASKS = frozenset(" ,\t")


@dataclass(frozen=True, slots=True)
class Who:
    """
    What a mask is matched against: a user's name, the ident its door gave
    (empty but for IRC) and its IP address as text.
    """

    name: str
    ident: str = ""
    host: str = ""


class BanMask:
    """
    A parsed mask (see L{parse_mask}).

    @ivar text: The mask as shown (an address or network in its normal form).
    @ivar key: What makes two masks the same mask (L{parse_mask} of
        C{Spam*} and C{spam*} have one key).
    """

    __slots__ = ("_host", "_ident", "_name", "_network", "key", "text")

    def __init__(
        self,
        text: str,
        network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None,
        name: Mask | None = None,
        ident: Mask | None = None,
        host: Mask | None = None,
    ) -> None:
        self.text = text
        self.key = text if network is not None else name_key(text)
        self._network = network
        self._name = name
        self._ident = ident
        self._host = host

    def __repr__(self) -> str:
        return f"BanMask({self.text!r})"

    def matches(self, who: Who) -> bool:
        """
        @return: Whether C{who} is one this mask matches.
        """
        if self._network is not None:
            address = parse_ip_address(who.host)
            return address is not None and address in self._network
        assert self._name is not None
        if not self._name.matches(who.name):
            return False
        if self._ident is not None and not self._ident.matches(who.ident):
            return False
        return self._host is None or self._host.matches(who.host)


def parse_mask(text: str) -> BanMask:
    """
    @return: C{text} read as a mask.
    @raise InvalidMask: If it is empty, too long, holds a blank or a comma,
        or looks like a network that is not one.
    """
    text = text.strip()
    if not text:
        raise InvalidMask("a mask cannot be empty")
    if len(text) > MAX_MASK_LENGTH:
        raise InvalidMask(f"a mask is at most {MAX_MASK_LENGTH} characters")
    if any(char in _NOT_IN_MASKS or not char.isprintable() for char in text):
        raise InvalidMask(f"invalid mask {text!r}: no blanks, commas or controls")
    if "!" not in text and "@" not in text:
        if "/" in text:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise InvalidMask(
                    f"invalid network {text!r}: give an address and a prefix"
                    " length (203.0.113.0/24, 2001:db8::/32)"
                ) from None
            return BanMask(str(network), network=network)
        address = parse_ip_address(text)
        if address is not None:
            return BanMask(str(address), network=ipaddress.ip_network(address))
        return BanMask(text, name=compile_mask(text))
    name, _, rest = text.partition("!")
    ident, at, host = rest.partition("@")
    if "@" in name:  # nick@host, without an ident
        name, _, host = name.partition("@")
        ident, at = "*", "@"
    if "!" in rest or "@" in host:
        raise InvalidMask(f"invalid mask {text!r}: use NICK!IDENT@HOST")
    return BanMask(
        text,
        name=compile_mask(name or "*"),
        ident=compile_mask(ident or "*"),
        host=compile_mask(host or "*") if at or host else None,
    )
