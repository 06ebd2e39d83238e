"""
The cluster tells the realm what the other nodes did through the realm's
methods for remote users and rooms: no module of C{chatserver.cluster}
writes the realm's state (its users of other nodes, its rooms, a room's
members of other nodes or topic, a remote user's name or away message)
itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chatserver.cluster

REALM_STATE = {"remote", "rooms"}
"""
The realm's and a room's collections, by attribute name.
"""

OWNED = {"topic", "topicSetter", "topicTime", "away", "name", "key", "rooms"}
"""
What a room or a remote user holds, by attribute name.
"""


def writes(tree: ast.AST) -> list[str]:
    """
    @return: Each write into realm state in C{tree}, as source text.
    """
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        else:
            continue
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            found.extend(ast.unparse(each) for each in elements if _is_state(each))
    return found


def _is_state(target: ast.expr) -> bool:
    if isinstance(target, ast.Subscript):
        return (
            isinstance(target.value, ast.Attribute) and target.value.attr in REALM_STATE
        )
    return (
        isinstance(target, ast.Attribute)
        and target.attr in OWNED
        and not (isinstance(target.value, ast.Name) and target.value.id == "self")
    )


def test_no_cluster_module_writes_realm_state():
    package = Path(chatserver.cluster.__file__).parent
    found = {
        path.name: writes(ast.parse(path.read_text()))
        for path in sorted(package.glob("*.py"))
    }
    assert {name: lines for name, lines in found.items() if lines} == {}
