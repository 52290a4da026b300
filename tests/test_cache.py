"""Caches a CDN can use: Cache-Control by kind of response, Vary, surrogate keys, a purge
on load, and the shipped nginx cache (deploy/nginx-cache.conf) really run in front of two
`atlas serve` processes."""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.caching import CachePolicy
from app.config import PROJECT_ROOT
from app.db import build_engine, is_sqlite
from app.facts.version import UNVERSIONED, read_version
from app.seeding.archive import database_folder
from app.seeding.secrets import read_secret
from harness.nginx import caching_proxy
from harness.postgres import free_port
from harness.server import serving
from tests.conftest import SEEDS, Backend, load_seeds

MAX_AGE = 2
POLICY = CachePolicy(
    max_age=60, stale_while_revalidate=30, stale_if_error=86400, problem_max_age=10
)
SUCCESS = "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, SUCCESS),
        (304, SUCCESS),  # a revalidation renews the stored response's freshness
        (301, SUCCESS),
        (400, "public, max-age=10"),  # a bad parameter stays bad until the code changes
        (404, "public, max-age=10"),  # an unknown slug, until a load adds it
        (406, "no-store"),  # depends on Accept, not the URL
        (415, "no-store"),  # depends on the request's content
        (422, "no-store"),  # query-too-expensive depends on the moment
        (429, "no-store"),
        (500, "no-store"),
        (503, "no-store"),
    ],
)
def test_cache_control_by_status(status: int, expected: str) -> None:
    assert POLICY.cache_control(status) == expected


def test_no_problem_is_stored_when_its_max_age_is_zero() -> None:
    policy = CachePolicy(max_age=5, stale_while_revalidate=0, stale_if_error=0, problem_max_age=0)
    assert policy.cache_control(404) == "no-store"
    assert policy.cache_control(200) == "public, max-age=5"


def test_a_success_may_be_served_stale_and_names_what_it_shows(client: TestClient) -> None:
    response = client.get("/api/v1/places/hefei")
    assert response.status_code == 200
    assert response.headers["cache-control"] == SUCCESS
    version = response.headers["x-atlas-dataset-version"]
    keys = f"atlas places place:hefei dataset:{version}"
    assert response.headers["surrogate-key"] == keys
    assert response.headers["xkey"] == keys
    assert response.headers["cache-tag"] == keys.replace(" ", ",")
    nested = client.get("/api/v1/cities/hefei/clusters")
    assert nested.headers["surrogate-key"].split()[:4] == [
        "atlas",
        "cities",
        "place:hefei",
        "clusters",
    ]


def test_a_revalidation_carries_the_same_caching_headers(client: TestClient) -> None:
    first = client.get("/api/v1/clusters?limit=3")
    again = client.get("/api/v1/clusters?limit=3", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    for name in ("cache-control", "surrogate-key", "etag"):
        assert again.headers[name] == first.headers[name]
    assert "accept" in varies_on(again)


def test_lists_vary_on_accept_and_exports_are_cacheable(client: TestClient) -> None:
    listing = client.get("/api/v1/places?limit=2")
    export = client.get("/api/v1/places?limit=2", headers={"accept": "text/csv"})
    assert export.headers["content-type"].startswith("text/csv")
    for response in (listing, export):
        assert "accept" in varies_on(response)
        assert response.headers["cache-control"] == SUCCESS
    detail = client.get("/api/v1/places/hefei")
    assert "accept" not in varies_on(detail)  # one representation only


def test_errors_are_not_kept_as_answers(client: TestClient) -> None:
    unknown = client.get("/api/v1/places/no-such-place")
    assert unknown.status_code == 404
    assert unknown.headers["cache-control"] == "public, max-age=10"
    assert "place:no-such-place" in unknown.headers["surrogate-key"]
    too_large = client.get("/api/v1/places?limit=100000")
    assert too_large.status_code == 422
    assert too_large.headers["cache-control"] == "no-store"
    refused = client.get("/api/v1/places/hefei", headers={"accept": "text/csv"})
    assert refused.status_code == 406
    assert refused.headers["cache-control"] == "no-store"
    for probe in ("/healthz", "/readyz"):
        assert client.get(probe).headers["cache-control"] == "no-store"


def varies_on(response: httpx.Response) -> list[str]:
    return [field.strip().lower() for field in response.headers.get("vary", "").split(",")]


@dataclass
class Stack:
    """nginx caching in front of two API processes on one database."""

    proxy: httpx.Client
    apis: list[str]
    logs: list[Path]
    database_url: str
    tmp: Path
    processes: list["subprocess.Popen[bytes]"] = field(default_factory=list)


@contextmanager
def cache_stack(backend: Backend, tmp_path: Path, **env: str) -> Iterator[Stack]:
    url = backend.new_database()
    load_seeds(url)
    env = {
        "ATLAS_CACHE_MAX_AGE": str(MAX_AGE),
        "ATLAS_CACHE_STALE_WHILE_REVALIDATE": "0",  # expiry revalidates before answering
        "ATLAS_CURSOR_SECRET": "shared-by-every-process",
        **env,
    }
    logs = [tmp_path / "api-1.log", tmp_path / "api-2.log"]
    with (
        serving(url, log_path=logs[0], env=env) as first,
        serving(url, log_path=logs[1], env=env) as second,
        caching_proxy([first.address[1], second.address[1]], tmp_path / "nginx") as base,
        httpx.Client(base_url=base, timeout=30) as proxy,
    ):
        yield Stack(
            proxy, [first.base, second.base], logs, url, tmp_path, [first.process, second.process]
        )


@pytest.fixture
def stack(backend: Backend, tmp_path: Path) -> Iterator[Stack]:
    with cache_stack(backend, tmp_path) as running:
        yield running


@contextmanager
def data_locked(url: str) -> Iterator[None]:
    """Hold a lock under which no read of the data can run: SQLite's EXCLUSIVE lock (no
    reader may start), or PostgreSQL's ACCESS EXCLUSIVE on the dataset version, which
    every request reads first."""
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            if is_sqlite(url):
                raw = connection.connection.dbapi_connection
                assert raw is not None
                raw.execute("BEGIN EXCLUSIVE")
            else:
                connection.execute(text("LOCK TABLE dataset_version IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def test_a_second_identical_request_is_a_hit(stack: Stack) -> None:
    for url in ("/api/v1/places?province=anhui&sort=name&limit=5", "/api/v1/places/hefei"):
        first = stack.proxy.get(url)
        second = stack.proxy.get(url)
        assert first.status_code == second.status_code == 200
        assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == (
            "MISS",
            "HIT",
        )
        assert second.content == first.content
        assert second.headers["surrogate-key"] == first.headers["surrogate-key"]
        # the client's own validator is answered by the cache
        conditional = stack.proxy.get(url, headers={"if-none-match": first.headers["etag"]})
        assert conditional.status_code == 304
    # another representation of the same list is another entry (Vary: Accept)
    csv = stack.proxy.get("/api/v1/places/hefei/clusters", headers={"accept": "text/csv"})
    listing = stack.proxy.get("/api/v1/places/hefei/clusters")
    assert csv.headers["content-type"].startswith("text/csv")
    assert listing.headers["content-type"].startswith("application/json")
    assert stack.proxy.get("/healthz").headers["x-cache-status"] == "MISS"
    assert stack.proxy.get("/healthz").headers["x-cache-status"] == "MISS"  # no-store


def test_an_expired_entry_is_revalidated_by_its_etag(stack: Stack) -> None:
    url = "/api/v1/clusters?sort=name&limit=7"
    first = stack.proxy.get(url)
    assert first.headers["x-cache-status"] == "MISS"
    time.sleep(MAX_AGE + 1.2)  # nginx counts in whole seconds: fresh for up to max-age + 1
    again = stack.proxy.get(url)
    assert again.status_code == 200
    assert again.headers["x-cache-status"] == "REVALIDATED"  # the API answered 304
    assert again.content == first.content
    answered = "".join(log.read_text(errors="replace") for log in stack.logs)
    assert re.search(r'"GET /api/v1/clusters\?sort=name&limit=7 HTTP/1.1" 304', answered)
    assert stack.proxy.get(url).headers["x-cache-status"] == "HIT"


def test_a_revalidation_is_answered_without_reading_the_data(
    backend: Backend, tmp_path: Path
) -> None:
    """With the data locked against every read, the API still answers nginx's revalidation
    with 304 (from the dataset version its workers last saw), while a request that has to
    read cannot be answered. The version board is not refreshed during the test."""
    with cache_stack(backend, tmp_path, ATLAS_VERSION_REFRESH_MS="600000") as stack:
        url = "/api/v1/organizations?sort=name&limit=4"
        assert stack.proxy.get(url).headers["x-cache-status"] == "MISS"
        expired = time.monotonic() + MAX_AGE + 1.2  # nginx counts whole seconds
        with data_locked(stack.database_url):
            reading = httpx.get(stack.apis[0] + "/api/v1/organizations?limit=3", timeout=60)
            assert reading.status_code != 200  # reads cannot run: the lock holds
            time.sleep(max(0.0, expired - time.monotonic()))
            again = stack.proxy.get(url)
        assert again.status_code == 200
        assert again.headers["x-cache-status"] == "REVALIDATED"  # the API's 304
        answered = "".join(log.read_text(errors="replace") for log in stack.logs)
        assert re.search(r'"GET /api/v1/organizations\?sort=name&limit=4 HTTP/1.1" 304', answered)


def test_stale_while_revalidating_and_stale_while_the_api_is_down(
    backend: Backend, tmp_path: Path
) -> None:
    """With the default stale windows: past max-age the cache answers at once from the old
    entry while it fetches the next in the background; with every API process gone it keeps
    answering what it has (stale-if-error), and what it does not have fails, uncached."""
    with cache_stack(backend, tmp_path, ATLAS_CACHE_STALE_WHILE_REVALIDATE="30") as stack:
        url = "/api/v1/programs?sort=name&limit=3"
        first = stack.proxy.get(url)
        assert first.headers["x-cache-status"] == "MISS"
        time.sleep(MAX_AGE + 1.2)
        stale = stack.proxy.get(url)
        assert stale.headers["x-cache-status"] in ("STALE", "UPDATING")
        assert stale.content == first.content
        deadline = time.monotonic() + 10
        while (fresh := stack.proxy.get(url)).headers["x-cache-status"] != "HIT":
            assert time.monotonic() < deadline, "the background update did not land"
            time.sleep(0.1)
        assert fresh.content == first.content
        for process in stack.processes:
            process.terminate()
            process.wait(timeout=10)
        time.sleep(MAX_AGE + 1.2)
        down = stack.proxy.get(url)
        assert down.status_code == 200
        assert down.headers["x-cache-status"] == "STALE"
        assert down.content == first.content
        never_cached = stack.proxy.get("/api/v1/programs?sort=name&limit=4")
        assert never_cached.status_code == 502
        assert stack.proxy.get("/healthz").status_code == 502  # no-store: nothing to serve


class PurgeRecorder(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_load_is_served_within_max_age_and_purged_by_key(stack: Stack) -> None:
    url = "/api/v1/places/hefei"
    before = stack.proxy.get(url)
    assert before.json()["name"] == "Hefei"
    assert stack.proxy.get(url).headers["x-cache-status"] == "HIT"
    seeds = stack.tmp / "seeds"
    shutil.copytree(SEEDS, seeds)
    places = seeds / "places.yaml"
    places.write_text(places.read_text().replace("name: Hefei,", "name: Hefei Municipality,", 1))
    purger = ThreadingHTTPServer(("127.0.0.1", 0), PurgeRecorder)
    threading.Thread(target=purger.serve_forever, daemon=True).start()
    PurgeRecorder.received.clear()
    purge_url = f"http://127.0.0.1:{purger.server_address[1]}/purge"
    try:
        loaded = subprocess.run(
            [sys.executable, "-m", "app", "load", "--seeds", str(seeds), "--no-verify"],
            env={**os.environ, "DATABASE_URL": stack.database_url, "ATLAS_PURGE_URL": purge_url},
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        purger.shutdown()
    assert loaded.returncode == 0, loaded.stderr
    done = time.monotonic()
    old_version = before.headers["x-atlas-dataset-version"]
    assert f"Surrogate-Key dataset:{old_version}" in loaded.stderr
    [(path, headers, body)] = PurgeRecorder.received
    assert path == "/purge"
    assert headers["surrogate-key"] == headers["xkey-purge"] == f"dataset:{old_version}"
    new_version = json.loads(body)["dataset_version"]
    assert new_version != old_version
    assert json.loads(body)["surrogate_keys"] == [f"dataset:{old_version}"]
    while (response := stack.proxy.get(url)).json()["name"] != "Hefei Municipality":
        assert response.status_code == 200
        assert response.headers["x-atlas-dataset-version"] == old_version  # never mixed
        assert time.monotonic() - done < MAX_AGE + 6, "the load was not served in time"
        time.sleep(0.1)
    # max-age (nginx counts whole seconds, so up to one more), the API's version board
    # (refreshed every second), then one revalidation
    assert time.monotonic() - done <= MAX_AGE + 1 + 1 + 1
    assert response.headers["x-atlas-dataset-version"] == new_version
    assert f"dataset:{new_version}" in response.headers["surrogate-key"].split()


def test_a_failed_purge_warns_and_keeps_the_load(backend: Backend) -> None:
    url = backend.new_database()
    closed = f"http://127.0.0.1:{free_port()}/purge"  # nothing listens there
    loaded = subprocess.run(
        [sys.executable, "-m", "app", "load", "--no-verify"],
        env={**os.environ, "DATABASE_URL": url, "ATLAS_PURGE_URL": closed},
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    said = " ".join(loaded.stderr.split())
    assert "stale in caches: Surrogate-Key dataset:unversioned" in said
    assert "the cache purge (ATLAS_PURGE_URL) failed" in said
    assert "for up to 60 s more" in said
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            version = read_version(connection)
    finally:
        engine.dispose()
    assert version != UNVERSIONED
    archives = Path(os.environ["ATLAS_ARCHIVES_DIR"])
    with engine.connect() as connection:
        kept = database_folder(archives, read_secret(connection) or "")
    engine.dispose()
    assert f"kept release {version[:16]} for pinned reads in {kept}" in said  # and not lost
    # a first release: no release before it to go back to, so nothing written yet
    assert kept.is_dir()
    assert not list(kept.glob("*.delta.gz"))


def test_a_cursor_from_one_process_continues_on_the_other(stack: Stack) -> None:
    """The cursor is signed with the shared secret and carries its position, nothing kept
    in a process: any process (or host) with the same ATLAS_CURSOR_SECRET continues it."""
    first, second = stack.apis
    page = httpx.get(f"{first}/api/v1/places?sort=name&limit=3").json()
    cursor = page["meta"]["next_cursor"]
    following = httpx.get(
        f"{second}/api/v1/places", params={"sort": "name", "limit": 3, "cursor": cursor}
    )
    assert following.status_code == 200
    same = httpx.get(
        f"{first}/api/v1/places", params={"sort": "name", "limit": 3, "cursor": cursor}
    )
    assert following.json()["data"] == same.json()["data"]
    assert following.json()["data"][0]["name"] >= page["data"][-1]["name"]


def test_every_process_gives_the_same_validator(stack: Stack) -> None:
    """A cache may revalidate against any process: the ETag is computed, not remembered.
    (Links are absolute, so the processes must see the same Host, as the proxy sends.)"""
    host = {"host": "atlas.example.org"}
    for url in ("/api/v1/places/hefei", "/api/v1/metrics?limit=5", "/api/v1/search?q=hefei"):
        first, second = (httpx.get(base + url, headers=host) for base in stack.apis)
        assert first.headers["etag"] == second.headers["etag"]
        revalidate = {**host, "if-none-match": first.headers["etag"]}
        assert httpx.get(stack.apis[1] + url, headers=revalidate).status_code == 304
