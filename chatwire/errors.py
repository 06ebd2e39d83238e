"""
Why a user operation was refused: one exception class per reason, each
carrying its reason in words fit to show the user.

Every door turns a L{ChatError} into its own kind of error (a C{!!!} line, an
IRC numeric, a JSON error) and shows L{ChatError.reason}.
"""

from __future__ import annotations


class ChatError(Exception):
    """
    A user operation was refused.

    @ivar reason: Why, in words fit to show the user.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidName(ChatError):
    """
    A proposed user name breaks the name rules.

    @ivar why: The rule it breaks (C{a name cannot be empty}); the reason
        adds what it was about (C{invalid name: ...}).
    """

    def __init__(self, why: str) -> None:
        super().__init__(f"invalid name: {why}")
        self.why = why


class InvalidRoomName(ChatError):
    """
    A proposed room name breaks the room name rules.
    """

    def __init__(self, why: str) -> None:
        super().__init__(f"invalid room name: {why}")
        self.why = why


class InvalidText(ChatError):
    """
    Text holds something that may not be sent to other users.
    """


class NameTaken(ChatError):
    """
    Somebody online already has that name (compared case-folded).
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"the name {name} is taken, choose another")
        self.name = name


class ClusterUnavailable(ChatError):
    """
    This node cannot reach the rest of its cluster now: a name cannot be
    known free, a user of another node cannot be reached.
    """

    def __init__(
        self,
        what: str = "names cannot be checked",
    ) -> None:
        super().__init__(
            f"{what} while this server is cut off from its cluster, "
            "try again in a moment"
        )


class LoginAbandoned(ChatError):
    """
    The session went away while its name was claimed across the cluster:
    the name was given back and nobody logged in.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"the connection closed while {name} was logging in")
        self.name = name


class AlreadyCalled(ChatError):
    """
    A user asked to be renamed to the name they have.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"you are already called {name}")


class NamesAreAccounts(ChatError):
    """
    With accounts a user may change only the case of their name.
    """

    def __init__(self) -> None:
        super().__init__("names are accounts here: only the case of a name may change")


class NoSuchUser(ChatError):
    """
    Nobody online has that name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"no such user: {name}")
        self.name = name


class NoSuchRoom(ChatError):
    """
    No room has that name.
    """

    def __init__(self, room: str) -> None:
        super().__init__(f"no such room: {room}")
        self.room = room


class NotInRoom(ChatError):
    """
    The user is not in the room the operation is about (or in no room at
    all, when it names none).
    """

    def __init__(self, room: str | None) -> None:
        if room is None:
            reason = "you are in no room: /join one first"
        else:
            reason = f"you are not in {room}"
        super().__init__(reason)
        self.room = room


class TooManyRooms(ChatError):
    """
    The server, or the user, has as many rooms as allowed.
    """


class InvalidSearch(ChatError):
    """
    A search cannot be made as asked: no words, a date that is not one, a
    filter given twice.
    """


class SearchUnavailable(ChatError):
    """
    The history cannot be searched: this server keeps none, or it cannot be
    read now.
    """


class PasswordRequired(ChatError):
    """
    The name is a registered account: logging in as it takes its password.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is a registered account: give its password")
        self.name = name


class AccountRequired(ChatError):
    """
    The server takes accounts only (C{--require-account}): no guests.
    """

    def __init__(self) -> None:
        super().__init__(
            "this server takes accounts only: log in with a password, or register"
        )


class AccountError(ChatError):
    """
    Registering an account, changing its password or giving it up was
    refused; the subclass says why.
    """


class RegistrationClosed(AccountError):
    """
    The server registers no accounts (C{--registration closed}).
    """

    def __init__(self) -> None:
        super().__init__("registration is closed on this server")


class AccountExists(AccountError):
    """
    The name is registered already, or somebody else uses it now.
    """

    def __init__(self, name: str, why: str = "is registered already") -> None:
        super().__init__(f"{name} {why}")
        self.name = name


class RegistrationThrottled(AccountError):
    """
    Too many accounts were registered from the client's address lately.
    """

    def __init__(self) -> None:
        super().__init__(
            "too many accounts registered from your address, try again later"
        )


class BadPassword(AccountError):
    """
    A new password breaks the password rules.
    """

    def __init__(self, why: str) -> None:
        super().__init__(f"unacceptable password: {why}")
        self.why = why


class WrongPassword(AccountError):
    """
    The password given for an account is not its password.
    """

    def __init__(self) -> None:
        super().__init__("wrong password")


class NoAccount(AccountError):
    """
    The user is a guest: it has no account to change or give up.
    """

    def __init__(self) -> None:
        super().__init__("you are not logged in to an account: /register first")


class AccountReadOnly(AccountError):
    """
    The account is the operator's (C{--auth}): it cannot be changed here.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"the account {name} is kept by the operator: ask them")
        self.name = name


class AccountsUnreachable(AccountError):
    """
    The accounts store cannot be reached now.
    """

    def __init__(self) -> None:
        super().__init__("accounts cannot be reached now, try again in a moment")


class TooManySessions(ChatError):
    """
    An account has as many sessions as C{--max-sessions} allows: another
    login of it is refused.
    """

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(
            f"{name} has {limit} sessions already, the most allowed: "
            "end one first (/sessions end N)"
        )
        self.name = name


class NoSuchSession(ChatError):
    """
    C{/sessions end N} named no session of the user's.
    """

    def __init__(self, number: str) -> None:
        super().__init__(f"no such session: {number} (see /sessions)")


class NotAnAccount(ChatError):
    """
    What was asked is kept for accounts only (read markers, private
    history): a guest has none.
    """

    def __init__(self) -> None:
        super().__init__(
            "read markers and private history are kept for accounts only: "
            "log in with a password"
        )


class NothingToRead(ChatError):
    """
    A read marker was set where no line is: a room or conversation with no
    history, or an id or time before its first line.
    """

    def __init__(self, target: str) -> None:
        super().__init__(f"there is no line to mark read in {target}")
        self.target = target
