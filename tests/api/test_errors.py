"""Every class of error is an RFC 9457 problem that names what was wrong; no trace leaks."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

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
    app.state.lanes.fast.engine = broken
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
