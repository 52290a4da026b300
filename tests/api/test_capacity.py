"""When every database slot is busy, a request waits at most the pool timeout and then gets a
503 with Retry-After: never a hang, never a 500."""

import time
from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture
def busy_client(reader_url: str) -> Iterator[tuple[TestClient, anyio.CapacityLimiter]]:
    app = create_app(Settings(database_url=reader_url, db_threads=1, pool_timeout=0.3))
    with TestClient(app) as client:
        yield client, app.state.nodes.primary.lanes.fast.limiter


def test_full_database_slots_answer_503_within_the_bound(
    busy_client: tuple[TestClient, anyio.CapacityLimiter],
) -> None:
    client, limiter = busy_client
    holder = object()
    portal = client.portal
    assert portal is not None
    portal.call(limiter.acquire_on_behalf_of, holder)  # another request holds the only slot
    try:
        started = time.monotonic()
        response = client.get("/api/v1/metrics")
        waited = time.monotonic() - started
    finally:
        portal.call(limiter.release_on_behalf_of, holder)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    assert response.json()["type"] == "/problems/service-unavailable"
    assert 0.3 <= waited < 5
    assert client.get("/api/v1/metrics").status_code == 200  # and it recovers at once
