"""HTTP behaviour frontends rely on: validators, caching, CORS, compression, security headers."""

import gzip

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


@pytest.mark.parametrize(
    "url", [f"{API}/metrics?limit=5", f"{API}/cities/daye", "/openapi.json", "/docs", "/"]
)
def test_every_get_has_etag_and_cache_control_and_answers_304(client: TestClient, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"].startswith("public, max-age=60, stale-while-revalidate=")
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(url, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200


def test_etag_changes_with_the_content(client: TestClient) -> None:
    one = client.get(f"{API}/metrics?limit=1").headers["etag"]
    two = client.get(f"{API}/metrics?limit=2").headers["etag"]
    assert one != two


def test_errors_are_not_cached_as_content(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?limit=0")
    assert "etag" not in response.headers


def test_cors_allows_get_from_any_origin(client: TestClient) -> None:
    response = client.get(f"{API}/cities", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        f"{API}/cities",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    refused = client.options(
        f"{API}/cities",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "DELETE"},
    )
    assert refused.status_code == 400


def test_responses_are_compressed_when_accepted(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?limit=50", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    raw = client.get(f"{API}/metrics?limit=50", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert response.json() == raw.json()
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_security_headers(client: TestClient) -> None:
    api = client.get(f"{API}/cities")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    docs = client.get("/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert (
        "unsafe-inline"
        not in docs.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    assert "server" not in api.headers


def test_docs_assets_are_served_locally(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    for asset in ("/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css",
                  "/static/swagger-init.js", "/static/vendor/redoc.standalone.js"):  # fmt: skip
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100
    assert "/static/vendor/redoc.standalone.js" in client.get("/redoc").text


def test_liveness_and_readiness_are_apart_and_documented(client: TestClient) -> None:
    live = client.get("/healthz")
    assert live.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json()["status"] == "ready"
    assert ready.json()["sources"] == len(client.get(f"{API}/sources?limit=500").json()["data"])
    for response in (live, ready):
        assert response.headers["cache-control"] == "no-store"
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/healthz"]["get"]["operationId"] == "health"  # stable since the first release
    assert paths["/readyz"]["get"]["operationId"] == "readiness"
    assert "503" in paths["/readyz"]["get"]["responses"]
