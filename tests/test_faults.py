"""Real faults, real processes: the loader killed with SIGKILL mid-load, the server started
without a database, and PostgreSQL stopped under a running server and started again."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT
from tests.conftest import SEEDS, Backend, load_seeds
from tests.support.postgres import PostgresCluster, free_port
from tests.support.server import running_server
from tests.support.state import dump


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.05)


# --- the loader killed mid-load ------------------------------------------------------


@pytest.fixture
def revised_seeds(tmp_path: Path) -> Path:
    """The seeds with a change early in the load (a source) and late (an observation)."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    edits = {
        "sources.yaml": "title: Sci-tech Innovation Energizes Mining City in Hubei",
        "documents/chinadaily-2019-08-05-hunan.yaml": "A count stated in the present tense",
    }
    for name, text in edits.items():
        path = seeds / name
        content = path.read_text(encoding="utf-8")
        assert text in content
        path.write_text(content.replace(text, text + " (revised)"), encoding="utf-8")
    return seeds


def start_loader(url: str, seeds: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "load", "--seeds", str(seeds)],
        env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


def _kill_sqlite_loader_before_commit(url: str, seeds: Path) -> None:
    """Hold a read transaction: the loader writes everything, then waits for it to end
    before it can commit (its journal on disk shows it is mid-transaction); kill it there."""
    path = Path(make_url(url).database or "")
    journal = path.with_name(path.name + "-journal")
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM observation").fetchone()
        loader = start_loader(url, seeds)
        wait_for(journal.exists, 60, "the loader to start writing")
        time.sleep(0.5)  # well inside the 5 s it waits for the lock
        assert loader.poll() is None, "the loader finished while it should have been waiting"
        kill(loader)
    finally:
        reader.close()


def _kill_postgres_loader_mid_write(url: str, seeds: Path) -> None:
    """Lock the observation table against writes: the loader writes sources, places and
    the rest in its transaction, then blocks on its first observation; kill it there."""
    database = make_url(url).database
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    # pg_stat_activity is read once per transaction, so the watcher is a connection of its own
    with (
        psycopg.connect(conninfo) as locker,
        psycopg.connect(conninfo, autocommit=True) as watcher,
    ):
        locker.execute("LOCK TABLE observation IN EXCLUSIVE MODE")

        def count(query: str, *others: object) -> int:
            row = watcher.execute(query, (database, *others)).fetchone()
            assert row is not None
            return int(row[0])

        loader = start_loader(url, seeds)
        blocked = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND wait_event_type = 'Lock' AND query ILIKE '%%observation%%'"
        )
        wait_for(lambda: count(blocked) == 1, 60, "the loader to block on the observation table")
        wrote_sources = (
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.datname = %s"
            " AND c.relname = 'source' AND l.mode = 'RowExclusiveLock' AND l.granted"
        )
        assert count(wrote_sources) == 1, "the loader had not written sources yet"
        kill(loader)
        locker.rollback()  # release the lock: the orphaned server process must roll back
        others = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND pid NOT IN (pg_backend_pid(), %s)"
        )
        gone = lambda: count(others, locker.info.backend_pid) == 0  # noqa: E731
        wait_for(gone, 30, "the killed loader's server process to end")


def test_loader_killed_mid_load_leaves_the_database_as_it_was(
    backend: Backend, revised_seeds: Path
) -> None:
    url = backend.new_database()
    load_seeds(url)
    before = dump(url)
    if backend.cluster is None:
        _kill_sqlite_loader_before_commit(url, revised_seeds)
        check = sqlite3.connect(make_url(url).database or "")
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        check.close()
    else:
        _kill_postgres_loader_mid_write(url, revised_seeds)
    assert dump(url) == before
    # and the next load completes normally, with exactly the revision
    assert start_loader(url, revised_seeds).wait(timeout=120) == 0
    after = dump(url)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["source", "observation"]


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.3, 1.8, 2.5])
def test_loader_killed_at_any_moment_leaves_the_old_or_the_new_data(
    backend: Backend, revised_seeds: Path, delay: float
) -> None:
    """Kills at moments spread over a load's run (some land after the commit): the data is
    always exactly the old or exactly the new, never a mixture."""
    url = backend.new_database()
    load_seeds(url)
    old = dump(url)
    loader = start_loader(url, revised_seeds)
    time.sleep(delay)
    loader.send_signal(signal.SIGKILL)  # a no-op if the load has just finished
    assert loader.wait(timeout=10) in (0, -signal.SIGKILL)
    state = dump(url)
    assert start_loader(url, revised_seeds).wait(timeout=120) == 0
    new = dump(url)
    assert new != old
    assert state in (old, new)


# --- starting without a database ------------------------------------------------------


def serve_once(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
        env={**os.environ, "DATABASE_URL": url, "COLUMNS": "300"}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_server_refuses_to_start_without_a_database(backend: Backend, tmp_path: Path) -> None:
    if backend.cluster is None:
        empty = backend.new_database()
        sqlite3.connect(make_url(empty).database or "").close()  # an empty file
        cases = {
            f"sqlite:///{tmp_path / 'missing.db'}": "unable to open database file",
            empty: "is not loaded",
        }
    else:
        cluster = backend.cluster
        cases = {
            f"postgresql://postgres@127.0.0.1:{free_port()}/atlas": "Connection refused",
            cluster.url("no_such_database"): 'database "no_such_database" does not exist',
            cluster.url(cluster.create_database()): "is not loaded",
        }
    for url, reason in cases.items():
        result = serve_once(url)
        assert result.returncode == 1, (url, result.stderr)
        assert reason in result.stderr, result.stderr
        assert "Traceback" not in result.stderr + result.stdout


# --- PostgreSQL lost while serving ----------------------------------------------------


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of its own, so stopping it does not disturb the other tests."""
    with PostgresCluster() as cluster:
        yield cluster


PATHS = ["/healthz", "/api/v1/cities", "/api/v1/metrics?limit=5", "/api/v1/places/daye"]


def test_postgres_lost_while_serving_gives_503_then_recovers(own_cluster: PostgresCluster) -> None:
    url = own_cluster.url(own_cluster.create_database())
    load_seeds(url)
    with (
        running_server(url, ATLAS_POOL_TIMEOUT="2") as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        for _ in range(3):  # several pooled connections in use before the loss
            assert all(http.get(path).status_code == 200 for path in PATHS)
        own_cluster.pause()
        for path in PATHS * 2:
            started = time.monotonic()
            response = http.get(path)
            assert response.status_code == 503, (path, response.text)
            assert time.monotonic() - started < 5
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"].isdigit()
            assert response.json()["status"] == 503
            assert "Traceback" not in response.text
            assert "psycopg" not in response.text
        own_cluster.resume()
        wait_for(lambda: http.get("/healthz").status_code == 200, 30, "recovery")
        for _ in range(3):  # every pooled connection replaced, not just one
            assert [http.get(path).status_code for path in PATHS] == [200] * len(PATHS)
