"""The OpenAPI document describes everything the API accepts, so clients and docs agree
with the code: each allow-listed filter, operator, sort field and control parameter."""

import importlib
import pkgutil
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import app.api
from app.api import OTHER_ROUTERS, URL_MAP
from app.api.exports import FORMAT_PARAMETER
from app.api.resource import Resource
from app.config import PROJECT_ROOT
from app.facts.search import SEARCHED
from app.query import CONTROL_PARAMETERS, ListSpec

# Every list route, read off the URL map: operation id -> (its spec, the filter its path fixes).
LISTS: dict[str, tuple[ListSpec, str | None]] = {
    f"list_{mount.resource.name}": (mount.resource.spec, None) for mount in URL_MAP
} | {
    f"list_{mount.resource.noun}_{view.child.name}": (view.child.spec, view.filter)
    for mount in URL_MAP
    for view in mount.nested
}


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for path in spec["paths"].values()
        for operation in path.values()
    }


@pytest.mark.parametrize("operation_id", sorted(LISTS))
def test_every_filter_operator_and_control_is_documented(
    spec: dict[str, Any], operation_id: str
) -> None:
    parameters = operations(spec)[operation_id]["parameters"]
    documented = {p["name"] for p in parameters if p["in"] == "query"}
    list_spec, fixed = LISTS[operation_id]
    expected = {*CONTROL_PARAMETERS, "format", "bom", "version", "as_of"}  # format, bom: exports
    if list_spec.facets:
        expected.add("facets")
    if list_spec.augment is not None:
        expected.add(list_spec.augment.name)
    for flt in list_spec.filters:
        if flt.name != fixed:  # the path gives it
            expected |= {flt.name if op == "exact" else f"{flt.name}__{op}" for op in flt.accepted}
    assert documented == expected
    assert [p["in"] for p in parameters].count("path") == (fixed is not None)
    sort = next(p for p in operations(spec)[operation_id]["parameters"] if p["name"] == "sort")
    for field in list_spec.sorts:
        assert field.name in sort["description"]


def test_the_url_map_is_every_route(spec: dict[str, Any]) -> None:
    """Each resource's list, detail and nested views are routed, and nothing else is,
    but for the routes that answer across resources."""
    ops = operations(spec)
    details = {f"get_{m.resource.noun}" for m in URL_MAP if m.resource.detail is not None}
    views = {f"get_{m.resource.noun}_{view.name}" for m in URL_MAP for view in m.views}
    across = {
        route.operation_id
        for router in OTHER_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema  # not a release's files
    }
    service = {"api_index", "index", "health", "readiness"}
    # The export twin of each operation taking `format=` (app.api.export_twins), the lists'.
    exportable = {n for n, op in ops.items() if FORMAT_PARAMETER in op.get("parameters", [])}
    assert set(LISTS) <= exportable
    exports = {f"export_{name.removeprefix('list_').removeprefix('get_')}" for name in exportable}
    assert {"search", "get_series", "get_rankings", "get_comparison"} <= across
    assert set(ops) == set(LISTS) | details | views | across | service | exports


def test_every_declared_resource_is_mounted() -> None:
    """A Resource declared in app/api but left out of the URL map would have no routes."""
    declared = {
        value.name
        for info in pkgutil.iter_modules(app.api.__path__)
        for value in vars(importlib.import_module(f"app.api.{info.name}")).values()
        if isinstance(value, Resource)
    }
    assert declared == {mount.resource.name for mount in URL_MAP}


def test_every_search_entry_belongs_to_a_mounted_resource_and_back() -> None:
    """The loader writes search entries for SEARCHED; each searched resource names its entry,
    so a kind the loader does not write (or a resource that names none) fails here."""
    named = {m.resource.search for m in URL_MAP if m.resource.search is not None}
    assert named == set(SEARCHED)
    for mount in URL_MAP:
        searched = mount.resource.search
        if searched is not None:
            assert searched.table == mount.resource.table.name, mount.resource.name
            assert mount.resource.spec.filter("q") is not None, f"{mount.resource.name}: no q="


def test_every_item_is_keyed_for_the_caches(client: TestClient) -> None:
    """A detail response names its item (`place:daye`) so a purge can reach it."""
    for mount in URL_MAP:
        resource = mount.resource
        if resource.detail is None:
            continue
        example = resource.path_key.example
        if resource.name == "releases":  # the example is a release of other data
            example = client.get("/api/v1").headers["x-atlas-dataset-version"][:16]
        response = client.get(f"/api/v1/{resource.name}/{example}")
        assert response.status_code == 200, resource.name
        keys = response.headers["surrogate-key"].split()
        assert f"{resource.cache_item}:{example}" in keys, (resource.name, keys)


def test_the_api_guide_lists_every_resource() -> None:
    """The API guide's table of resources (docs/api.md) names each mounted collection and
    its detail."""
    guide = (PROJECT_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = guide.split("## Resources")[1].split("\n## ")[0]
    for mount in URL_MAP:
        resource = mount.resource
        assert f"| `/{resource.name}` |" in table, resource.name
        if resource.detail is not None:
            assert f"`/{resource.name}/{{{resource.path_key.parameter}}}`" in table


def test_operation_ids_are_stable_and_every_operation_is_described(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert {"list_metrics", "get_metric", "get_city", "list_city_metrics", "list_city_clusters",
            "list_city_programs", "get_cluster", "get_program", "get_organization",
            "get_indicator", "get_source", "health", "index"} <= set(ops)  # fmt: skip
    for operation_id, operation in ops.items():
        assert operation.get("summary"), operation_id
        assert "200" in operation["responses"], operation_id


def test_errors_are_documented_as_problem_details(spec: dict[str, Any]) -> None:
    assert "Problem" in spec["components"]["schemas"]
    for operation_id, operation in operations(spec).items():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {"application/problem+json"}, (
                    operation_id,
                    status,
                )
        # refusals made before any endpoint runs are documented everywhere
        assert {"400", "406", "414", "415", "431"} <= set(operation["responses"]), operation_id
    assert "HTTPValidationError" not in spec["components"]["schemas"]
