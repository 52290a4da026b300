"""A read past its lane's budget runs again from the start in the next lane; what its first
attempt finished reading is not read twice, and never across dataset versions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import column, select, table

from app.config import Settings
from app.db import build_engine
from app.main import create_app
from app.query import execute
from app.query.budget import BudgetExceeded
from app.query.counts import bounded_count
from app.query.memo import ANSWERS
from app.query.statements import Replay, fetch_all, recording, replaying
from tests.conftest import Backend

API = "/api/v1"
COUNTED = f"{API}/metrics?qualifier=exact&sort=-value&limit=20&count=true"


def _overrun_count_once(monkeypatch: pytest.MonkeyPatch) -> list[BudgetExceeded]:
    """The next page's count overruns its budget, once; the list empties when it has."""
    overruns = [BudgetExceeded()]

    def overrun_once(*args: Any) -> tuple[int, bool]:
        if overruns:
            raise overruns.pop()
        return bounded_count(*args)

    monkeypatch.setattr(execute, "bounded_count", overrun_once)
    return overruns


def test_an_attempt_past_its_budget_leaves_its_statements_to_the_next(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast lane reads the page, then overruns in the count: the slow lane reads the
    version again and the count, not the page."""
    with TestClient(create_app(Settings(database_url=scale_url, inline_budget_ms=0))) as client:
        expected = client.get(COUNTED).json()
    ANSWERS.clear()  # the count and the probes are read again, not remembered
    overruns = _overrun_count_once(monkeypatch)
    app = create_app(Settings(database_url=scale_url, inline_budget_ms=0))
    with TestClient(app) as client, recording() as ran:
        response = client.get(COUNTED)
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert not overruns  # the fast lane's attempt did overrun
    lanes = app.state.nodes.primary.lanes
    assert lanes.first_lane(("/metrics", ("qualifier",), "-value", 20, True)) is lanes.slow
    shapes = [r.shape for r in ran]
    assert shapes.count(("dataset-version",)) == 2  # each attempt opens its own snapshot
    pages = [s for s in shapes if isinstance(s, tuple) and s[1:2] == ("ids",)]
    assert len(pages) == 1, shapes  # read by the fast lane, not again by the slow one
    statements = [(r.sql, repr(r.parameters)) for r in ran if r.shape != ("dataset-version",)]
    assert len(statements) == len(set(statements)), shapes


def test_an_attempt_that_took_rows_from_an_earlier_one_teaches_the_lanes_nothing(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick shape read inline overruns after its page: the fast lane takes the page
    from the inline attempt, so its own time is a part of the read's, and must neither make
    the shape quick again (it would overrun inline again) nor light (it may be heavy)."""
    # Wide, so that the inline attempt overruns only where the test makes it.
    app = create_app(Settings(database_url=scale_url, inline_budget_ms=60_000))
    shape = ("/metrics", ("qualifier",), "-value", 20, True)
    with TestClient(app) as client:
        lanes = app.state.nodes.primary.lanes
        lanes.took(shape, 0.0)  # seen quick: read inline
        assert lanes.inline_lane(shape) is lanes.inline
        taught: list[Any] = []
        monkeypatch.setattr(lanes, "took", lambda *args: taught.append(("took", args)))
        monkeypatch.setattr(lanes, "weigh", lambda *args: taught.append(("weigh", args)))
        overruns = _overrun_count_once(monkeypatch)
        with recording() as ran:
            assert client.get(COUNTED).status_code == 200
    assert not overruns  # the inline attempt overran
    assert lanes.inline_lane(shape) is None  # and is not quick any more
    assert taught == []
    pages = [r.shape for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)]
    assert len(pages) == 1  # the fast lane took the page from the inline attempt


def test_a_replay_answers_only_on_the_version_it_was_read_at(backend: Backend) -> None:
    engine = build_engine(backend.new_database())
    values = table("replayed", column("x"))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE replayed (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO replayed VALUES (1)")

        def read() -> list[Any]:
            with engine.connect() as connection:
                rows = fetch_all(connection, ("replayed",), lambda: select(values.c.x), {})
            return [row["x"] for row in rows]

        replay = Replay()
        with replaying(replay, "v1"):
            assert read() == [1]
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE replayed SET x = 2")
        with replaying(replay, "v1"), recording() as ran:
            assert read() == [1]  # the same attempt's statement, on the same version
        assert ran == []
        with replaying(replay, "v2"):
            assert read() == [2]
        assert read() == [2]  # outside a replay, always the database
    finally:
        engine.dispose()
