"""
The rules of accounts users register themselves: who may register which
name, how a password is checked, changed and given up, and which names are
the operator's (C{--auth}) and read-only.  Every door asks this one
L{Accounts}, so the rules are written once.

Passwords are hashed with scrypt as the password file's are
(L{chatserver.auth.passwords}), in the reactor's thread pool, so that a
registration or a login costs the other users nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from twisted.cred.checkers import (
    FilePasswordDB,
    ICredentialsChecker,
    InMemoryUsernamePasswordDatabaseDontUse,
)
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer, threads
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from chatserver import LOG_NAMESPACE
from chatserver.accounts.store import AccountStore, AccountsUnavailable, StoredAccount
from chatserver.auth.passwords import (
    SCRYPT_N,
    PasswordFileChecker,
    hash_password,
    verify_password,
)
from chatserver.limits.throttle import RegistrationRate
from chatwire.errors import (
    AccountExists,
    AccountReadOnly,
    AccountsUnreachable,
    BadPassword,
    RegistrationClosed,
    RegistrationThrottled,
    WrongPassword,
)
from chatwire.names import check_name, name_key
from chatwire.text import forbidden

log = Logger(namespace=LOG_NAMESPACE)

MIN_PASSWORD_LENGTH = 3
"""
The fewest characters a new password may have.
"""

MAX_PASSWORD_BYTES = 300
"""
The most UTF-8 bytes a new password may have (SASL PLAIN carries it with
the name in at most 4096 bytes of base64).
"""


def check_password(password: str) -> None:
    """
    @raise BadPassword: If C{password} may not be a new password: shorter
        than L{MIN_PASSWORD_LENGTH} (C{weak}), longer than
        L{MAX_PASSWORD_BYTES}, or holding a control character (no door
        could send it back).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadPassword(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        raise BadPassword(f"at most {MAX_PASSWORD_BYTES} bytes")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or forbidden(c) for c in password):
        raise BadPassword("no control characters")


def is_weak(error: BadPassword) -> bool:
    """
    @return: Whether C{error} refused a password for being too short (IRC
        tells C{WEAK_PASSWORD} from C{UNACCEPTABLE_PASSWORD}).
    """
    return error.why.startswith("at least")


def operator_knows(checker: ICredentialsChecker, name: str) -> bool:
    """
    @return: Whether the C{--auth} checker C{checker} has an account called
        C{name}, for the checkers this server knows how to ask (the
        password file, C{memory:} and C{file:}); L{False} for others.
    """
    if isinstance(checker, PasswordFileChecker):
        return checker.passwords.lookup(name) is not None
    if isinstance(checker, InMemoryUsernamePasswordDatabaseDontUse):
        key = name_key(name)
        return any(
            name_key(k.decode("utf-8") if isinstance(k, bytes) else k) == key
            for k in checker.users
        )
    if isinstance(checker, FilePasswordDB):
        try:
            checker.getUser(name.encode("utf-8"))
        except KeyError:
            return False
        return True
    return False


class Accounts:
    """
    The registered accounts of one server, with the operator's beside them.

    @ivar store: Where the registered accounts are kept.
    @ivar registration: Whether users may register accounts.
    @ivar required: Whether every user must log in to an account (no
        guests).
    @ivar operator: The C{--auth} checkers: their accounts log in as
        accounts and are read-only.
    @ivar run: Runs the hashing away from the reactor's thread (the tests
        run it at once).
    @ivar cost: scrypt's N for new hashes (lower only in tests).
    """

    def __init__(
        self,
        store: AccountStore,
        clock: IReactorTime,
        *,
        registration: bool = True,
        required: bool = False,
        operator: Sequence[ICredentialsChecker] = (),
        rate: RegistrationRate | None = None,
        run: Callable[..., defer.Deferred[Any]] = threads.deferToThread,
        cost: int = SCRYPT_N,
    ) -> None:
        """
        @param rate: Counts registrations per address; none counted if not
            given.
        """
        self.store = store
        self.clock = clock
        self.registration = registration
        self.required = required
        self.operator = tuple(operator)
        self._rate = rate
        self.run = run
        self.cost = cost
        self._decoy: str | None = None

    def start(self) -> defer.Deferred[None]:
        return self.store.start()

    def stop(self) -> defer.Deferred[None]:
        return self.store.stop()

    def isOperators(self, name: str) -> bool:
        """
        @return: Whether C{name} is an account of the operator's (C{--auth}).
        """
        return any(operator_knows(checker, name) for checker in self.operator)

    def _stored(self, name: str) -> defer.Deferred[StoredAccount | None]:
        return self.store.get(name).addErrback(_unreachable)

    def isRegistered(self, name: str) -> defer.Deferred[bool]:
        """
        @return: A L{Deferred} firing with whether C{name} is an account,
            the operator's or registered, or failing with
            L{AccountsUnreachable}.
        """
        if self.isOperators(name):
            return defer.succeed(True)
        return self._stored(name).addCallback(lambda account: account is not None)

    def verify(self, name: str, password: str) -> defer.Deferred[str]:
        """
        Check C{password} for the account called C{name}: the operator's
        accounts first, then the registered ones.

        @return: A L{Deferred} firing with the account's name as registered,
            or failing with L{UnauthorizedLogin} (no such account, or a
            wrong password) or L{AccountsUnreachable}.
        """
        if self.isOperators(name):
            return self._verifyOperators(name, password)

        def check(account: StoredAccount | None) -> defer.Deferred[str]:
            hashed = account.hashed if account is not None else self._decoyHash()
            verified: defer.Deferred[bool] = self.run(verify_password, password, hashed)

            def answer(matched: bool) -> str:
                if matched and account is not None:
                    return account.name
                raise UnauthorizedLogin()

            return verified.addCallback(answer)

        return self._stored(name).addCallback(check)

    def _verifyOperators(self, name: str, password: str) -> defer.Deferred[str]:
        credentials = UsernamePassword(name.encode("utf-8"), password.encode("utf-8"))
        checkers = [c for c in self.operator if operator_knows(c, name)]

        def tryNext(reason: Failure | None = None) -> defer.Deferred[str]:
            if not checkers:
                return defer.fail(reason or UnauthorizedLogin())
            checker = checkers.pop(0)
            tried: defer.Deferred[Any] = defer.maybeDeferred(
                checker.requestAvatarId, credentials
            )
            return tried.addCallbacks(_text, tryNext)

        return tryNext()

    def _decoyHash(self) -> str:
        # Verified when there is no such account, so that a wrong name takes
        # as long to refuse as a wrong password.
        if self._decoy is None:
            self._decoy = hash_password(secrets.token_hex(8), self.cost)
        return self._decoy

    def register(self, name: str, password: str, host: str) -> defer.Deferred[str]:
        """
        Register the account C{name} with C{password}, for a client at
        C{host}.

        @return: A L{Deferred} firing with the name registered, or failing
            with an L{chatwire.errors.AccountError} saying why not.
        """
        try:
            check_name(name)
            if not self.registration:
                raise RegistrationClosed()
            check_password(password)
            if self.isOperators(name):
                raise AccountExists(name)
            if self._rate is not None and not self._rate.allow(host):
                raise RegistrationThrottled()
        except Exception:
            return defer.fail()
        hashing: defer.Deferred[str] = self.run(hash_password, password, self.cost)

        def store(hashed: str) -> defer.Deferred[bool]:
            account = StoredAccount(name, hashed, self.clock.seconds())
            return self.store.create(account).addErrback(_unreachable)

        def created(kept: bool) -> str:
            if not kept:
                raise AccountExists(name)
            log.info(
                "Account {name} registered from {host}",
                chat_event="account",
                name=name,
                host=host,
            )
            return name

        return hashing.addCallback(store).addCallback(created)

    def _own(self, name: str, password: str) -> defer.Deferred[str]:
        """
        @return: A L{Deferred} firing with C{name}'s account name once
            C{password} is its password and it is not the operator's.
        """
        if self.isOperators(name):
            return defer.fail(AccountReadOnly(name))

        def wrong(reason: Failure) -> Failure:
            reason.trap(UnauthorizedLogin)
            return Failure(WrongPassword())

        return self.verify(name, password).addErrback(wrong)

    def changePassword(self, name: str, old: str, new: str) -> defer.Deferred[None]:
        """
        Give the account C{name} the password C{new}, once C{old} is its
        password.

        @return: A L{Deferred} failing with an
            L{chatwire.errors.AccountError} if it is refused.
        """
        try:
            check_password(new)
        except BadPassword:
            return defer.fail()

        def change(account: str) -> defer.Deferred[None]:
            hashing: defer.Deferred[str] = self.run(hash_password, new, self.cost)

            def save(hashed: str) -> defer.Deferred[bool]:
                return self.store.setHash(account, hashed).addErrback(_unreachable)

            def saved(_: object) -> None:
                log.info(
                    "Account {name} changed its password",
                    chat_event="account",
                    name=account,
                )

            return hashing.addCallback(save).addCallback(saved)

        return self._own(name, old).addCallback(change)

    def unregister(self, name: str, password: str) -> defer.Deferred[None]:
        """
        Forget the account C{name}, once C{password} is its password.

        @return: A L{Deferred} failing with an
            L{chatwire.errors.AccountError} if it is refused.
        """

        def forget(account: str) -> defer.Deferred[None]:
            def forgotten(_: object) -> None:
                log.info("Account {name} given up", chat_event="account", name=account)

            deleting = self.store.delete(account).addErrback(_unreachable)
            return deleting.addCallback(forgotten)

        return self._own(name, password).addCallback(forget)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _unreachable(reason: Failure) -> Failure:
    reason.trap(AccountsUnavailable)
    return Failure(AccountsUnreachable())
