"""The OpenAPI document is exact: every response validates against its declared schema,
which requires what is always there; HEAD answers on every GET route; paging needs no URL
parsing; each error status shows its own example; no parameter name is used twice."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError, create_model

from app.api import URL_MAP
from app.api.export_twins import SUFFIX
from app.api.exports import FORMAT_PARAMETER
from app.api.metrics import Metric
from app.api.responses import Problem
from app.api.service import Index
from app.api.shapes import Schema, SubsetMeta
from app.seeding.reader import read_dataset
from app.seeding.version import dataset_hash
from tests.conftest import SEEDS

API = "/api/v1"
# A value for each path parameter, so every documented route can be requested.
PATH_VALUES = {
    "slug": "daye",
    "city_slug": "daye",
    "place_slug": "hubei",
    "cluster_slug": "hefei-intelligent-voice",
    "program_slug": "baiyun-lake-digital-sci-tech-city",
    "organization_slug": "crrc-zhuzhou-institute",
    "indicator_code": "high_tech_enterprises",
    "code": "high_tech_enterprises",
    "source_id": "chinadaily-2019-08-05-hunan",
    "id": "chinadaily-2019-08-05-hunan",
    "key": "baiyun-lake-total-investment",
    "release_version": dataset_hash(read_dataset(SEEDS))[:16],  # the seeds' release, cited
}
PATH_OVERRIDES = {
    "/api/v1/clusters/{slug}": "/api/v1/clusters/changzhi-artificial-hearts",
    "/api/v1/programs/{slug}": "/api/v1/programs/baiyun-lake-digital-sci-tech-city",
    "/api/v1/organizations/{slug}": "/api/v1/organizations/ccid",
    "/api/v1/search": "/api/v1/search?q=hefei",
    "/api/v1/series": "/api/v1/series?indicator=high_tech_enterprises",
    "/api/v1/places/{place_slug}/rankings": "/api/v1/places/changzhi/rankings",
    "/api/v1/rankings": "/api/v1/rankings?indicator=high_tech_enterprises&place=daye",
    "/api/v1/comparisons": "/api/v1/comparisons?indicator=private_enterprise_trade_share"
    "&subject=place:hunan&from=2017&to=2018",
    "/api/v1/metrics/{metric_key}/comparison": "/api/v1/metrics/changzhi-enterprise-rd-investment"
    "/comparison?from=changzhi-enterprise-rd-investment-previous",
}


def _walk(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _walk(included.routes) if included is not None else (route,)


def documented_models(app: Any) -> dict[str, type[BaseModel]]:
    """The model each route documents for its 200, by name: taken from the routes, so a
    new resource or view is checked without a mention here."""
    models: dict[str, type[BaseModel]] = {}
    for route in _walk(app.routes):
        if not isinstance(route, APIRoute):
            continue
        for model in (route.response_model, route.responses.get(200, {}).get("model")):
            if isinstance(model, type) and issubclass(model, BaseModel):
                models[model.__name__] = model
    return models


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


# Each resource's detail at the example its path key documents (a new resource is requested
# without a mention here, and its example must name a loaded row).
DETAILS = {
    f"{API}/{mount.resource.name}/{{{key.parameter}}}": f"{API}/{mount.resource.name}/{key.example}"
    for mount in URL_MAP
    if (key := mount.resource.key) is not None
}
# a release is named by the seeds' version, which any seed record changes; not its example
DETAILS[f"{API}/releases/{{release}}"] = f"{API}/releases/{PATH_VALUES['release_version']}"


# The change logs of a database loaded once: its one release counts what it added without
# listing it. Their items are held to the model in tests/test_releases.py, after a reload.
NOTHING_LISTED = {f"{API}/changes", f"{API}/releases/{{release_version}}/changes"}


def concrete(path: str) -> str:
    if path in PATH_OVERRIDES:
        return PATH_OVERRIDES[path]
    if path in DETAILS:
        return DETAILS[path]
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], path)


def export_twins(spec: dict[str, Any]) -> list[str]:
    """The paths of the lists' export twins, whose 200 is CSV or NDJSON only."""
    return [path for path in spec["paths"] if path.endswith(SUFFIX)]


def get_routes(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(documented path, its 200 schema name) for every GET operation answering JSON."""
    routes = []
    for path, item in spec["paths"].items():
        if path in export_twins(spec):
            continue
        schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        if "anyOf" in schema:  # a list: whole items, or a `fields=` subset
            whole, subset = (s["$ref"].rsplit("/", 1)[1] for s in schema["anyOf"])
            assert subset == whole.removesuffix("Page") + "FieldsPage"
            schema = schema["anyOf"][0]
        routes.append((path, schema["$ref"].rsplit("/", 1)[1]))
    return routes


def test_every_get_response_validates_strictly_against_its_schema(
    client: TestClient, spec: dict[str, Any]
) -> None:
    """Required fields present, enums respected, nothing undeclared (extra=forbid)."""
    checked, models = 0, documented_models(client.app)
    for path, model_name in get_routes(spec):
        response = client.get(concrete(path))
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        models[model_name].model_validate(body)
        if "data" in body and path not in NOTHING_LISTED:
            assert body["data"], f"{path} returned no items to check"
        checked += 1
    assert checked == len(spec["paths"]) - len(export_twins(spec)) >= 30


# Headers every response may carry that a client has no use for declared: the message's own
# framing, and the browser policies of app.security.
UNDECLARED = {
    "content-type", "content-length", "content-encoding", "date", "server",
    "access-control-allow-origin", "access-control-expose-headers", "x-content-type-options",
    "content-security-policy", "referrer-policy", "x-frame-options",
}  # fmt: skip


def test_every_header_sent_is_declared(client: TestClient, spec: dict[str, Any]) -> None:
    """A generated client reads the headers its operation declares: each one an answer
    carries is declared on that operation and status (a page, an export, a refusal)."""
    asked = [(path, concrete(path)) for path, _ in get_routes(spec)]
    asked += [(path, concrete(path.removesuffix(SUFFIX)) + ".csv") for path in export_twins(spec)]
    asked += [(f"{API}/metrics", f"{API}/metrics?format=csv&count=true"),
              (f"{API}/metrics", f"{API}/metrics?limit=0")]  # fmt: skip
    seen: set[str] = set()
    for path, url in asked:
        response = client.get(url)
        declared = spec["paths"][path]["get"]["responses"][str(response.status_code)]
        names = {name.lower() for name in declared.get("headers", {})}
        sent = {name.lower() for name in response.headers} - UNDECLARED
        assert sent <= names, (url, sent - names)
        seen |= sent
    assert {"etag", "x-atlas-dataset-version", "cache-control", "link", "x-atlas-total",
            "x-atlas-columns"} <= seen  # fmt: skip


def test_every_export_twin_answers_as_its_list(client: TestClient, spec: dict[str, Any]) -> None:
    """`<list>.csv` is `<list>?format=csv`, byte for byte, and documents CSV and NDJSON only."""
    twins = export_twins(spec)
    exportable = [
        p
        for p, item in spec["paths"].items()
        if FORMAT_PARAMETER in item["get"].get("parameters", [])
    ]
    assert sorted(twins) == sorted(p + SUFFIX for p in exportable)
    assert len(twins) >= 21  # the 9 collections' lists and the 12 nested lists
    for path in twins:
        responses = spec["paths"][path]["get"]["responses"]
        assert set(responses["200"]["content"]) == {"text/csv", "application/x-ndjson"}
        assert {"404", "429"} <= set(responses), path
        listed, _, query = concrete(path.removesuffix(SUFFIX)).partition("?")
        takes = {p["name"] for p in spec["paths"][path]["get"].get("parameters", [])}
        query = "&".join(filter(None, (query, "limit=3" if "limit" in takes else "")))
        for kind in ("csv", "ndjson"):
            twin = client.get(f"{listed}.{kind}?{query}")
            same = client.get(f"{listed}?{query}&format={kind}")
            assert twin.status_code == same.status_code == 200, (path, twin.text)
            assert twin.content == same.content, path
            assert twin.headers["content-type"] == same.headers["content-type"]
            assert twin.headers["x-atlas-query"] == same.headers["x-atlas-query"]
    refused = client.get(f"{API}/metrics.csv?format=csv")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameter"] == "format"
    assert client.get(f"{API}/metrics.json").status_code == 404
    assert client.get(f"{API}/metrics.csv").headers["surrogate-key"].split()[:2] == [
        "atlas",
        "metrics",
    ]


def test_full_items_require_every_property_and_subsets_require_none(
    spec: dict[str, Any],
) -> None:
    components = spec["components"]["schemas"]
    # A property a control adds (metrics' `per` with `per=`) is the one optional kind.
    added_by_controls = {"Metric": {"per"}}
    for item in ("Metric", "Place", "Cluster", "Program", "Organization", "Indicator", "Source"):
        full = components[item]
        added = added_by_controls.get(item, set())
        assert added <= set(full["properties"]), item
        assert set(full["required"]) == set(full["properties"]) - added, item
        subset = components[f"{item}Fields"]
        assert subset["properties"] == full["properties"]
        assert "required" not in subset
    metric = components["Metric"]["properties"]
    assert metric["key"] == {
        "type": "string",
        "title": "Key",
        "examples": [metric["key"]["examples"][0]],
    }
    assert metric["qualifier"] == {"$ref": "#/components/schemas/Qualifier"}
    assert components["Qualifier"]["enum"] == [
        "exact", "approximate", "more_than", "at_least", "less_than", "up_to"
    ]  # fmt: skip
    for enum in ("PlaceLevel", "ProgramKind", "OrganizationKind", "ClusterStatus",
                 "PeriodPrecision", "SubjectKind"):  # fmt: skip
        assert components[enum]["enum"], enum


def subset_of(model: type[BaseModel]) -> type[BaseModel]:
    """`<Item>Fields` as a model: each property optional (omitted), never null unless the
    item's own property may be null."""
    optional: Any = {name: (field.annotation, None) for name, field in model.model_fields.items()}
    return create_model(f"{model.__name__}Fields", __base__=Schema, **optional)


def test_fields_items_follow_the_subset_schema(client: TestClient) -> None:
    subset = subset_of(Metric)
    body = client.get(f"{API}/metrics?fields=key,value,period&limit=3").json()
    assert len(body["data"]) == 3
    SubsetMeta.model_validate(body["meta"])
    assert body["meta"]["fields"] == ["key", "value", "period"]
    assert "fields" not in client.get(f"{API}/metrics?limit=3").json()["meta"]
    for item in body["data"]:
        assert set(item) == {"key", "value", "period"}
        subset.model_validate(item)
    with pytest.raises(ValidationError):
        subset.model_validate({"key": None})  # a subset omits fields; it never nulls them


def test_problem_errors_are_typed(client: TestClient, spec: dict[str, Any]) -> None:
    items = spec["components"]["schemas"]["Problem"]["properties"]["errors"]["anyOf"][0]["items"]
    assert items == {"$ref": "#/components/schemas/ParameterError"}
    error = spec["components"]["schemas"]["ParameterError"]
    assert error["required"] == ["parameter", "in", "detail"]
    body = client.get(f"{API}/metrics?limit=0").json()
    Problem.model_validate(body)
    assert body["errors"] == [
        {"parameter": "limit", "in": "query", "detail": body["errors"][0]["detail"]}
    ]


def test_each_error_status_has_its_own_example(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/v1/cities/{slug}"]["get"]["responses"]
    examples = {}
    for status in ("400", "404", "406", "414", "415", "422", "431", "503"):
        example = responses[status]["content"]["application/problem+json"]["example"]
        assert example["status"] == int(status)
        Problem.model_validate(example)
        examples[status] = example["detail"]
    assert len(set(examples.values())) == len(examples)
    assert "Retry-After" in responses["503"]["headers"]


def test_document_level_fields(spec: dict[str, Any]) -> None:
    assert spec["servers"] == [{"url": "/", "description": "The server this document came from."}]
    assert spec["security"] == []
    assert spec["info"]["license"]["identifier"] == "Apache-2.0"
    assert spec["info"]["contact"]["name"]


def test_no_path_parameter_shares_a_name_with_a_query_parameter(spec: dict[str, Any]) -> None:
    nested = 0
    for path, item in spec["paths"].items():
        parameters = item["get"].get("parameters", [])
        in_path = {p["name"] for p in parameters if p["in"] == "path"}
        in_query = {p["name"] for p in parameters if p["in"] == "query"}
        assert not in_path & in_query, path
        nested += bool(in_path - {"format"} and in_query - {"version", "as_of"})  # everywhere
    # the 13 nested lists, a place's standings (each with its export twin), a metric's
    # comparison
    assert nested == 29


def test_head_answers_on_every_get_route(client: TestClient, spec: dict[str, Any]) -> None:
    for path, _ in get_routes(spec):
        url = concrete(path)
        get = client.get(url)
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.headers["etag"] == get.headers["etag"]
    missing = client.head(f"{API}/cities/atlantis")
    assert missing.status_code == 404
    assert missing.content == b""


def test_meta_carries_the_next_cursor(client: TestClient) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "10", "level": "province"}
        if cursor is not None:
            params["cursor"] = cursor
        body = client.get(f"{API}/places", params=params).json()
        seen += [item["slug"] for item in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            assert body["links"]["next"] is None
            break
        assert body["links"]["next"].endswith(f"cursor={cursor}")
    assert len(seen) == len(set(seen)) == 28


def test_api_root_answers_with_the_index(client: TestClient) -> None:
    root = client.get("/")
    versioned = client.get(API)
    assert versioned.status_code == 200
    assert versioned.json() == root.json()
    Index.model_validate(versioned.json())
