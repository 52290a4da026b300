"""Quick reads on the event loop's own thread (SQLite's inline lane, app.query.budget): a
shape the fast lane has seen finish inside the inline budget is read there next time, with
the same answer; one that overruns it, or finds the file locked, is read again in the fast
lane. PostgreSQL has no inline lane: its statements wait on the network."""

import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.config import Settings
from app.main import create_app
from harness.sqlite_writer import held_exclusively
from tests.conftest import Backend, load_seeds

API = "/api/v1"
LIST = f"{API}/metrics?limit=200&sort=-value"
TRIES = 5  # the first read of a shape may be slow (statements compiled, pages cold)


def lane_threads(app: FastAPI) -> list[tuple[str, int]]:
    """(lane, thread) for every connection the primary's lanes lend from now on."""
    seen: list[tuple[str, int]] = []
    lanes = app.state.nodes.primary.lanes
    for lane in (lanes.fast, lanes.slow, lanes.inline):
        if lane is not None:

            def lent(*_: Any, name: str = lane.name) -> None:
                seen.append((name, threading.get_ident()))

            event.listen(lane.engine, "checkout", lent)
    return seen


def loop_thread(client: TestClient) -> int:
    assert client.portal is not None
    return client.portal.call(threading.get_ident)


def read_until_inline(client: TestClient, seen: list[tuple[str, int]], url: str) -> Any:
    """Read `url` until a read is served inline; every answer must be the first one."""
    first = client.get(url)
    assert first.status_code == 200, first.text
    for _ in range(TRIES):
        seen.clear()
        again = client.get(url)
        assert again.json() == first.json()
        if seen and seen[-1][0] == "inline":
            return first.json()
    raise AssertionError(f"{url} was never read inline: {seen}")


def test_a_quick_shape_is_read_next_on_the_event_loops_thread(
    backend: Backend, reader_url: str
) -> None:
    settings = Settings(database_url=reader_url, inline_budget_ms=50)
    app = create_app(settings)
    with TestClient(app) as client:
        seen = lane_threads(app)
        key = client.get(f"{API}/places?limit=1").json()["data"][0]["slug"]
        detail = f"{API}/places/{key}"
        if backend.name == "postgresql":
            assert app.state.nodes.primary.lanes.inline is None
            for url in (LIST, LIST, detail, detail):
                assert client.get(url).status_code == 200
            assert {lane for lane, _ in seen} == {"fast"}
            assert loop_thread(client) not in {thread for _, thread in seen}
            return
        for url in (LIST, detail):
            read_until_inline(client, seen, url)
            assert seen == [("inline", loop_thread(client))]
        second = client.get(f"{API}/places?limit=2").json()["data"][1]["slug"]
        seen.clear()
        assert client.get(f"{API}/places/{second}").status_code == 200
        # a detail's shape is its route, whichever key it names
        assert seen[-1] == ("inline", loop_thread(client))


def test_the_inline_lane_can_be_turned_off(backend: Backend, reader_url: str) -> None:
    app = create_app(Settings(database_url=reader_url, inline_budget_ms=0))
    with TestClient(app) as client:
        seen = lane_threads(app)
        for _ in range(3):
            assert client.get(LIST).status_code == 200
    assert app.state.nodes.primary.lanes.inline is None
    assert {lane for lane, _ in seen} == {"fast"}


def test_a_shape_past_the_inline_budget_is_read_again_in_the_fast_lane(
    sqlite_copy: str,
) -> None:
    app = create_app(Settings(database_url=sqlite_copy, inline_budget_ms=50))
    with TestClient(app) as client:
        seen = lane_threads(app)
        answer = read_until_inline(client, seen, LIST)
        lanes = app.state.nodes.primary.lanes
        lanes.inline.budget = 0.0  # the shape turns slow: no time is left for it inline
        seen.clear()
        again = client.get(LIST)
        assert again.status_code == 200
        assert again.json() == answer
        assert [lane for lane, _ in seen] == ["inline", "fast"]
        seen.clear()
        assert client.get(LIST).json() == answer  # forgotten as quick: the fast lane again
        assert [lane for lane, _ in seen] == ["fast"]


def test_a_locked_file_does_not_hold_the_event_loop(sqlite_copy: str) -> None:
    """SQLite waits up to busy_timeout (5 s) for a writer's lock. The inline lane does not
    wait: the read moves to the fast lane, which waits in its thread, and the loop goes on
    answering other requests meanwhile."""
    app = create_app(Settings(database_url=sqlite_copy, inline_budget_ms=50))
    with TestClient(app) as client:
        seen = lane_threads(app)
        answer = read_until_inline(client, seen, LIST)
        seen.clear()
        waiting: list[httpx.Response] = []
        health: list[httpx.Response] = []
        with held_exclusively(make_url(sqlite_copy).database or ""):
            reader = threading.Thread(target=lambda: waiting.append(client.get(LIST)))
            reader.start()
            reader.join(0.3)
            # The loop answers while the read waits for the lock (well inside the 5 s a
            # connection waiting on the loop's thread would hold it).
            checker = threading.Thread(target=lambda: health.append(client.get("/healthz")))
            checker.start()
            checker.join(3)
            assert health, "the event loop was held"
            assert health[0].status_code == 200
            assert reader.is_alive(), "the locked read answered before the lock was let go"
        reader.join(10)
        assert waiting[0].status_code == 200
        assert waiting[0].json() == answer
        # the wait for the lock may use up the fast budget too: then the slow lane reads it
        assert [lane for lane, _ in seen][:2] == ["inline", "fast"]
        assert "inline" not in [lane for lane, _ in seen][1:]
        with app.state.nodes.primary.lanes.inline.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0


@pytest.fixture(scope="module")
def sqlite_loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inline") / "loaded.db"
    load_seeds(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_copy(sqlite_loaded: Path, tmp_path: Path) -> str:
    """A SQLite database of the seeds of this test's own, whatever engine the others test."""
    copy = tmp_path / "atlas.db"
    shutil.copyfile(sqlite_loaded, copy)
    return f"sqlite:///{copy}"


def test_an_inline_read_waits_its_turn_for_the_fast_lane(sqlite_copy: str) -> None:
    """An inline read takes the fast lane's slot: it never runs beside the lane's thread
    (whose rows would wait for the GIL), and requests are answered in the order they wait."""
    app = create_app(Settings(database_url=sqlite_copy, inline_budget_ms=50))
    with TestClient(app) as client:
        seen = lane_threads(app)
        answer = read_until_inline(client, seen, LIST)
        seen.clear()
        limiter = app.state.nodes.primary.lanes.fast.limiter
        holder = object()
        assert client.portal is not None
        client.portal.call(limiter.acquire_on_behalf_of, holder)  # the fast lane is busy
        waiting: list[httpx.Response] = []
        reader = threading.Thread(target=lambda: waiting.append(client.get(LIST)))
        try:
            reader.start()
            reader.join(0.5)
            assert reader.is_alive(), "the inline read did not wait for the fast lane's slot"
            assert seen == []
        finally:
            client.portal.call(limiter.release_on_behalf_of, holder)
        reader.join(10)
        assert waiting[0].json() == answer
        assert seen == [("inline", loop_thread(client))]
