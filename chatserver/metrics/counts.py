"""
The chat's counts of rare events (refused logins, dropped connections):
plain numbers, read by C{--metrics} when it is scraped, so that counting
costs an addition.
"""

from __future__ import annotations


class ChatCounts:
    """
    Counts of events that happen once per connection or login, not once per
    line.

    @ivar refusedLogins: Logins refused, by reason (the chat's error, or
        C{"credentials"}).
    @ivar drops: Connections dropped or refused by a limit, by limit.
    """

    def __init__(self) -> None:
        self.refusedLogins: dict[str, int] = {}
        self.drops: dict[str, int] = {}

    def refusedLogin(self, reason: str) -> None:
        """
        Count a login refused for C{reason}.
        """
        self.refusedLogins[reason] = self.refusedLogins.get(reason, 0) + 1

    def count(self, limit: str) -> None:
        """
        Count a connection dropped or refused by C{limit}.
        """
        self.drops[limit] = self.drops.get(limit, 0) + 1
