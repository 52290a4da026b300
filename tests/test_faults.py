"""Real faults, real processes: the loader killed with SIGKILL mid-load, the server started
on broken databases, PostgreSQL's backends terminated and the server stopped under load, a
SQLite writer killed mid-transaction, and SIGTERM with requests in flight."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT, Settings
from harness.polling import wait_for
from harness.postgres import PostgresCluster, free_port
from harness.server import (
    answer_of,
    requests_in_flight,
    running_server,
    serve_once,
    server_process,
)
from harness.sqlite_writer import held_exclusively, journal_of, kill_spilling_writer
from harness.state import dump
from harness.traffic import Tally, traffic, watch_until_quiet
from tests.conftest import SEEDS, Backend, load_seeds

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


def kill(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
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
    # the version follows the data, and the search index the revised source title; the
    # load is a release, with its counts, its change log and its files
    assert set(changed) == {
        "dataset_version", "search_entry", "source", "observation",
        "release", "release_table", "release_change", "release_file",
    }  # fmt: skip


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


# --- starting on a broken database -----------------------------------------------------


def test_server_refuses_to_start_on_a_broken_database_in_one_line(
    backend: Backend, tmp_path: Path
) -> None:
    """Each refusal: exit status 1 and one line naming the database (password hidden), the
    cause in plain words and the fix; no SQL, no traceback."""
    if backend.cluster is None:
        empty = backend.new_database()
        sqlite3.connect(make_url(empty).database or "").close()  # an empty file
        not_sqlite = tmp_path / "notes.txt"
        not_sqlite.write_text("not a database\n" * 100)
        unmigrated = backend.new_database()
        load_seeds(unmigrated)
        with sqlite3.connect(make_url(unmigrated).database or "") as connection:
            connection.execute("DELETE FROM alembic_version")
        cases = {
            f"sqlite:///{tmp_path / 'missing.db'}": ("the file does not exist", "atlas load"),
            unmigrated: ("has no schema revision", "atlas load"),
            empty: ("has no Atlas tables", "atlas load"),
            f"sqlite:///{not_sqlite}": ("not a SQLite database", "DATABASE_URL"),
            "not a url": ("not a database URL", "postgresql://"),
        }
    else:
        cluster = backend.cluster
        loaded = cluster.create_database()
        load_seeds(cluster.url(loaded))
        cluster.execute(
            "DO $$ BEGIN CREATE ROLE stranger LOGIN;"
            " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        cases = {
            f"postgresql://atlas:s3cret@127.0.0.1:{free_port()}/atlas": (
                "cannot be reached (Connection refused)",
                "start it",
            ),
            cluster.url("no_such_database"): ("database does not exist", "createdb"),
            cluster.url(cluster.create_database()): ("has no Atlas tables", "atlas load"),
            cluster.url(user="nobody"): ("refused this user", "DATABASE_URL"),
            cluster.url(loaded, user="stranger"): ("may not read the tables", "grant-reader"),
        }
    for url, (cause, fix) in cases.items():
        result = serve_once(url)
        assert result.returncode == 1, (url, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        (line,) = lines
        assert line.startswith("error: "), line
        assert cause in line, line
        assert fix in line, line
        if url != "not a url":
            normalised = Settings(database_url=url).database_url
            assert make_url(normalised).render_as_string(hide_password=True) in line
        for leak in ("s3cret", "Traceback", "SELECT", "FROM", "LINE ", "^"):
            assert leak not in result.stderr + result.stdout, line


# --- PostgreSQL lost while serving ----------------------------------------------------


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of its own, so stopping it does not disturb the other tests."""
    with PostgresCluster() as cluster:
        yield cluster


PATHS = ["/readyz", "/api/v1/cities", "/api/v1/metrics?limit=5", "/api/v1/places/daye"]


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
        assert http.get("/healthz").status_code == 200  # the process itself is alive
        own_cluster.resume()
        wait_for(lambda: http.get("/readyz").status_code == 200, 30, "recovery")
        for _ in range(3):  # every pooled connection replaced, not just one
            assert [http.get(path).status_code for path in PATHS] == [200] * len(PATHS)


def assert_no_broken_answers(data: Tally, ready: Tally) -> None:
    """Under any fault: a 200 or a 503 problem with Retry-After, never a 500, never a
    connection closed without a response."""
    for tally in (data, ready):
        counts = tally.counts()
        assert set(counts) <= {"200", "503"}, counts
    assert data.counts()["200"] > 0


def test_backends_terminated_under_load_cost_almost_nothing(own_cluster: PostgresCluster) -> None:
    """16 clients while the API's backends are terminated five times in 2.5 s (a failover,
    a pooler restart): each read whose connection died is retried on a fresh one."""
    database = own_cluster.create_database()
    url = own_cluster.url(database)
    load_seeds(url)
    before = dump(url)
    with running_server(url) as base, traffic(base) as (data, ready):
        time.sleep(0.5)
        for _ in range(5):
            own_cluster.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )
            time.sleep(0.5)
    assert_no_broken_answers(data, ready)
    counts = data.counts()
    assert counts["503"] <= 0.01 * sum(counts.values()), counts
    assert dump(url) == before


def test_postgres_crash_under_load_is_503_then_recovers(own_cluster: PostgresCluster) -> None:
    """PostgreSQL stopped with -m immediate for 2 s under 16 clients: 503 with Retry-After
    while it is away (readiness too), all 200 again once it is back, no restart."""
    url = own_cluster.url(own_cluster.create_database())
    load_seeds(url)
    before = dump(url)
    with running_server(url) as base, traffic(base) as (data, ready):
        time.sleep(0.5)
        own_cluster.crash()
        down = time.monotonic()
        time.sleep(2)
        back = time.monotonic()
        own_cluster.resume()
        watch_until_quiet(data)
    assert_no_broken_answers(data, ready)
    while_down = data.between(down + 0.2, back)
    assert while_down, "no answer while PostgreSQL was down"
    assert set(while_down) == {"503"}, Counter(while_down)
    assert set(ready.between(down + 0.2, back)) == {"503"}
    assert data.answers[-1][1] == "200"
    assert ready.answers[-1][1] == "200"
    assert dump(url) == before


# --- SQLite: a writer killed mid-transaction -----------------------------------------


SERVED = ["/api/v1/sources?limit=500", "/api/v1/metrics?limit=500", "/api/v1/places?limit=500"]


def served(http: httpx.Client) -> list[Any]:
    """What the server answers to SERVED: the data a lost or half-kept write would change."""
    return [http.get(path).json()["data"] for path in SERVED]


def loaded_sqlite(tmp_path: Path) -> tuple[Path, str, dict[str, list[tuple[Any, ...]]]]:
    """A SQLite database with the seeds loaded: its file, its URL and its rows as loaded."""
    path = tmp_path / "atlas.db"
    url = f"sqlite:///{path}"
    load_seeds(url)
    return path, url, dump(url)


def test_sqlite_writer_killed_under_load_loses_nothing(tmp_path: Path) -> None:
    """A hot journal under 16 clients: no 500, and the server rolls it back itself (its
    request connections are read-only), so the data is exactly the last commit again."""
    path, url, before = loaded_sqlite(tmp_path)
    with running_server(url) as base, httpx.Client(base_url=base) as http:
        served_before = served(http)
        with traffic(base) as (data, ready):
            time.sleep(0.5)
            kill_spilling_writer(path)
            wait_for(lambda: not journal_of(path).exists(), 5, "the server to roll it back")
            watch_until_quiet(data)
        assert served(http) == served_before
    assert_no_broken_answers(data, ready)
    assert data.answers[-1][1] == "200"
    assert dump(url) == before


def test_server_started_on_a_hot_journal_serves_the_last_commit(tmp_path: Path) -> None:
    path, url, before = loaded_sqlite(tmp_path)
    with running_server(url) as base, httpx.Client(base_url=base) as http:
        served_before = served(http)
    kill_spilling_writer(path)
    with running_server(url) as base, httpx.Client(base_url=base) as http:
        assert not journal_of(path).exists()
        assert served(http) == served_before
    assert dump(url) == before


# --- SIGTERM with requests in flight --------------------------------------------------


@contextmanager
def database_held(backend: Backend, url: str) -> Iterator[None]:
    """Block every read of the sources until the block ends."""
    if backend.cluster is None:
        with held_exclusively(make_url(url).database or ""):
            yield
        return
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as holder:
        holder.execute("LOCK TABLE source IN ACCESS EXCLUSIVE MODE")
        yield


def test_sigterm_with_requests_in_flight_answers_them_all(backend: Backend, tmp_path: Path) -> None:
    """16 requests the server has read wait on a locked database when SIGTERM arrives: each
    gets its full 200, then the server finishes its shutdown."""
    url = backend.new_database()
    load_seeds(url)
    target = "/api/v1/sources?limit=500"
    log = tmp_path / "server.log"
    with server_process(url, log_path=log, ATLAS_POOL_TIMEOUT="30") as (base, process):
        expected = httpx.get(f"{base}{target}").json()
        with database_held(backend, url):
            sockets = requests_in_flight(base, target, 16)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert process.poll() is None, "the server quit with requests in flight"
        answers = [answer_of(sock) for sock in sockets]
        # uvicorn shuts down gracefully, then re-raises the signal so its exit says why
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    output = log.read_text()
    assert "Application shutdown complete" in output, output[-2000:]
    assert "Traceback" not in output
    for answer in answers:
        assert isinstance(answer, httpx.Response), answer
        assert answer.status_code == 200
        assert answer.json() == expected
