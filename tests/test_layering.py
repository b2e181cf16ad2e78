"""The layering of docs/architecture.md, read from the source with `ast` (no import is executed).

    registry <- crf <- scoring <- reports <- interchange <- api, web   ("<-": "is imported by")

- a package imports only packages of lower layers (and itself); `api` and `web` are siblings at the
  top and do not import each other; `config` (wiring) sits above everything and nothing imports it;
- `scoring.instruments` is pure: any layer may import it, it imports only the standard library and
  itself (no Django);
- no import cycle between the project's modules, counting every import, those inside functions
  too (a deferred import hides a cycle; it does not remove it);
- no source file over 600 lines (a file that long holds two concerns).
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYER = {
    "registry": 0,
    "crf": 1,
    "scoring": 2,
    "reports": 3,
    "interchange": 4,
    "api": 5,
    "web": 5,
    "config": 6,
}
INSTRUMENTS = "scoring.instruments"
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(
        path
        for package in LAYER
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an import statement names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".")
    base = package[: len(package) - node.level + (1 if _is_package(module) else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _is_package(module: str) -> bool:
    return (REPO / module.replace(".", "/") / "__init__.py").exists()


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) of every import in the file, inside functions too."""
    module = module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node)
            yield base, node.lineno
            # `from package import module` imports the submodule too.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if (REPO / candidate.replace(".", "/")).with_suffix(".py").exists() or _is_package(
                    candidate
                ):
                    yield candidate, node.lineno


def top(module: str) -> str:
    return module.split(".")[0]


def is_instruments(module: str) -> bool:
    return module == INSTRUMENTS or module.startswith(INSTRUMENTS + ".")


def test_every_package_imports_only_lower_layers():
    wrong = []
    for path in source_files():
        importer = module_name(path)
        if is_instruments(importer):
            continue  # checked below, more strictly
        for imported, line in imports(path):
            package = top(imported)
            if package not in LAYER or package == top(importer) or is_instruments(imported):
                continue
            if LAYER[package] >= LAYER[top(importer)]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {imported}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_instruments_import_only_the_standard_library_and_themselves():
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for path in sorted((REPO / "scoring" / "instruments").rglob("*.py")):
        for imported, line in imports(path):
            if is_instruments(imported) or top(imported) in stdlib or imported == "__future__":
                continue
            wrong.append(f"{path.relative_to(REPO)}:{line} imports {imported}")
    assert not wrong, "the instruments must stay pure:\n" + "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the list of its modules, or None (iterative depth-first)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        iterators = [iter(sorted(graph[start]))]
        state[start] = 1
        while iterators:
            following = next(iterators[-1], None)
            if following is None:
                state[path.pop()] = 2
                iterators.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                iterators.append(iter(sorted(graph.get(following, ()))))
    return None


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = {module_name(path) for path in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = module_name(path)
        edges = {imported for imported, _ in imports(path) if imported in known}
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        for module in list(edges):
            parts = module.split(".")
            edges.update(".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]))
        edges.discard(name)
        graph[name] = {edge for edge in edges if edge in known and not name.startswith(edge + ".")}
    return graph


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


@pytest.mark.parametrize("package", sorted(LAYER))
def test_no_source_file_over_600_lines(package):
    long = [
        f"{path.relative_to(REPO)}: {count} lines"
        for path in source_files()
        if top(module_name(path)) == package
        and (count := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "split by concern:\n" + "\n".join(long)
