"""A request finds its route among its collection's only (app.api.dispatch), and finds the
route the framework's own matching would: the first, in the app's order, that takes it. An
endpoint that takes only the request is called directly, its checks and error handling
kept."""

import asyncio
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Message, Receive, Scope, Send

from app.api.dispatch import ByCollection, by_collection, direct_endpoint, dispatch_by_collection
from app.config import Settings
from app.main import create_app

API = "/api/v1"


@pytest.fixture(scope="module")
def dispatch() -> ByCollection:
    app = create_app(Settings(database_url="sqlite://"))
    stack = app.router.middleware_stack
    assert isinstance(stack, ByCollection)
    return stack


def request_scope(path: str, method: str = "GET") -> Scope:
    return {"type": "http", "method": method, "path": path, "root_path": "",
            "query_string": b"", "headers": []}  # fmt: skip


def framework_choice(routes: list[BaseRoute], scope: Scope) -> BaseRoute | None:
    """What Starlette's router does: the first route, in order, that fully matches."""
    return next((r for r in routes if r.matches(scope)[0] == Match.FULL), None)


def concrete(path: str) -> str:
    """A path a route's pattern takes: each parameter given a plain value."""
    return re.sub(r"\{format\}", "csv", re.sub(r"\{(?!format\})[^}]+\}", "x-1", path))


def test_every_route_is_found_as_the_router_finds_it(dispatch: ByCollection) -> None:
    routes = dispatch.router.routes
    paths = [concrete(r.path) for r in routes if isinstance(r, Route)]
    paths += [f"{API}/metrics/x-1/comparison", "/static/app.js", "/", API]
    assert len(paths) >= 70  # every list, detail, view, twin and service route
    for path in paths:
        scope = request_scope(path)
        found = dispatch.route_for(scope)
        assert found is not None, path
        assert found[0] is framework_choice(routes, request_scope(path)), path


def test_a_mounted_app_is_matched_below_its_root_path(dispatch: ByCollection) -> None:
    """Behind a proxy that mounts the service at a prefix, routes match the path below it."""
    scope = {**request_scope(f"/atlas{API}/metrics/x-1"), "root_path": "/atlas"}
    found = dispatch.route_for(scope)
    assert found is not None
    assert getattr(found[0], "path", None) == f"{API}/metrics/{{key}}"


def test_every_data_endpoint_is_called_directly(dispatch: ByCollection) -> None:
    """Each list, detail and view takes the request alone; the routes FastAPI must call
    (a file download with typed path parameters, pages taking no request) are left to it."""
    routes = [r for r in dispatch.router.routes if isinstance(r, APIRoute)]
    direct = {r.path for r in routes if direct_endpoint(r) is not None}
    data = {r.path for r in routes if r.path.startswith(f"{API}/")}
    assert data - direct == {f"{API}/releases/{{release}}/download/{{file}}"}
    assert {f"{API}/metrics", f"{API}/metrics/{{key}}", f"{API}/series"} <= direct
    assert "/docs" not in direct
    assert "/healthz" not in direct


def test_what_no_route_fully_takes_goes_on_to_the_router(dispatch: ByCollection) -> None:
    """A wrong method, a trailing slash, an unknown collection: the framework answers
    them (405 with Allow, a redirect, a 404), so the dispatch must not claim them."""
    for method, path in [("POST", f"{API}/metrics"), ("DELETE", f"{API}/metrics/x-1"),
                         ("GET", f"{API}/metrics/"), ("GET", f"{API}/nope"),
                         ("GET", f"{API}/"), ("GET", "/nope")]:  # fmt: skip
        assert dispatch.route_for(request_scope(path, method)) is None, (method, path)


def test_the_routes_are_one_flat_list(dispatch: ByCollection) -> None:
    """An included router would be one entry that matches its routes again, once to match
    and once to handle; every API route is in the app's own list."""
    routes = dispatch.router.routes
    assert not [r for r in routes if hasattr(r, "original_router")]
    groups = by_collection(routes)
    assert {"metrics", "places", "cities", "releases", "search", "rankings"} <= set(groups)
    assert len(groups["metrics"]) <= 5  # a detail read tries a handful, not fifty


def test_a_route_whose_first_segment_is_a_parameter_is_refused_at_start_up(
    dispatch: ByCollection,
) -> None:
    """Such a route could take any collection's paths, so grouping would skip it: the app
    does not start, rather than fail its requests."""
    stray = Route(f"{API}/{{anything}}/items", lambda request: None)
    router = Router(routes=[*dispatch.router.routes, stray])
    with pytest.raises(ValueError, match="literal first segment"):
        dispatch_by_collection(router)


def test_a_request_telemetry_observes_is_left_to_the_router(dispatch: ByCollection) -> None:
    """FastAPI's telemetry names a request's span after the route its router selects."""
    passed: list[Scope] = []

    async def router_matching(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(scope)

    observed = {**request_scope(f"{API}/metrics"), "fastapi.telemetry": object()}
    layer = ByCollection(router_matching, dispatch.router)
    asyncio.run(layer(observed, receive_nothing, send_nothing))
    assert passed == [observed]
    assert "route" not in observed


async def receive_nothing() -> Message:
    return {"type": "http.request", "body": b""}


async def send_nothing(message: Message) -> None:
    raise AssertionError(message)


def test_an_export_twin_of_a_moved_key_redirects(client: TestClient) -> None:
    """The twin hands a copy of its scope to the list; what the list raises is answered
    with the list's request, whose route builds the Location."""
    moved = client.get(f"{API}/cities/420281/clusters.csv?limit=2", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{API}/cities/daye/clusters?limit=2&format=csv"
    assert client.get(moved.headers["location"]).status_code == 200


def test_the_router_still_answers_what_the_dispatch_leaves(client: TestClient) -> None:
    refused = client.post(f"{API}/metrics")
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
    moved = client.get(f"{API}/metrics/", follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"].endswith(f"{API}/metrics")
    missing = client.get(f"{API}/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"nothing at {API}/nope"
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get(f"{API}/metrics?limit=1").json()["data"]


def test_a_directly_called_endpoint_keeps_its_checks_and_error_handling(
    client: TestClient,
) -> None:
    """The detail's route-level check (no query parameters) still runs, and what the
    endpoint raises still becomes a problem document."""
    key = "baiyun-lake-total-investment"
    assert client.get(f"{API}/metrics/{key}").json()["key"] == key
    refused = client.get(f"{API}/metrics/{key}?limit=1")
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/unknown-parameter"
    assert refused.json()["errors"][0]["parameter"] == "limit"
    missing = client.get(f"{API}/metrics/no-such-metric")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "/problems/not-found"
    bad = client.get(f"{API}/metrics?year=last")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["parameter"] == "year"


def test_a_plain_endpoint_does_not_go_through_its_route(
    reader_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detail is answered with its route's `handle` (FastAPI's request machinery)
    broken: the dispatch called the endpoint itself."""
    app = create_app(Settings(database_url=reader_url))
    (route,) = [r for r in app.routes if getattr(r, "path", "") == f"{API}/metrics/{{key}}"]

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("FastAPI's handling was used")

    monkeypatch.setattr(route, "handle", broken)
    with TestClient(app) as client:
        key = "baiyun-lake-total-investment"
        assert client.get(f"{API}/metrics/{key}").json()["key"] == key
