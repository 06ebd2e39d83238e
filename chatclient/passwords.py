"""
Passwords kept in the system's keyring, and only there, when the reader asks
(the connect form's "Remember password" box): the C{keyring} package's
backend, the Secret Service (GNOME Keyring, KeePassXC) on Linux, the Keychain
on macOS, the Credential Locker on Windows.  The client's config file never
holds one.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chatwire.names import name_key

#: The service name the passwords are kept under.
SERVICE = "chat-client"

#: Why no keyring can be used, when the package is not installed.
NO_PACKAGE = "needs the keyring package (pip install keyring)"

#: Why no keyring can be used, when the package finds no backend.
NO_BACKEND = "no system keyring is running (e.g. GNOME Keyring's Secret Service)"


def account(host: str, port: int, name: str) -> str:
    """
    @return: The key of C{name}'s password on the server at C{host:port}.
    """
    return f"{name_key(name)}@{host.lower()}:{port}"


def _unusable(backend: Any) -> bool:
    """
    Whether C{backend} is one the C{keyring} package falls back to when it
    has none that keeps passwords (C{fail}, or C{null} chosen by hand).
    """
    return type(backend).__module__ in (
        "keyring.backends.fail",
        "keyring.backends.null",
    )


class Keyring:
    """
    The system's keyring, or why there is none.

    @ivar unusable: Why passwords cannot be kept (one line), or C{""}.
    """

    def __init__(self, backend: Any = None) -> None:
        """
        @param backend: A C{keyring} backend; by default the one the
            C{keyring} package chooses (its configuration, the
            C{PYTHON_KEYRING_BACKEND} variable, or the best one running).
        """
        self.unusable = ""
        if backend is None:
            try:
                import keyring
            except ImportError:
                self.backend: Any = None
                self.unusable = NO_PACKAGE
                return
            backend = keyring.get_keyring()
        self.backend = backend
        if _unusable(backend):
            self.unusable = NO_BACKEND

    def get(self, host: str, port: int, name: str) -> str:
        """
        @return: The password kept for C{name} on C{host:port}, or C{""}.
        """
        if self.unusable or not name:
            return ""
        try:
            found = self.backend.get_password(SERVICE, account(host, port, name))
        except Exception:  # any backend's failure: as if none were kept
            return ""
        return found if isinstance(found, str) else ""

    def keep(self, host: str, port: int, name: str, password: str) -> str:
        """
        Keep C{password} for C{name} on C{host:port}.

        @return: Why it could not be kept (one line), or C{""}.
        """
        if self.unusable:
            return self.unusable
        try:
            self.backend.set_password(SERVICE, account(host, port, name), password)
        except Exception as e:  # any backend's failure: said, not raised
            why = (str(e).splitlines() or [type(e).__name__])[0]
            return f"the keyring refused it: {why}"
        return ""

    def forget(self, host: str, port: int, name: str) -> None:
        """
        Forget any password kept for C{name} on C{host:port}.
        """
        if self.unusable or not name:
            return
        # None was kept, or the keyring is locked: nothing to forget.
        with contextlib.suppress(Exception):
            self.backend.delete_password(SERVICE, account(host, port, name))
