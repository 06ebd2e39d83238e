"""
Build the C epoll reference server, C{bench/baselines/cepoll.c}, with the
system C compiler (C{$CC}, else C{cc}) and the system's OpenSSL (libssl) into
a build directory; no binary is kept in the repository.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "cepoll.c"
FLAGS = ("-O2", "-std=c11", "-Wall", "-Wextra", "-Werror")
# Both C programs speak TLS through the system's OpenSSL (Debian's
# libssl-dev to build them).
LIBS = ("-lssl", "-lcrypto")

_built: dict[str, Path] = {}


def compiler() -> str | None:
    """
    @return: The path of the system C compiler, or C{None} if there is none.
    """
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("cc")


def build(directory: Path | None = None) -> Path:
    """
    Compile C{cepoll.c}, once per process for the default directory.

    @param directory: Where to put the binary; by default a temporary
        directory removed when the process exits.
    @return: The binary's path.
    @raise RuntimeError: If there is no C compiler or the build fails.
    """
    key = str(directory or "")
    if key in _built:
        return _built[key]
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc or $CC) to build cepoll.c")
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="bench-cepoll-"))
        atexit.register(shutil.rmtree, directory, True)
    binary = directory / "cepoll"
    done = subprocess.run(
        [cc, *FLAGS, "-o", str(binary), str(SOURCE), *LIBS],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building cepoll.c failed:\n{done.stderr}")
    _built[key] = binary
    return binary
