"""Read replicas, with real PostgreSQL processes: a primary and a hot standby made with
`pg_basebackup -R`, streaming, on private ports. Reads go to the replica; a stopped or
lagging replica sends them to the primary with nothing failing; a cursor walk during a load
stays on its version; SQLite refuses replicas at start-up."""

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import PROJECT_ROOT, Settings
from app.main import DatabaseNotReady, create_app
from app.migrate import upgrade_to_head
from app.seeding.reader import read_dataset
from app.seeding.version import dataset_hash
from harness.loads import ORIGINAL_TITLE, SOURCE, Loads
from harness.polling import wait_for
from harness.postgres import PostgresCluster, PostgresReplica
from harness.server import running_server
from tests.conftest import SEEDS

API = "/api/v1"


@dataclass
class Pair:
    primary: PostgresCluster
    replica: PostgresReplica
    database: str
    loads: Loads

    @property
    def primary_url(self) -> str:
        return self.primary.url(self.database)

    @property
    def replica_url(self) -> str:
        return self.replica.url(self.database)

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": self.primary_url,
            "replica_urls": self.replica_url,
            "version_refresh_ms": 100,
            "replica_max_lag_ms": 300,
        }
        return Settings(**{**values, **overrides})  # type: ignore[arg-type]

    def load(self, changed: bool) -> str:
        return self.loads.load(self.loads.changed if changed else self.loads.original)

    def scans(self, cluster: PostgresCluster, table: str) -> int:
        rows = cluster.query(
            "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            f" WHERE relname = '{table}'",
            self.database,
        )
        return int(rows[0][0])


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with PostgresCluster() as primary:
        database = primary.create_database()
        url = primary.url(database)
        upgrade_to_head(url)
        original = read_dataset(SEEDS)
        loads = Loads.of(url, original)
        loads.load(original)
        with PostgresReplica(primary) as replica:
            yield Pair(primary, replica, database, loads)


@pytest.fixture
def fresh(pair: Pair) -> Pair:
    """The pair at the original dataset, replaying and caught up."""
    pair.replica.resume_replay()
    pair.load(changed=False)
    pair.replica.wait_until_caught_up()
    return pair


def node_of(client: TestClient | httpx.Client, path: str = f"{API}/cities?limit=2") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.headers["x-atlas-node"]


def test_reads_are_served_by_the_replica(fresh: Pair) -> None:
    """The replica is the database that ran the reads: its own statistics count the scans
    of `place`, the primary's do not move (they are flushed when the app's backends end)."""
    before = fresh.scans(fresh.primary, "place"), fresh.scans(fresh.replica, "place")
    with TestClient(create_app(fresh.settings())) as client:
        nodes = {node["name"]: node for node in client.get("/readyz").json()["nodes"]}
        assert nodes["primary"]["role"] == "primary"
        assert nodes["replica-1"]["fit"] is True
        assert nodes["replica-1"]["dataset_version"] == dataset_hash(fresh.loads.original)
        served = Counter(node_of(client, f"{API}/places?limit=5") for _ in range(20))
    assert served == {"replica-1": 20}

    def counted() -> bool:
        return fresh.scans(fresh.replica, "place") >= before[1] + 20

    wait_for(counted, 15, "the replica's statistics to count the reads")
    assert fresh.scans(fresh.primary, "place") == before[0]


def test_reads_move_to_the_primary_while_the_replica_is_down(fresh: Pair) -> None:
    """A real server under 4 readers while the replica is stopped and started again: every
    answer is a 200 (a read whose replica went away is retried on the primary), the
    primary serves while the replica is down, and the replica serves again once it is up."""
    statuses: Counter[str] = Counter()
    stop = threading.Event()
    with running_server(
        fresh.primary_url,
        ATLAS_REPLICA_URLS=fresh.replica_url,
        ATLAS_VERSION_REFRESH_MS="100",
        ATLAS_REPLICA_MAX_LAG_MS="1000",
    ) as base:

        def reader() -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                while not stop.is_set():
                    try:
                        statuses[str(http.get(f"{API}/places?limit=20").status_code)] += 1
                    except httpx.TransportError as error:
                        statuses[type(error).__name__] += 1

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            with httpx.Client(base_url=base, timeout=30) as probe:
                wait_for(lambda: node_of(probe) == "replica-1", 10, "the replica to serve")
                fresh.replica.pause()  # a fast shutdown: its backends are ended mid-read
                assert node_of(probe) == "primary"
                time.sleep(1)
                assert {node_of(probe) for _ in range(10)} == {"primary"}
                down = {n["name"]: n for n in probe.get("/readyz").json()["nodes"]}
                assert down["replica-1"]["reachable"] is False
                fresh.replica.resume()
                wait_for(lambda: node_of(probe) == "replica-1", 10, "the replica to serve again")
        finally:
            stop.set()
            for thread in threads:
                thread.join()
    assert statuses["200"] > 0
    assert set(statuses) == {"200"}, statuses


def test_a_lagging_replica_is_skipped_until_it_catches_up(fresh: Pair) -> None:
    with TestClient(create_app(fresh.settings())) as client:
        assert node_of(client) == "replica-1"
        fresh.replica.pause_replay()
        changed = fresh.load(changed=True)
        url = f"{API}/sources/{SOURCE}"

        def from_primary() -> bool:
            response = client.get(url)
            return bool(response.headers["x-atlas-node"] == "primary")

        wait_for(from_primary, 10, "reads to leave the lagging replica")
        answer = client.get(url)
        assert answer.headers["x-atlas-dataset-version"] == changed
        assert answer.json()["title"] == "Retitled"
        lagging = {n["name"]: n for n in client.get("/readyz").json()["nodes"]}["replica-1"]
        assert lagging["fit"] is False
        assert "lagging" in lagging["problem"]
        fresh.replica.resume_replay()
        wait_for(lambda: node_of(client, url) == "replica-1", 10, "the replica to catch up")
        assert client.get(url).headers["x-atlas-dataset-version"] == changed


def walk(client: TestClient, url: str) -> list[tuple[str, str, Any]]:
    """Every page of a walk as (node, version, body); stops at the end or a refusal."""
    pages = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        if response.status_code != 200:
            pages.append(("refused", str(response.status_code), response.json()))
            break
        body = response.json()
        pages.append(
            (response.headers["x-atlas-node"], response.headers["x-atlas-dataset-version"], body)
        )
        next_url = body["links"]["next"]
    return pages


def test_a_walk_during_a_load_stays_on_its_version(fresh: Pair) -> None:
    """A walk starts on the replica; replay is paused and the primary loads another version
    in the middle of the walk: the walk goes on at its version on the replica (the only node
    that still holds it), a new walk reads the new version from the primary, and once the
    replica has replayed the load the old walk's cursor is refused with 410 (the load kept
    no database of that release)."""
    with TestClient(create_app(fresh.settings())) as client:
        original = dataset_hash(fresh.loads.original)
        first = client.get(f"{API}/sources?limit=1&sort=id")
        assert first.headers["x-atlas-node"] == "replica-1"
        assert first.headers["x-atlas-dataset-version"] == original
        fresh.replica.pause_replay()
        changed = fresh.load(changed=True)
        wait_for(lambda: node_of(client) == "primary", 10, "the replica to fall behind")
        rest = walk(client, first.json()["links"]["next"])
        loaded = fresh.loads.original
        sources = len(loaded.sources.sources) + len(loaded.tables)
        assert [(node, version) for node, version, _ in rest] == [("replica-1", original)] * (
            sources - 1
        )
        items = [first.json()["data"][0], *(item for _, _, b in rest for item in b["data"])]
        assert len({item["id"] for item in items}) == len(items) == sources  # each source once
        assert [i["title"] for i in items if i["id"] == SOURCE] == [ORIGINAL_TITLE]
        new_walk = walk(client, f"{API}/sources?limit=1&sort=id")
        assert {(node, version) for node, version, _ in new_walk} == {("primary", changed)}
        stale = first.json()["links"]["next"]
        fresh.replica.resume_replay()
        fresh.replica.wait_until_caught_up()
        wait_for(lambda: client.get(stale).status_code == 410, 10, "the old version to go")
        problem = client.get(stale).json()
        assert problem["type"] == "/problems/version-retired"  # no database of it was kept
        assert problem["errors"][0]["parameter"] == "cursor"


def test_sqlite_refuses_replicas_at_start_up() -> None:
    settings = Settings(
        database_url="sqlite:///unused.db", replica_urls="postgresql://reader@replica/atlas"
    )
    with pytest.raises(DatabaseNotReady, match="ATLAS_REPLICA_URLS"):
        create_app(settings)
    served = subprocess.run(
        [sys.executable, "-m", "app", "serve"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"DATABASE_URL": "sqlite:///unused.db", "PATH": "/usr/bin:/bin",
             "ATLAS_REPLICA_URLS": "postgresql://reader@replica/atlas"},
    )  # fmt: skip
    assert served.returncode == 1
    assert "ATLAS_REPLICA_URLS" in served.stdout + served.stderr
    assert "Traceback" not in served.stdout + served.stderr
