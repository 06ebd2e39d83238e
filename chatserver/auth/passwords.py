"""
The hashed password file: salted scrypt hashes, one account a line, and the
twisted.cred checker that reads it (C{--auth passwd:PATH}).

A line is C{NAME:$scrypt$n=N,r=R,p=P$SALT$HASH}, salt and hash in base64.
Names follow the chat's name rules, so they never contain C{:}; they are
looked up by their case fold, as names are compared in the chat.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.strcred import ICheckerFactory
from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.plugin import IPlugin
from twisted.python.failure import Failure
from zope.interface import implementer

from chatserver import LOG_NAMESPACE
from chatserver.ops.reload import IReloadable, describe_error
from chatwire.errors import InvalidName
from chatwire.names import check_name, name_key

log = Logger(namespace=LOG_NAMESPACE)

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32


class PasswordFileError(ValueError):
    """
    The password file cannot be read or changed as asked; the message says
    why, fit for one line on a terminal.
    """


def hash_password(password: str, cost: int = SCRYPT_N) -> str:
    """
    Hash C{password} with a fresh random salt.

    @param cost: scrypt's N, a power of two (lower only in tests).
    @return: The encoded hash, with its parameters and salt.
    """
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, cost, SCRYPT_R, SCRYPT_P)
    return (
        f"$scrypt$n={cost},r={SCRYPT_R},p={SCRYPT_P}$"
        f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * 1024 * 1024,
        dklen=_HASH_BYTES,
    )


def verify_password(password: str, encoded: str) -> bool:
    """
    @return: Whether C{password} is the one C{encoded} was made from.  A
        malformed C{encoded} matches nothing.
    """
    try:
        _, scheme, parameters, salt, digest = encoded.split("$")
        values = dict(item.split("=", 1) for item in parameters.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        expected = base64.b64decode(digest, validate=True)
        salt_bytes = base64.b64decode(salt, validate=True)
    except (ValueError, KeyError):
        return False
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(_scrypt(password, salt_bytes, n, r, p), expected)


@dataclass(frozen=True)
class Account:
    """
    One line of the password file.
    """

    name: str
    hashed: str


class PasswordFile:
    """
    A password file on disk, re-read whenever it changes, written atomically
    and readable by its owner only.

    @ivar keepOnError: Whether a file that cannot be read (missing, or with
        a bad line) leaves the accounts read before in place, with one line
        logged, as a running server wants; otherwise (as C{chat-passwd}
        wants, before it writes the file) it is an error, and a missing
        file has no accounts.
    """

    def __init__(self, path: Path | str, *, keepOnError: bool = False) -> None:
        self.path = Path(path)
        self.keepOnError = keepOnError
        self._accounts: dict[str, Account] = {}
        self._stamp: tuple[int, int] | None = None

    def _reload(self) -> None:
        self._read(strict=not self.keepOnError)

    def reload(self) -> None:
        """
        Read the file again now, changed or not.

        @raise PasswordFileError: If a line is bad.
        @raise OSError: If it cannot be read (with L{keepOnError}, also if
            it is missing).
        @raise ValueError: If it is not UTF-8.
        """
        self._stamp = None
        self._read(strict=True)

    def _read(self, strict: bool) -> None:
        stamp = None
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._stamp:
                return
            accounts: dict[str, Account] = {}
            text = self.path.read_text(encoding="utf-8")
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.startswith("#"):
                    continue
                name, colon, hashed = line.partition(":")
                if not colon:
                    raise PasswordFileError(f"{self.path}:{number}: no ':' in the line")
                accounts[name_key(name)] = Account(name, hashed)
        except FileNotFoundError:
            if not self.keepOnError:
                self._accounts, self._stamp = {}, None
                return
            if strict:
                raise
            self._keep(stamp, f"{self.path}: no such file")
            return
        except (OSError, ValueError) as error:
            if not self.keepOnError:
                raise
            if strict:
                # Not read again, nor logged again, until it changes.
                self._stamp = stamp
                raise
            self._keep(stamp, describe_error(error))
            return
        self._accounts, self._stamp = accounts, stamp

    def _keep(self, stamp: tuple[int, int] | None, why: str) -> None:
        # Logged once, and not read again until it changes.
        if stamp is not None and stamp == self._stamp:
            return
        self._stamp = stamp
        log.error(
            "Password file not read, the accounts read before kept: {why}",
            chat_event="reload-failed",
            why=why,
        )

    def lookup(self, name: str) -> Account | None:
        """
        @return: The account called C{name} in any case, or L{None}.
        """
        self._reload()
        return self._accounts.get(name_key(name))

    def names(self) -> list[str]:
        """
        @return: Every account's name.
        """
        self._reload()
        return sorted((a.name for a in self._accounts.values()), key=name_key)

    def add(self, name: str, password: str, cost: int = SCRYPT_N) -> None:
        """
        Create the account C{name}.

        @raise PasswordFileError: If it exists, or the name is invalid.
        """
        _check(name, password)
        if self.lookup(name) is not None:
            raise PasswordFileError(f"{name} already has an account")
        self._accounts[name_key(name)] = Account(name, hash_password(password, cost))
        self._save()

    def set(self, name: str, password: str, cost: int = SCRYPT_N) -> None:
        """
        Change the password of the account C{name}.

        @raise PasswordFileError: If there is no such account.
        """
        _check(name, password)
        account = self.lookup(name)
        if account is None:
            raise PasswordFileError(f"{name} has no account")
        self._accounts[name_key(name)] = Account(
            account.name, hash_password(password, cost)
        )
        self._save()

    def remove(self, name: str) -> None:
        """
        Delete the account C{name}.

        @raise PasswordFileError: If there is no such account.
        """
        if self.lookup(name) is None:
            raise PasswordFileError(f"{name} has no account")
        del self._accounts[name_key(name)]
        self._save()

    def _save(self) -> None:
        text = "".join(f"{a.name}:{a.hashed}\n" for a in self._accounts.values())
        directory = self.path.parent
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{self.path.name}."
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as output:
                output.write(text)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        self._stamp = None


def _check(name: str, password: str) -> None:
    try:
        check_name(name)
    except InvalidName as e:
        raise PasswordFileError(f"invalid name: {e}") from None
    if not password:
        raise PasswordFileError("the password cannot be empty")
    if "\n" in password or "\r" in password:
        raise PasswordFileError("the password cannot contain a line break")


@functools.cache
def _decoy() -> str:
    # A hash to verify against when there is no such account, so that a wrong
    # name takes as long to refuse as a wrong password.
    return hash_password(secrets.token_hex(8))


@implementer(ICredentialsChecker, IReloadable)
class PasswordFileChecker:
    """
    Checks names and passwords against a L{PasswordFile}.  Hashing runs in
    the reactor's thread pool, so a login costs the other users nothing.
    On reload the file is read again.

    @ivar passwords: The file.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(
        self,
        passwords: PasswordFile,
        run: Callable[..., defer.Deferred[Any]] = threads.deferToThread,
    ) -> None:
        self.passwords = passwords
        self._run = run

    @property
    def name(self) -> str:
        return f"password file {self.passwords.path}"

    def reload(self) -> None:
        """
        Read the password file again.

        @raise Exception: As L{PasswordFile.reload}; the accounts read
            before are kept.
        """
        self.passwords.reload()

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[Any]:
        name, password = _text(credentials.username), _text(credentials.password)
        try:
            account = self.passwords.lookup(name)
        except (OSError, PasswordFileError) as e:
            return defer.fail(e)
        hashed = account.hashed if account is not None else _decoy()

        def answer(matched: bool) -> bytes | Failure:
            if matched and account is not None:
                return account.name.encode("utf-8")
            return Failure(UnauthorizedLogin())

        verified: defer.Deferred[bool] = self._run(verify_password, password, hashed)
        return verified.addCallback(answer)


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


@implementer(ICheckerFactory, IPlugin)
class PasswordFileCheckerFactory:
    """
    The C{passwd} type of C{--auth}: C{--auth passwd:PATH} checks logins
    against the hashed password file at PATH (made with C{chat-passwd}).
    """

    authType = "passwd"
    authHelp = (
        "A file of salted scrypt password hashes, one account a line, made and "
        "changed with chat-passwd PATH add|remove|set NAME. Names are matched "
        "without regard to case; the file is re-read when it changes."
    )
    argStringFormat = "The path of the password file."
    credentialInterfaces = (IUsernamePassword,)

    def generateChecker(self, argstring: str) -> PasswordFileChecker:
        if not argstring:
            raise ValueError("--auth passwd: needs a path (passwd:PATH)")
        passwords = PasswordFile(argstring, keepOnError=True)
        if not passwords.path.is_file():
            raise ValueError(f"no password file at {argstring}")
        passwords.reload()  # read it now, so a broken file stops the start
        return PasswordFileChecker(passwords)
