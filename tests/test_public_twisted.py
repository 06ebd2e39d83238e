"""
The server stands on Twisted's public API: a Twisted release may move or
change a private module (a name with a leading underscore) without notice.
Only C{chatserver/tuning/}, which measures and falls back, may use one.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import chatserver


def test_no_private_twisted_module_outside_tuning():
    """
    Only C{chatserver/tuning/} may import a private module of Twisted (a
    name with a leading underscore): elsewhere a Twisted release that moves
    one must not break the server.
    """
    root = Path(chatserver.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "tuning":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [
                    f"{node.module}.{alias.name}" for alias in node.names
                ]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "twisted" and any(p.startswith("_") for p in parts):
                    found.append(f"{path.relative_to(root)}: {name}")
    assert found == [], os.linesep.join(found)
