"""The arrows between app's packages run one way: the web layer uses the query layer, both
use the shared rules (app.facts) and the models, and loading never imports the web stack.

Read from the source with `ast` (every import, at module level or inside a function), so a
new cycle fails here before anything runs; the last test imports what `atlas load` imports
in a fresh interpreter and looks at what got loaded."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# What each of these may never reach, directly or through other app modules.
FORBIDDEN = {
    "app.facts": ("app.query", "app.seeding", "app.api", "fastapi"),
    "app.seeding": ("app.api", "app.query", "fastapi"),
    "app.caching": ("app.api", "fastapi"),
}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            yield stem
            # `from app.x import y` may name a submodule y
            yield from (f"{stem}.{alias.name}" for alias in node.names)


def import_graph(root: Path = APP) -> dict[str, set[str]]:
    """Every app module and the modules it imports (app's, and third-party top names)."""
    modules = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for imported in _imported(path, name):
            if imported.startswith("app.") or imported == "app":
                if imported in modules:
                    targets.add(imported)
            else:
                targets.add(imported.split(".")[0])
        graph[name] = targets - {name}
    return graph


def top_package(module: str) -> str:
    """app.query.plan -> app.query; app.caching -> app.caching; app -> app."""
    return ".".join(module.split(".")[:2])


def package_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles between app's top-level packages and modules, each as a path A -> ... -> A."""
    edges: dict[str, set[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            if target.startswith("app") and top_package(source) != top_package(target):
                edges.setdefault(top_package(source), set()).add(top_package(target))
    cycles: list[list[str]] = []
    for start in sorted(edges):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    cycle = [*path, start]
                    if min(cycle[:-1]) == start:  # each cycle once, from its least member
                        cycles.append(cycle)
                elif nxt not in seen and nxt > start:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return cycles


def reachable(graph: dict[str, set[str]], package: str) -> dict[str, str]:
    """Everything the modules of `package` reach, each with the module that imports it."""
    found: dict[str, str] = {}
    todo = [name for name in graph if name == package or name.startswith(package + ".")]
    while todo:
        name = todo.pop()
        for target in graph.get(name, ()):
            if target not in found:
                found[target] = name
                todo.append(target)
    return found


def test_no_cycle_between_app_packages() -> None:
    cycles = package_cycles(import_graph())
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_loading_and_the_shared_rules_do_not_reach_the_web_stack(package: str) -> None:
    reached = reachable(import_graph(), package)
    wrong = {
        target: importer
        for target, importer in reached.items()
        for banned in FORBIDDEN[package]
        if target == banned or target.startswith(banned + ".")
    }
    said = ", ".join(f"{t} (via {i})" for t, i in sorted(wrong.items())[:8])
    assert not wrong, f"{package} reaches {said}"


def test_the_checks_see_a_cycle(tmp_path: Path) -> None:
    """The graph test is not vacuous: two packages importing each other are found."""
    for package, other in (("a", "b"), ("b", "a")):
        (tmp_path / "app" / package).mkdir(parents=True)
        (tmp_path / "app" / package / "__init__.py").write_text(f"from app.{other} import x\n")
    (tmp_path / "app" / "__init__.py").write_text("")
    assert package_cycles(import_graph(tmp_path / "app")) == [["app.a", "app.b", "app.a"]]


def test_atlas_load_imports_neither_fastapi_nor_the_api() -> None:
    """What `atlas load` imports (the command, the pipeline, the cache purge), in a fresh
    interpreter: the load runs without the web stack."""
    probe = (
        "import sys, app.cli, app.seeding.pipeline, app.caching;"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] == 'fastapi' or m.startswith('app.api') or m == 'app.main'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
