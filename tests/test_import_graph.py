"""The voicecore package imports one way: no cycle, and the layers the architecture draws.

The graph is read from the source with ``ast``: every ``import`` and ``from`` statement
anywhere in a module counts, including those under ``if TYPE_CHECKING:`` and inside functions,
since a cycle closed that way is still a cycle of concepts. Importing ``a.b.c`` also imports
its parent packages; that implicit edge is left out (else every submodule would reach its
package's ``__init__`` and back), as is the generated ``voicecore._proto``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import voicecore

PACKAGE_ROOT = Path(voicecore.__file__).parent
Graph = Mapping[str, frozenset[str]]


def module_files(root: Path) -> dict[str, Path]:
    """voicecore's module names and their files, without the generated code."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("voicecore", *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if not _is_generated(name):
            modules[name] = path
    return modules


def _is_generated(name: str) -> bool:
    return name == "voicecore._proto" or name.startswith("voicecore._proto.")


def imported_modules(name: str, path: Path, known: frozenset[str]) -> frozenset[str]:
    """The voicecore modules ``name`` imports anywhere in its source."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        for target in _targets(node, name, is_package, known):
            if target in known and target != name:
                found.add(target)
    return frozenset(found)


def _targets(node: ast.AST, name: str, is_package: bool, known: frozenset[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = _absolute(node.module, node.level, name, is_package)
        for alias in node.names:
            # "from a import b" imports the submodule a.b when there is one, else a's name b.
            submodule = f"{base}.{alias.name}"
            yield submodule if submodule in known else base


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name of a (possibly relative) ``from`` import's module."""
    if level == 0:
        assert module is not None
        return module
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def import_graph(root: Path) -> dict[str, frozenset[str]]:
    """Each voicecore module and the voicecore modules it imports."""
    files = module_files(root)
    known = frozenset(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    done: set[str] = set()
    for start in sorted(graph):
        cycle = _cycle_from(graph, start, [], done)
        if cycle is not None:
            return cycle
    return None


def _cycle_from(graph: Graph, module: str, path: list[str], done: set[str]) -> list[str] | None:
    if module in path:
        return [*path[path.index(module) :], module]
    if module in done:
        return None
    for target in sorted(graph.get(module, ())):
        cycle = _cycle_from(graph, target, [*path, module], done)
        if cycle is not None:
            return cycle
    done.add(module)
    return None


def reachable(graph: Graph, start: str) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _within(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


@pytest.fixture(scope="module")
def graph() -> dict[str, frozenset[str]]:
    return import_graph(PACKAGE_ROOT)


class TestImportGraph:
    def test_no_cycle(self, graph: Graph) -> None:
        """No voicecore module imports itself through others."""
        cycle = find_cycle(graph)
        assert cycle is None, "import cycle: " + " -> ".join(cycle or [])

    def test_the_contract_knows_no_implementation(self, graph: Graph) -> None:
        """voicecore.primitive imports nothing of capture, the primitives or the server side."""
        above = (
            "voicecore.capture",
            "voicecore.primitives",
            "voicecore.service",
            "voicecore.server",
            "voicecore._execution",
        )
        assert _within(reachable(graph, "voicecore.primitive"), *above) == []

    def test_capture_knows_no_primitive_or_server(self, graph: Graph) -> None:
        """voicecore.capture imports nothing of the concrete primitives or the server side."""
        capture = [name for name in graph if _within({name}, "voicecore.capture")]
        imported = set().union(*(reachable(graph, name) for name in capture))
        above = ("voicecore.primitives", "voicecore.service", "voicecore.server")
        assert _within(imported, *above) == []

    def test_the_client_reaches_only_the_shared_leaves(self, graph: Graph) -> None:
        """The client imports only itself, the exception tree, JSON values and trace ids. Two
        modules reach the server on purpose, lazily, so their edges are left out: the package
        root (only under TYPE_CHECKING; names load on first use) and the in-process client
        (which builds a service inside its functions)."""
        lazy = {"voicecore", "voicecore.client._inprocess"}
        eager = {name: targets for name, targets in graph.items() if name not in lazy}
        leaves = {"voicecore.errors", "voicecore._json", "voicecore._trace", "voicecore._version"}
        client = [name for name in graph if _within({name}, "voicecore.client")]
        imported = set().union(*(reachable(eager, name) for name in client))
        beyond = {name for name in imported if not _within({name}, "voicecore.client")}
        assert sorted(beyond - leaves - lazy) == []

    def test_the_graph_sees_every_kind_of_import(self, graph: Graph) -> None:
        """Imports inside functions count (default_registry imports the built-in list)."""
        assert "voicecore.primitives" in graph["voicecore.registry"]


class TestCycleFinder:
    """The checks above would pass on a broken graph reader; these show they can fail."""

    def test_finds_a_cycle_closed_under_type_checking(self, tmp_path: Path) -> None:
        """A TYPE_CHECKING import that closes a loop is a cycle, named module by module."""
        package = tmp_path / "voicecore"
        (package / "sub").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "sub" / "__init__.py").write_text("from voicecore.sub import a\n")
        (package / "sub" / "a.py").write_text("from . import b\n")
        (package / "sub" / "b.py").write_text(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n"
        )
        cycle = find_cycle(import_graph(package))
        assert cycle == ["voicecore.sub.a", "voicecore.sub.b", "voicecore.sub.a"]

    def test_finds_a_cycle_closed_in_a_function(self, tmp_path: Path) -> None:
        """An import inside a function is an edge too."""
        package = tmp_path / "voicecore"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "a.py").write_text("import voicecore.b\n")
        (package / "b.py").write_text("def f() -> None:\n    from voicecore import a\n")
        assert find_cycle(import_graph(package)) == ["voicecore.a", "voicecore.b", "voicecore.a"]

    def test_parent_packages_and_generated_code_are_not_edges(self, tmp_path: Path) -> None:
        """A submodule's package and voicecore._proto do not make cycles."""
        package = tmp_path / "voicecore"
        (package / "sub").mkdir(parents=True)
        (package / "_proto").mkdir()
        (package / "__init__.py").write_text("import voicecore.sub.a\nimport voicecore._proto\n")
        (package / "sub" / "__init__.py").write_text("from .a import X\n")
        (package / "sub" / "a.py").write_text("X = 1\n")
        (package / "_proto" / "__init__.py").write_text("import voicecore\n")
        graph = import_graph(package)
        assert find_cycle(graph) is None
        assert graph["voicecore"] == frozenset({"voicecore.sub.a"})
