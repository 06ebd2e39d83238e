"""
How a login is checked, for twisted.cred's portal: without C{--auth} any
valid name is enough (L{AnyNameChecker}); with it, the checkers C{--auth}
made want a name and a password.
"""

from __future__ import annotations

from twisted.cred.checkers import (
    ICredentialsChecker,
    InMemoryUsernamePasswordDatabaseDontUse,
)
from twisted.cred.credentials import ICredentials, IUsernamePassword
from twisted.cred.portal import Portal
from twisted.internet import defer
from zope.interface import implementer

from chatwire.errors import InvalidName
from chatwire.names import check_name


class IChosenName(ICredentials):
    """
    A name, chosen by the user, with no password.

    @ivar username: The name.
    """


@implementer(IChosenName)
class ChosenName:
    """
    The credentials of a login on an open server: a name alone.
    """

    def __init__(self, username: str) -> None:
        self.username = username


class AccountName(bytes):
    """
    The avatar ID of a login to an account (with its password), in UTF-8:
    the realm tells an account's login from a guest's by this type.
    """


@implementer(ICredentialsChecker)
class AnyNameChecker:
    """
    Takes any valid name with no password: the checker of an open server.
    """

    credentialInterfaces = (IChosenName,)

    def requestAvatarId(
        self, credentials: ChosenName
    ) -> defer.Deferred[bytes | tuple[()]]:
        """
        @return: The name (in UTF-8, as other checkers give avatar IDs),
            when valid; a failure with L{chatwire.errors.InvalidName}
            otherwise.
        """
        try:
            check_name(credentials.username)
        except InvalidName:
            return defer.fail()
        return defer.succeed(credentials.username.encode("utf-8"))


def wants_password(portal: Portal) -> bool:
    """
    @return: Whether logging in through C{portal} needs a password.
    """
    return IChosenName not in portal.listCredentialsInterfaces()


def accept_bytes(checker: object) -> None:
    """
    Make twisted's C{memory:} checker compare bytes, as the
    L{IUsernamePassword} credentials it is given carry.

    strcred's C{memory:} checker stores names and passwords as str, so it
    would refuse every login; its own docstring says they are bytes.
    """
    if isinstance(checker, InMemoryUsernamePasswordDatabaseDontUse):
        checker.users = {
            (k.encode("utf-8") if isinstance(k, str) else k): (
                v.encode("utf-8") if isinstance(v, str) else v
            )
            for k, v in checker.users.items()
        }


__all__ = [
    "AccountName",
    "AnyNameChecker",
    "ChosenName",
    "IChosenName",
    "IUsernamePassword",
    "accept_bytes",
    "wants_password",
]
