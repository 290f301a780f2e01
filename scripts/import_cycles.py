"""Print the import graph's cycles, between modules and between the layers' folders.

    .venv/bin/python scripts/import_cycles.py [--edges]

Every ``import`` counts, at module level or inside a function (a lazy import still ties two
modules), ``if TYPE_CHECKING:`` included, and so do the packages a module's import runs first
(``from bot.texts import ops`` runs ``bot/texts/__init__.py``). A folder is a package of
``bot/`` (``bot.outbox``), a module directly in ``bot/`` (``bot.settings``), ``conversations``
or ``storage``. Exit status 1 when there is a cycle. Plain :mod:`ast` and Tarjan's algorithm
(no dependency: the graph is small); tests/unit/test_layers.py checks the same graph.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "conversations", "storage")

Graph = dict[str, set[str]]


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Each module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every dotted name ``path`` imports, anywhere in the file; ``from a import b`` yields
    ``a.b`` (:func:`resolve` falls back on ``a`` when ``b`` is not a module)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                drop = node.level - 1 if is_package else node.level
                anchor = anchor[: len(anchor) - drop] if drop else anchor
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}"


def resolve(name: str, modules: Iterable[str]) -> str | None:
    """The project's module that importing ``name`` loads last, or None (not ours)."""
    known = set(modules)
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def module_graph(root: Path = ROOT) -> Graph:
    """Module → the project's modules it imports."""
    files = module_files(root)
    graph: Graph = {name: set() for name in files}
    for name, path in files.items():
        own = _ancestors(name) | {name}
        for imported in imported_names(path, name):
            target = resolve(imported, files)
            if target is not None:
                # Loading ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first.
                graph[name].update(({target} | _ancestors(target)) & set(files) - own)
    return graph


def external_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the top-level names of what it imports from outside the project
    (``telegram``, ``aiosqlite``, ``asyncio``…)."""
    files = module_files(root)
    return {
        name: {
            imported.split(".")[0]
            for imported in imported_names(path, name)
            if resolve(imported, files) is None
        }
        for name, path in files.items()
    }


def reachable(graph: Graph, start: str) -> set[str]:
    """The modules ``start`` loads, directly or not (itself included)."""
    seen = {start}
    todo = [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def folder_of(module: str) -> str:
    """The folder (layer) a module belongs to: ``bot.outbox.senders`` → ``bot.outbox``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bot" else parts[0]


def folder_graph(graph: Graph) -> Graph:
    """Folder → the folders its modules import."""
    folders: Graph = {}
    for module, targets in graph.items():
        edges = folders.setdefault(folder_of(module), set())
        edges.update(folder_of(t) for t in targets if folder_of(t) != folder_of(module))
    return folders


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one node, each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def report(title: str, graph: Graph, *, edges: bool) -> int:
    found = cycles(graph)
    size = sum(len(component) for component in found)
    print(f"{title}: {len(graph)} nodes, {len(found)} cycle(s), {size} node(s) in them")
    for component in found:
        print(f"  cycle of {len(component)}: {', '.join(component)}")
        if edges:
            members = set(component)
            for node in component:
                inside = sorted(graph[node] & members)
                print(f"    {node} → {', '.join(inside)}")
    return len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="show each cycle's edges")
    args = parser.parse_args(argv)
    modules = module_graph()
    count = report("modules", modules, edges=args.edges)
    count += report("folders", folder_graph(modules), edges=args.edges)
    return 1 if count else 0


if __name__ == "__main__":
    sys.exit(main())
