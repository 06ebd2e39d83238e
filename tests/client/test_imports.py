"""
The desktop client depends on the wire (L{chatwire}), not on the server: no
module it imports, directly or through another, is the server's chat core,
its limits, its server object or one of its doors.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import chatclient
import chatwire

SERVER_PARTS = (
    "chatserver.core",
    "chatserver.limits",
    "chatserver.server",
    "chatserver.doors",
)
FIRST_PARTY = ("chatclient", "chatserver", "chatwire")


def _package_modules(package: object) -> list[str]:
    """
    @return: The dotted names of every module in C{package}'s folder.
    """
    name = package.__name__  # type: ignore[attr-defined]
    folder = Path(package.__file__).parent  # type: ignore[attr-defined]
    modules = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(".".join((name, *parts)))
    return modules


def _is_module(name: str) -> bool:
    """
    @return: Whether C{name} is a first-party module (the walk looks no
        further into anything else).
    """
    if name.split(".", maxsplit=1)[0] not in FIRST_PARTY:
        return False
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def _imports(module: str) -> Iterator[str]:
    """
    @return: The modules that C{module}'s source imports, anywhere in it.
    """
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            yield base
            for alias in node.names:
                if _is_module(f"{base}.{alias.name}"):
                    yield f"{base}.{alias.name}"


def _reachable(roots: list[str]) -> dict[str, str]:
    """
    Follow imports from C{roots} through every first-party module.

    @return: Each first-party module reached, mapped to the module that
        first imported it.
    """
    seen = dict.fromkeys(roots, "")
    todo = list(roots)
    while todo:
        module = todo.pop()
        for imported in _imports(module):
            if imported.split(".")[0] in FIRST_PARTY and imported not in seen:
                seen[imported] = module
                todo.append(imported)
    return seen


def test_client_imports_no_part_of_the_server() -> None:
    reached = _reachable(_package_modules(chatclient))
    offending = {
        module: importer
        for module, importer in reached.items()
        if any(module == part or module.startswith(part + ".") for part in SERVER_PARTS)
    }
    assert offending == {}


def test_wire_imports_only_the_standard_library() -> None:
    outside = {
        imported
        for module in _package_modules(chatwire)
        for imported in _imports(module)
        if imported.split(".")[0] not in (*sys.stdlib_module_names, "chatwire")
    }
    assert outside == set()


def test_the_walk_sees_an_import_through_another_module() -> None:
    """
    The walk follows imports: from the wire's commands it reaches the wire's
    errors, which the commands import through the text rules.
    """
    reached = _reachable(["chatwire.commands"])
    assert reached["chatwire.text"] == "chatwire.commands"
    assert reached["chatwire.errors"] == "chatwire.text"
