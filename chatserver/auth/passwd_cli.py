"""
C{chat-passwd PATH add|remove|set NAME}: manage the hashed password file
that C{twistd chat --auth passwd:PATH} checks logins against.

The password is asked for twice without echo on a terminal; when standard
input is not a terminal, its first line is the password (for scripts).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from chatserver.auth.passwords import PasswordFile, PasswordFileError


class _Refused(Exception):
    pass


def _read_password(name: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"New password for {name}: ")
    second = getpass.getpass("Again: ")
    if first != second:
        raise _Refused("the passwords differ; nothing changed")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run C{chat-passwd}.

    @return: The exit status: 0 when done, 1 when refused, 2 on bad usage.
    """
    parser = argparse.ArgumentParser(
        prog="chat-passwd",
        description="Manage a chat password file (salted scrypt hashes).",
    )
    parser.add_argument("path", help="the password file (created when missing)")
    parser.add_argument("action", choices=["add", "remove", "set"])
    parser.add_argument("name", help="the account name")
    arguments = parser.parse_args(argv)
    passwords = PasswordFile(arguments.path)
    try:
        if arguments.action == "remove":
            passwords.remove(arguments.name)
        else:
            password = _read_password(arguments.name)
            change = passwords.add if arguments.action == "add" else passwords.set
            change(arguments.name, password)
    except (PasswordFileError, OSError, _Refused) as e:
        print(f"chat-passwd: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chat-passwd: interrupted; nothing changed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
