"""Every class of error is an RFC 9457 problem that names what was wrong; no trace leaks."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from app.errors import PROBLEM_TYPES

API = "/api/v1"


def problem(client: TestClient, method: str, url: str, status: int) -> dict[str, object]:
    response = client.request(method, url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/metrics?colour=blue", 400, "colour"),
        ("/metrics?year__near=2020", 400, "year__near"),
        ("/cities/daye?verbose=1", 400, "verbose"),
        ("/cities/daye/metrics?city=hefei", 400, "city"),
        ("/metrics?limit=0", 422, "limit"),
        ("/metrics?limit=100000", 422, "limit"),
        ("/metrics?year=last", 422, "year"),
        ("/metrics?year__lte=-1000000000000000", 422, "year__lte"),  # found by schemathesis
        ("/sources/atlas-reference/metrics?year__gt=2147483648", 422, "year__gt"),
        ("/sources?published__gte=yesterday", 422, "published__gte"),
        ("/metrics?sort=-colour", 422, "sort"),
        ("/metrics?fields=colour", 422, "fields"),
        ("/metrics?cursor=not-a-cursor", 400, "cursor"),
        ("/cities/Not%20A%20Slug", 404, "slug"),
        ("/cities/UPPER/metrics", 404, "city_slug"),
    ],
)
def test_bad_requests_name_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    body = problem(client, "GET", API + url, status)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [e["parameter"] for e in errors] == [parameter]


@pytest.mark.parametrize(
    "url",
    ["/cities/atlantis", "/places/atlantis", "/clusters/none", "/programs/none",
     "/organizations/none", "/indicators/none", "/sources/none", "/metrics/none",
     "/nothing-here"],
)  # fmt: skip
def test_unknown_resource_is_404(client: TestClient, url: str) -> None:
    body = problem(client, "GET", API + url, 404)
    assert body["type"] == "/problems/not-found"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_are_405_with_allow(client: TestClient, method: str) -> None:
    response = client.request(method, f"{API}/metrics")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]


def test_cursor_from_another_endpoint_or_sort_is_refused(client: TestClient) -> None:
    next_url = client.get(f"{API}/metrics?sort=-value&limit=1").json()["links"]["next"]
    cursor = next_url.split("cursor=")[1]
    body = problem(client, "GET", f"{API}/metrics?sort=value&cursor={cursor}", 400)
    assert "not sort=value" in str(body["detail"])
    body = problem(client, "GET", f"{API}/cities?sort=-value&cursor={cursor}", 422)
    body = problem(client, "GET", f"{API}/cities?cursor={cursor}", 400)
    assert "issued for 'metrics'" in str(body["detail"])
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    problem(client, "GET", f"{API}/metrics?sort=-value&cursor={tampered}", 400)


def test_unexpected_failure_is_a_problem_without_a_trace(loaded_url: str) -> None:
    """A route that fails inside (here: a database without tables) answers a bare 500, and
    the error does not escape the application: uvicorn closes the connection of an app that
    raised, and a keep-alive client's next request on it would get no answer at all."""
    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings(database_url=loaded_url))
    broken = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    app.state.nodes.primary.lanes.fast.engine = broken
    with TestClient(app, raise_server_exceptions=True) as failing:  # raises if it escapes
        response = failing.get(f"{API}/metrics")
    broken.dispose()
    assert response.status_code == 500
    assert response.headers["x-content-type-options"] == "nosniff"  # the whole stack ran
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/internal-error"
    assert "Traceback" not in response.text
    assert "no such table" not in response.text


def test_cursor_is_bound_to_its_list_path_and_filters(client: TestClient) -> None:
    """Found by the adversarial suite: a cursor from /metrics was accepted by a nested list of
    metrics with the same sort, and by the same list with other filters."""
    next_url = client.get(f"{API}/metrics?limit=1").json()["links"]["next"]
    cursor = next_url.split("cursor=")[1]
    assert client.get(f"{API}/metrics?limit=1&cursor={cursor}").status_code == 200
    for elsewhere in ("/cities/daye/metrics?", "/places/hubei/metrics?", "/metrics?year=2019&"):
        body = problem(client, "GET", f"{API}{elsewhere}cursor={cursor}", 400)
        assert body["type"] == "/problems/invalid-cursor"
        assert "another list" in str(body["detail"])


def test_an_operator_separator_without_an_operator_is_refused(client: TestClient) -> None:
    """Found by the adversarial suite: `year__=1` was read as `year=1`."""
    body = problem(client, "GET", f"{API}/metrics?year__=1", 400)
    assert body["type"] == "/problems/unknown-parameter"


def test_each_value_of_a_list_is_bounded(client: TestClient) -> None:
    """Found by the adversarial suite: one 7,000-character item of `slug__in` was accepted
    (only the list's total length was bounded), though the schema documents 200 per item."""
    body = problem(client, "GET", f"{API}/cities?slug__in=daye,{'a' * 201}", 422)
    assert body["errors"] == [
        {"parameter": "slug__in", "in": "query", "detail": "a value is longer than 200 characters"}
    ]


@pytest.mark.parametrize(
    ("detail", "nested"),
    [
        ("/cities/UPPER", "/cities/UPPER/metrics"),
        ("/places/Hubeii", "/places/Hubeii/organizations"),
        ("/clusters/no%20such", "/clusters/no%20such/metrics"),
        ("/sources/" + "s" * 65, "/sources/" + "s" * 65 + "/metrics"),
    ],
)
def test_a_bad_key_gets_one_message_on_detail_and_nested_routes(
    client: TestClient, detail: str, nested: str
) -> None:
    """One rule finds a path key wherever it appears: a key that names nothing is the same
    404, with the same message, on the detail and the nested routes."""
    first = problem(client, "GET", API + detail, 404)
    second = problem(client, "GET", API + nested, 404)
    assert isinstance(first["errors"], list)
    assert isinstance(second["errors"], list)
    assert first["errors"][0]["detail"] == second["errors"][0]["detail"]
    assert first["type"] == second["type"] == "/problems/not-found"


def test_a_metric_key_may_be_longer_and_says_so(client: TestClient) -> None:
    body = problem(client, "GET", f"{API}/metrics/{'x' * 121}", 404)
    assert body["detail"] == f"key: {'x' * 121!r} names nothing here"


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("GET", "/metrics?colour=blue", {}),
        ("GET", "/metrics?cursor=not-a-cursor", {}),
        ("GET", "/metrics?limit=0", {}),
        ("GET", "/metrics?city=hefie", {}),
        ("GET", "/metrics/daye-high-tech-enterprises-2023/comparison"
                "?from=hefei-intelligent-voice-revenue-2021", {}),
        ("GET", "/rankings?indicator=nope", {}),
        ("GET", "/places/nowhere-at-all", {}),
        ("POST", "/metrics", {}),
        ("GET", "/metrics", {"accept": "image/png"}),
    ],
)  # fmt: skip
def test_each_problem_type_has_one_status_and_its_title(
    client: TestClient, method: str, url: str, headers: dict[str, str]
) -> None:
    response = client.request(method, API + url, headers=headers)
    body = response.json()
    known = PROBLEM_TYPES[body["type"].removeprefix("/problems/")]
    assert (response.status_code, body["status"], body["title"]) == (
        known.status, known.status, known.title,
    )  # fmt: skip
    described = client.get(body["type"]).json()
    assert (described["status"], described["title"]) == (known.status, known.title)


def test_every_problem_type_is_titled_and_one_status() -> None:
    assert all(known.title and known.title != "Error" for known in PROBLEM_TYPES.values())
    statuses = {name: known.status for name, known in PROBLEM_TYPES.items()}
    assert statuses["unknown-parameter"] == statuses["invalid-cursor"] == 400
    assert statuses["invalid-parameter"] == statuses["query-too-expensive"] == 422


@pytest.mark.parametrize(
    ("url", "controls"),
    [
        ("/metrics?colour=blue", ["limit", "cursor", "sort", "fields", "count", "format",
                                  "facets", "per", "version"]),
        ("/places?colour=blue", ["format", "version"]),
        ("/places/daye/metrics?colour=blue", ["format", "facets", "per", "version"]),
        ("/places/daye?colour=blue", ["version"]),
        ("/search?q=hefei&colour=blue", ["q", "kind", "limit", "version"]),
        ("/rankings?indicator=rd_intensity&colour=blue", ["peers", "year", "version"]),
        ("/series?indicator=rd_intensity&colour=blue", ["places", "per", "version"]),
    ],
)  # fmt: skip
def test_the_unknown_parameter_message_lists_every_control(
    client: TestClient, url: str, controls: list[str]
) -> None:
    body = problem(client, "GET", API + url, 400)
    for control in controls:
        assert re.search(rf"\b{control}\b", str(body["detail"])), (control, body["detail"])


@pytest.mark.parametrize(
    ("url", "wrong", "meant"),
    [("/rankings?indicater=rd_intensity", "indicater", "indicator"),
     ("/metrics?citty=hefei", "citty", "city"), ("/places/daye?verison=x", "verison", "version")],
)  # fmt: skip
def test_a_misspelt_parameter_name_gets_the_fix(
    client: TestClient, url: str, wrong: str, meant: str
) -> None:
    body = problem(client, "GET", API + url, 400)
    assert isinstance(body["errors"], list)
    (error,) = body["errors"]
    assert error["parameter"] == wrong
    assert meant in error["suggestions"]
    assert f"did you mean {meant}" in error["detail"]


def test_a_long_value_is_shown_whole_up_to_the_limit(client: TestClient) -> None:
    value = "x" * 150
    body = problem(client, "GET", f"{API}/metrics?limit={value}", 422)
    assert repr(value) in str(body["detail"])
    longer = "y" * 300
    body = problem(client, "GET", f"{API}/rankings?indicator=rd_intensity&order={longer}", 422)
    assert f"{'y' * 200!r}… (300 characters)" in str(body["detail"])
