"""One version of the data per answer, known live: every answer is read in one snapshot
and names the version it read; a 304 runs no query; a load is served without a restart;
a cursor walk never mixes two versions; a client can pin a version while it is served.
On both engines, with loads written by the loader while the app runs."""

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade_to_head
from app.query.statements import recording
from app.seeding.reader import read_dataset
from app.seeding.version import dataset_hash
from harness.loads import ORIGINAL_TITLE, SOURCE, Loads
from tests.conftest import SEEDS

API = "/api/v1"
SOURCE_URL = f"{API}/sources/{SOURCE}"


@pytest.fixture
def loads(empty_url: str) -> Loads:
    upgrade_to_head(empty_url)
    original = read_dataset(SEEDS)
    assert original.sources.sources[0].title == ORIGINAL_TITLE
    loads = Loads.of(empty_url, original)
    loads.load(original)
    return loads


@pytest.fixture
def live(loads: Loads) -> Iterator[TestClient]:
    settings = Settings(database_url=loads.url, version_refresh_ms=50)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_304_runs_no_query_and_a_load_is_served_without_a_restart(
    loads: Loads, live: TestClient
) -> None:
    url = f"{API}/cities?limit=3"
    first = live.get(url)
    version, etag = first.headers["x-atlas-dataset-version"], first.headers["etag"]
    assert version == dataset_hash(loads.original)
    with recording() as ran:
        again = live.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.headers["x-atlas-dataset-version"] == version
    assert ran == []  # answered from the board, not the database
    with recording() as ran:
        assert live.get(url).status_code == 200
    assert ran  # the same request unconditionally does query (the recording works)

    changed = loads.load(loads.changed)
    after = live.get(SOURCE_URL)
    assert after.headers["x-atlas-dataset-version"] == changed
    assert after.json()["title"] == "Retitled"
    # The old validator no longer matches: the answer is the new version, with a new ETag.
    fresh = live.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != etag
    assert fresh.headers["x-atlas-dataset-version"] == changed


def test_the_board_learns_a_load_within_the_refresh_interval(
    loads: Loads, live: TestClient
) -> None:
    """Without any request reading the new version, the background check updates the
    board, so a validator of the old version stops earning 304s."""
    url = f"{API}/indicators?limit=2"
    etag = live.get(url).headers["etag"]
    loads.load(loads.changed)
    deadline = time.monotonic() + 5
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(live.get(url, headers={"If-None-Match": etag}).status_code)
        if statuses[-1] == 200:
            break
        time.sleep(0.02)
    assert statuses[-1] == 200, statuses
    assert set(statuses) <= {200, 304}


def test_validators_follow_the_normalised_request(live: TestClient) -> None:
    one = live.get(f"{API}/metrics?limit=2&sort=id").headers["etag"]
    same = live.get(f"{API}/metrics?sort=id&limit=2").headers["etag"]
    other = live.get(f"{API}/metrics?limit=3&sort=id").headers["etag"]
    csv = live.get(f"{API}/metrics?limit=2&sort=id", headers={"Accept": "text/csv"})
    assert one == same
    assert other != one
    assert csv.headers["etag"] not in (one, other)
    assert (
        live.get(f"{API}/metrics?sort=id&limit=2", headers={"If-None-Match": one}).status_code
        == 304
    )
    # a representation other than the one the validator was for is not "not modified"
    refused = live.get(f"{API}/metrics?limit=2&sort=id&format=csv", headers={"If-None-Match": one})
    assert refused.status_code == 200


def test_every_answer_is_read_from_the_version_it_names(loads: Loads, live: TestClient) -> None:
    """Loads alternate between two datasets while answers are read: each answer's title is
    the one of the version its header names (the version is read in the answer's own
    snapshot)."""
    stop = threading.Event()
    loaded: list[str] = []

    def keep_loading() -> None:
        datasets = [loads.changed, loads.original]
        while not stop.is_set() and len(loaded) < 8:
            loaded.append(loads.load(datasets[len(loaded) % 2]))

    writer = threading.Thread(target=keep_loading)
    writer.start()
    seen: dict[str, int] = {}
    try:
        while writer.is_alive():
            response = live.get(SOURCE_URL)
            assert response.status_code == 200, response.text
            version = response.headers["x-atlas-dataset-version"]
            assert response.json()["title"] == loads.title(version), version
            seen[version] = seen.get(version, 0) + 1
    finally:
        stop.set()
        writer.join()
    assert len(seen) == 2, seen  # both versions were served, each with its own data


def test_a_pinned_version_is_served_while_it_is_there(loads: Loads, live: TestClient) -> None:
    version = live.get(SOURCE_URL).headers["x-atlas-dataset-version"]
    pinned = live.get(f"{SOURCE_URL}?version={version}")
    assert pinned.status_code == 200
    assert pinned.headers["x-atlas-dataset-version"] == version
    listed = live.get(f"{API}/sources?limit=2&version={version}")
    assert listed.status_code == 200, listed.text
    for digits in (16, 12):  # as a citation prints it, and the fewest taken
        printed = live.get(f"{SOURCE_URL}?version={version[:digits]}")
        assert printed.status_code == 200, printed.text
        assert printed.headers["x-atlas-dataset-version"] == version
    loads.load(loads.changed)  # a load that keeps no database of its release
    now = live.get(SOURCE_URL).headers["x-atlas-dataset-version"]
    gone = live.get(f"{SOURCE_URL}?version={version[:16]}")
    assert gone.status_code == 410  # a release of this database, no longer kept
    assert gone.headers["content-type"] == "application/problem+json"
    problem = gone.json()
    assert problem["type"] == "/problems/version-retired"
    assert problem["title"] == "Dataset version no longer kept"
    assert problem["errors"][0]["parameter"] == "version"
    assert f"the oldest kept is {now[:16]}" in problem["detail"]
    foreign = live.get(f"{SOURCE_URL}?version={'ab' * 8}")  # never a release here
    assert foreign.status_code == 409
    problem = foreign.json()
    assert problem["type"] == "/problems/version-gone"
    assert problem["title"] == "Dataset version gone"
    assert problem["errors"][0]["parameter"] == "version"
    assert f"(served: {now[:16]})" in problem["detail"]
    for bad_pin in ("latest", version[:11], version + "0"):
        bad = live.get(f"{SOURCE_URL}?version={bad_pin}")
        assert bad.status_code == 422, bad_pin
        assert bad.json()["errors"][0]["parameter"] == "version"


def test_a_walk_never_mixes_versions(loads: Loads, live: TestClient) -> None:
    """A cursor carries the version its walk began on; after a load that kept no database
    of that release the walk cannot go on, so it is refused, not continued with the new
    data: 410 naming the cursor, and the first page again starts a new walk (with kept
    releases the walk goes on: tests/test_past_releases.py)."""
    first = live.get(f"{API}/places?limit=50")
    version = first.headers["x-atlas-dataset-version"]
    second = live.get(first.json()["links"]["next"])
    assert second.status_code == 200
    assert second.headers["x-atlas-dataset-version"] == version
    loads.load(loads.changed)
    refused = live.get(second.json()["links"]["next"])
    assert refused.status_code == 410, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/version-retired"
    assert problem["errors"][0]["parameter"] == "cursor"
    assert "first page" in problem["detail"]
    again = live.get(f"{API}/places?limit=50")
    assert again.headers["x-atlas-dataset-version"] == dataset_hash(loads.changed)
    assert live.get(again.json()["links"]["next"]).status_code == 200
