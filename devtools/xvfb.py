"""
A private Xvfb display for scripts that show real windows.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def start_xvfb(program: str, size: str = "1024x768x24") -> subprocess.Popen[bytes]:
    """
    Start Xvfb on a display number it picks itself (so it never collides
    with another), not listening on TCP, and point C{$DISPLAY} at it.

    @param program: The name to put in the error when Xvfb does not start.
    @return: The Xvfb process; terminate it when done.
    """
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=[write],
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as numbers:
        number = numbers.readline().strip()
    if not number:
        xvfb.kill()
        raise SystemExit(f"{program}: Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    return xvfb


@contextmanager
def virtual_display(program: str, size: str = "1024x768x24") -> Iterator[None]:
    """
    Run the body with C{$DISPLAY} on a private Xvfb (of C{size}), stopped
    afterwards.
    """
    xvfb = start_xvfb(program, size)
    try:
        yield
    finally:
        xvfb.terminate()
        xvfb.wait()
