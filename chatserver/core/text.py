"""
What chat text may hold.

Text may not hold control characters (tabs excepted): they could rewrite
other users' terminals.
"""

from __future__ import annotations

import re

from chatserver.core.errors import InvalidText

MAX_TOPIC_LENGTH = 390
"""
The longest topic, in characters (as Ergo's default).
"""

# Unicode's control (Cc) and surrogate (Cs) characters, but for the tab: one
# regular expression search per line instead of a Python loop per character.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(text: str) -> str:
    """
    @return: C{text} when it holds no control characters (tabs are allowed).
    @raise InvalidText: Naming the first control character found.
    """
    found = _CONTROL.search(text)
    if found is not None:
        raise InvalidText(
            f"control characters are not allowed (found U+{ord(found[0]):04X})"
        )
    return text
