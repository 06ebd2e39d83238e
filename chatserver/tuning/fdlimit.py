"""
Let the server hold as many connections as the system allows it.

Each connection is a file descriptor, and a process may open only as many
as its soft C{RLIMIT_NOFILE}: often 1,024, whatever C{--max-clients} says,
while the hard limit (which only root may raise) is much higher.  Past the
soft limit C{accept} fails and new clients wait unanswered.  The server
raises its soft limit to the hard one when it starts; it never touches the
hard limit.
"""

from __future__ import annotations

import resource
from collections.abc import Callable

GetLimit = Callable[[int], tuple[int, int]]
SetLimit = Callable[[int, tuple[int, int]], None]


def raise_open_files_limit(
    getrlimit: GetLimit = resource.getrlimit,
    setrlimit: SetLimit = resource.setrlimit,
) -> tuple[int, int]:
    """
    Raise the soft limit on open files to the hard limit.

    An unlimited hard limit (which the kernel caps at C{fs.nr_open} for the
    soft one) or a refusal leaves the soft limit as it was.

    @return: The soft and hard limits in effect afterwards.
    """
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    if hard not in (soft, resource.RLIM_INFINITY):
        try:
            setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft, hard
        soft = hard
    return soft, hard
