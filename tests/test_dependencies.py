"""Every module app/ imports is the standard library's, app's own, or a runtime
dependency's: pyproject's `dependencies`, followed through their own requirements. A plain
install, without the development extras, then has everything app/ imports.

Read from the source with `ast` (tests/test_imports.py's graph: every import, at module
level or inside a function), and matched to distributions by the top-level modules each
installed one provides (importlib.metadata.packages_distributions)."""

import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from harness.installs import canonical, runtime_closure, runtime_requirements
from tests.test_imports import import_graph


def runtime_modules() -> dict[str, set[str]]:
    """Top-level module -> the runtime distributions (canonical names) that provide it."""
    runtime = set(runtime_closure(runtime_requirements()))
    provided: dict[str, set[str]] = {}
    for module, names in packages_distributions().items():
        dists = {canonical(name) for name in names} & runtime
        if dists:
            provided[module] = dists
    return provided


def unprovided(graph: dict[str, set[str]], provided: dict[str, set[str]]) -> dict[str, str]:
    """Imported top-level modules that nothing at run time provides, each with an importer."""
    missing: dict[str, str] = {}
    for importer, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target == "app" or target.startswith("app."):
                continue
            if target in sys.stdlib_module_names or target in provided:
                continue
            missing.setdefault(target, importer)
    return missing


def test_every_import_of_app_is_the_stdlib_the_app_or_a_runtime_dependency() -> None:
    missing = unprovided(import_graph(), runtime_modules())
    assert not missing, ", ".join(f"{m} (imported by {i})" for m, i in missing.items())


def test_development_tools_are_not_runtime_dependencies() -> None:
    """The check is not vacuous: what only the dev extras install provides nothing here,
    and an app module importing it is reported."""
    provided = runtime_modules()
    assert "yaml" in provided
    assert "lxml_html_clean" in provided
    for dev_only in ("pytest", "httpx", "playwright", "schemathesis", "datasette"):
        assert dev_only not in provided, dev_only


def test_an_import_of_a_development_tool_is_reported(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("import json\nimport yaml\n")
    (tmp_path / "app" / "probe.py").write_text("def f() -> None:\n    import httpx\n")
    graph = import_graph(tmp_path / "app")
    assert unprovided(graph, runtime_modules()) == {"httpx": "app.probe"}
