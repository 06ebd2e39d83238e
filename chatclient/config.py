"""
What the client remembers between runs: the window's size, the last host,
port and name, the rooms it was in, its private conversations and the
theme, and whether the password is to be kept in the system keyring, in
C{$XDG_CONFIG_HOME/chatclient/config.json} (C{~/.config/chatclient/} when
C{XDG_CONFIG_HOME} is not set).  No password is ever written.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Remembered:
    host: str = "localhost"
    port: int = 8123
    name: str = ""
    tls: bool = False
    theme: str = "light"
    geometry: str = "900x560"
    rooms: list[str] = field(default_factory=list)
    privates: list[str] = field(default_factory=list)
    #: Whether the "Remember password" box was ticked (the password itself
    #: is in the system keyring, never here).
    keepPassword: bool = False


def config_path() -> Path:
    """
    @return: Where the client's settings are kept.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "chatclient" / "config.json"


def load(path: Path | None = None) -> Remembered:
    """
    @return: What was remembered, or the defaults when nothing (readable) was.
    """
    try:
        data = json.loads((path or config_path()).read_text("utf-8"))
        known = {k: v for k, v in data.items() if k in Remembered.__dataclass_fields__}
        remembered = Remembered(**known)
    except (OSError, ValueError, TypeError):
        return Remembered()
    if remembered.theme not in ("light", "dark"):
        remembered.theme = "light"
    for listed in ("rooms", "privates"):
        names = getattr(remembered, listed)
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            setattr(remembered, listed, [])
    return remembered


def save(remembered: Remembered, path: Path | None = None) -> None:
    """
    Remember C{remembered} (atomically: a crash leaves the old file).
    """
    path = path or config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(remembered), indent=2), "utf-8")
        temporary.replace(path)
    except OSError:
        pass
