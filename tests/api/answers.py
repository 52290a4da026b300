"""How the tests of the lists read the API's answers: the body of a 200, the keys of a
page of metrics, the one parameter a 422 names, and every page of a list."""

from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient

from app.db import build_engine
from app.query.statements import Ran

API = "/api/v1"


def get(client: TestClient, url: str) -> dict[str, Any]:
    """The body of a GET of `url` (under the API's prefix), which must answer 200."""
    response = client.get(API + url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sqlite_plans(url: str, statements: Iterable[Ran]) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of each statement as it ran, its lines joined."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return [
                " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters))
                for statement in statements
            ]  # fmt: skip
    finally:
        engine.dispose()


def keys(body: dict[str, Any]) -> list[str]:
    """The keys of a page's items, in the page's order."""
    return [item["key"] for item in body["data"]]


def false_side(client: TestClient, name: str, query: str = "") -> list[str]:
    """The keys, by key, of the metrics (among those `query` selects) that the boolean
    filter `name` keeps as false, once a value that is no boolean has been refused with a
    422 naming the filter."""
    refused = client.get(f"{API}/metrics?{name}=maybe")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["parameter"] == name
    selected = [query] if query else []
    return keys(get(client, "/metrics?" + "&".join([*selected, f"{name}=false", "sort=key"])))


def walk(client: TestClient, url: str, pages: int = 2000) -> list[dict[str, Any]]:
    """Every item of a list, following `links.next` for at most `pages` pages (a cursor
    that does not move on fails the test rather than hanging it)."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(pages):
        if not next_url:
            return items
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        next_url = body["links"]["next"]
    assert not next_url, f"{url}: more than {pages} pages"
    return items


def descending_day(day: str | None) -> tuple[int, ...]:
    """A descending sort key for an ISO date."""
    return () if day is None else tuple(-int(part) for part in day.split("-"))
