"""The OpenAPI document describes everything the API accepts, so clients and docs agree
with the code: each allow-listed filter, operator, sort field and control parameter."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.clusters import CLUSTER_SPEC
from app.api.indicators import INDICATOR_SPEC
from app.api.metrics import METRIC_SPEC
from app.api.organizations import ORGANIZATION_SPEC
from app.api.places import CITY_SPEC, PLACE_SPEC
from app.api.programs import PROGRAM_SPEC
from app.api.sources import SOURCE_SPEC
from app.query import CONTROL_PARAMETERS, ListSpec

LISTS: dict[str, ListSpec] = {
    "list_metrics": METRIC_SPEC,
    "list_cities": CITY_SPEC,
    "list_places": PLACE_SPEC,
    "list_clusters": CLUSTER_SPEC,
    "list_programs": PROGRAM_SPEC,
    "list_organizations": ORGANIZATION_SPEC,
    "list_indicators": INDICATOR_SPEC,
    "list_sources": SOURCE_SPEC,
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
    documented = {p["name"] for p in operations(spec)[operation_id]["parameters"]}
    list_spec = LISTS[operation_id]
    expected = {*CONTROL_PARAMETERS, "format", "version"}  # format: the export media types
    if list_spec.facets:
        expected.add("facets")
    for flt in list_spec.filters:
        expected |= {flt.name if op == "exact" else f"{flt.name}__{op}" for op in flt.accepted}
    assert documented == expected
    sort = next(p for p in operations(spec)[operation_id]["parameters"] if p["name"] == "sort")
    for field in list_spec.sorts:
        assert field.name in sort["description"]


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
