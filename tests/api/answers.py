"""How the tests of the lists read the API's answers: the body of a 200, the keys of a
page of metrics, and the one parameter a 422 names."""

from typing import Any

from fastapi.testclient import TestClient

API = "/api/v1"


def get(client: TestClient, url: str) -> dict[str, Any]:
    """The body of a GET of `url` (under the API's prefix), which must answer 200."""
    response = client.get(API + url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


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
