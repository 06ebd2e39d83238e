"""
One naming convention for module-level functions, in the server, the client
and the wire: snake_case (methods stay camelCase, as Twisted's are).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = ("chatserver", "chatclient", "chatwire", "bench", "scripts", "devtools")
CAMEL = re.compile(r"[a-z0-9][A-Z]")
NAMED_BY_TWISTED = {("chatserver/tap.py", "makeService")}
"""
Functions whose name Twisted chooses: C{ServiceMaker} calls its module's
C{makeService}.
"""


def _module_functions() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.append((path.relative_to(ROOT).as_posix(), node.name))
    return found


def test_module_functions_are_snake_case() -> None:
    camel = [(path, name) for path, name in _module_functions() if CAMEL.search(name)]
    assert set(camel) == NAMED_BY_TWISTED
