"""
The chat's figures by door, read from the counters the chat keeps (the
realm's lines received, the fan-out's deliveries, the logged-in users), for
the server console: the counters C{/metrics} serves
(L{chatserver.metrics.http.ChatCollector} sums them by door the same way),
so that nothing is counted twice, and nothing is counted for the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from chatserver.metrics.doors import door_of, door_of_class

_K = TypeVar("_K")
_L = TypeVar("_L")


def summed(values: dict[_K, int], label: Callable[[_K], _L]) -> dict[_L, int]:
    """
    @return: C{values} summed by C{label} of their keys.
    """
    result: dict[_L, int] = {}
    for key, number in values.items():
        labelled = label(key)
        result[labelled] = result.get(labelled, 0) + number
    return result


def users_by_door(users: Iterable[object]) -> dict[str, int]:
    """
    @param users: The logged-in users of this node (each with its C{mind}).
    @return: How many came through each door.
    """
    result: dict[str, int] = {}
    for user in users:
        door = door_of(getattr(user, "mind", None))
        result[door] = result.get(door, 0) + 1
    return result


def lines_by_kind_and_door(
    received: dict[tuple[str, type], int],
) -> dict[tuple[str, str], int]:
    """
    @param received: The realm's lines received, by kind and the class of
        the sender's mind.
    @return: The same, by kind and door.
    """
    return summed(received, lambda key: (key[0], door_of_class(key[1])))


def deliveries_by_door(deliveries: dict[type, int]) -> dict[str, int]:
    """
    @param deliveries: The fan-out's writes, by the class of the
        recipients' minds.
    @return: The same, by door.
    """
    return summed(deliveries, door_of_class)
