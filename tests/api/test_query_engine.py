"""The query engine over HTTP on both engines: the operators every filter gains from the
registry, relation filters that honour their operator, plans that return the same rows
whatever path they take, bounded counts, and the time budget's refusal."""

import gc
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import build_engine
from app.main import create_app
from app.query import counts, plan
from app.query.budget import BudgetExceeded, deadline, overran, watch_sqlite, watch_statements
from app.query.memo import ANSWERS
from app.query.plan import PlanKind
from app.query.statements import recording
from tests.api.answers import descending_day, sqlite_plans, walk
from tests.conftest import Backend

API = "/api/v1"


def metric_keys(client: TestClient, query: str) -> set[str]:
    return {m["key"] for m in walk(client, f"{API}/metrics?limit=500&{query}")}


@pytest.fixture(scope="module")
def everything(client: TestClient) -> list[dict[str, Any]]:
    return walk(client, f"{API}/metrics?limit=500")


def test_ne_on_a_nullable_column_keeps_rows_without_a_value(
    client: TestClient, everything: list[dict[str, Any]]
) -> None:
    expected = {m["key"] for m in everything if m["period"]["year"] != 2023}
    assert any(m["period"]["year"] is None for m in everything)
    assert metric_keys(client, "year__ne=2023") == expected


def test_isnull_splits_a_nullable_column(
    client: TestClient, everything: list[dict[str, Any]]
) -> None:
    undated = {m["key"] for m in everything if m["period"]["year"] is None}
    assert undated
    assert metric_keys(client, "year__isnull=true") == undated
    assert metric_keys(client, "year__isnull=false") == {m["key"] for m in everything} - undated


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("qualifier__ne=exact", lambda m: m["qualifier"] != "exact"),
        ("subject_kind__ne=place", lambda m: m["subject"]["kind"] != "place"),
        ("indicator__ne=high_tech_enterprises",
         lambda m: m["indicator"]["code"] != "high_tech_enterprises"),
        ("source__ne=std-2024-03-25-daye",
         lambda m: m["provenance"]["source"]["id"] != "std-2024-03-25-daye"),
        ("cluster__isnull=false", lambda m: m["subject"]["kind"] == "cluster"),
        ("cluster__ne=hefei-intelligent-voice",
         lambda m: m["subject"]["slug"] != "hefei-intelligent-voice"),
    ],
)  # fmt: skip
def test_ne_and_isnull_on_vocabularies_and_relations(
    client: TestClient, everything: list[dict[str, Any]], query: str, kept: Any
) -> None:
    expected = {m["key"] for m in everything if kept(m)}
    assert 0 < len(expected) < len(everything)
    assert metric_keys(client, query) == expected


def test_relation_ne_excludes_the_place_and_everything_inside_it(
    client: TestClient, everything: list[dict[str, Any]]
) -> None:
    inside = metric_keys(client, "city=changzhi")
    assert inside
    assert metric_keys(client, "city__ne=changzhi") == {m["key"] for m in everything} - inside


def test_programs_issuer_honours_ne(client: TestClient) -> None:
    def slugs(query: str) -> set[str]:
        return {p["slug"] for p in walk(client, f"{API}/programs?{query}")}

    issued = slugs("issuer=ministry-of-finance")
    assert issued
    assert slugs("issuer__ne=ministry-of-finance") == slugs("") - issued


def test_places_parent_isnull_gives_the_top_of_the_tree(client: TestClient) -> None:
    top = walk(client, f"{API}/places?parent__isnull=true")
    assert "china" in {p["slug"] for p in top}
    assert {p["level"] for p in top} == {"country"}
    assert {p["slug"] for p in walk(client, f"{API}/places?parent__isnull=false")}.isdisjoint(
        {p["slug"] for p in top}
    )


def test_disjoint_relation_filters_match_nothing(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?city=changzhi&province=hunan&count=true")
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("indicator=no-such-indicator", "indicator"), ("city__in=hefei,y", "city__in"),
     ("city__ne=x", "city__ne")],
)  # fmt: skip
def test_relation_values_that_name_nothing_are_refused(
    client: TestClient, query: str, parameter: str
) -> None:
    response = client.get(f"{API}/metrics?{query}&count=true")
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter


def test_operators_a_filter_does_not_take_are_refused_by_name(client: TestClient) -> None:
    for name in ("key__isnull", "indicator__gt", "city__contains", "name__isnull"):
        url = (
            f"{API}/metrics?{name}=true" if name != "name__isnull" else f"{API}/places?{name}=true"
        )
        response = client.get(url)
        assert response.status_code == 400, name
        assert response.json()["errors"][0]["parameter"] == name
    response = client.get(f"{API}/metrics?year__isnull=maybe")
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "year__isnull"


@pytest.mark.parametrize("sort", ["year", "-year", "period_end", "-period_end", "-year,value"])
def test_nullable_sorts_put_rows_without_a_value_last_across_pages(
    client: TestClient, everything: list[dict[str, Any]], sort: str
) -> None:
    """Rows with a value are read in index order, then the rest: one order, any page size."""
    whole = [m["key"] for m in walk(client, f"{API}/metrics?sort={sort}&limit=500")]
    paged = [m["key"] for m in walk(client, f"{API}/metrics?sort={sort}&limit=4")]
    assert paged == whole
    field = sort.lstrip("-").split(",")[0]
    values = [
        (m["period"]["year"] if field == "year" else m["period"]["end"])
        for m in walk(client, f"{API}/metrics?sort={sort}&limit=500")
    ]
    known = [v for v in values if v is not None]
    assert values == known + [None] * (len(values) - len(known))
    assert known == sorted(known, reverse=sort.startswith("-"))


def test_count_is_exact_below_the_cap_and_a_bound_beyond(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = client.get(f"{API}/metrics?count=true&limit=1").json()["meta"]
    assert meta["total"] == 36
    assert meta["total_relation"] == "eq"
    monkeypatch.setattr(counts, "COUNT_CAP", 10)
    meta = client.get(f"{API}/metrics?count=true&limit=1").json()["meta"]
    assert meta["total"] == 10
    assert meta["total_relation"] == "gte"


def test_a_count_reads_one_bounded_range_and_answers_at_least_what_it_found(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two filters that each keep many rows of their index and few together (as
    `value__gte=…&qualifier=exact&within=…` at 3M rows, whose exact count read 821 ms): the
    count reads at most COUNT_CAP + 1 rows of one index range, testing the other filter on
    each. Exact when the range was read whole; else the matches found, as a lower bound."""
    province = f"{API}/metrics?limit=500&within=synth-province-01"
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        values = sorted((m["value"] for m in walk(client, f"{province}&sort=-value")), reverse=True)
        url = f"{API}/metrics?limit=5&count=true&within=synth-province-01&value__gte={values[40]}"
        matching = walk(client, url.replace("count=true", "sort=id"))
        assert 40 <= len(matching) < 60

        def counted() -> tuple[int, str]:
            ANSWERS.clear()
            with recording() as ran:
                meta = client.get(url).json()["meta"]
            scans = [r for r in ran if isinstance(r.shape, tuple) and r.shape[0] == "scan-count"]
            assert scans  # one, or two when a first attempt overran a lane's budget
            for scan in scans:
                assert counts.COUNT_CAP + 1 in _values(scan.parameters)
            return meta["total"], meta["total_relation"]

        assert counted() == (len(matching), "eq")  # a probe drove: its range is small
        monkeypatch.setattr(plan, "PROBE_CAP", 50)  # every range too large to drive
        monkeypatch.setattr(counts, "PROBE_CAP", 50)
        assert counted() == (len(matching), "eq")  # the range read whole
        monkeypatch.setattr(counts, "COUNT_CAP", 100)  # each range larger than what is read
        total, relation = counted()
        whole = client.get(url.replace("limit=5", "limit=100")).json()["meta"]
    assert relation == "gte"
    assert 5 + 1 <= total <= len(matching)  # never fewer than a first page shows, and one more
    assert (whole["total"], whole["total_relation"]) == (len(matching), "eq")  # no next page


# The time budget -------------------------------------------------------------------------

HEAVY = f"{API}/metrics?value__ne=1&qualifier__ne=at_least&sort=-period_end,value&limit=500"


@pytest.fixture
def budgeted(scale_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=scale_url, fast_budget_ms=1, query_budget_ms=1)
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_query_past_its_budget_is_refused_with_what_made_it_expensive(
    budgeted: TestClient,
) -> None:
    response = budgeted.get(HEAVY)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/query-too-expensive"
    assert "1 ms budget" in problem["detail"]
    assert "value__ne, qualifier__ne" in problem["detail"]
    assert "sort: -period_end,value" in problem["detail"]
    for leak in ("SELECT", "interrupted", "canceling", "Traceback"):
        assert leak not in response.text
    # The refusal leaves the lanes' connections usable.
    assert budgeted.get("/healthz").status_code == 200


def test_a_request_of_many_short_statements_stops_at_its_deadline(backend: Backend) -> None:
    """The engine stops one statement past the budget; a request of many statements, each
    well under it, must stop too, at the first one that would start past the deadline."""
    engine = build_engine(backend.new_database())
    if backend.name == "sqlite":
        watch_sqlite(engine)
        pause = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
        pause += " SELECT count(*) FROM n"
    else:
        pause = "SELECT pg_sleep(0.02)"
    watch_statements(engine)

    def statements_until_stopped(connection: Connection) -> int:
        for ran in range(500):
            try:
                connection.execute(text(pause))
            except BudgetExceeded:
                return ran
            except DBAPIError as error:  # stopped mid-statement by the engine
                if not overran(error.orig):
                    raise
                return ran
        return 500

    try:
        with engine.connect() as connection, deadline(connection, 0.1):
            ran = statements_until_stopped(connection)
    finally:
        engine.dispose()
    assert 0 < ran < 500


def test_an_overrun_moves_the_shape_to_the_slow_lane(scale_url: str) -> None:
    settings = Settings(database_url=scale_url, fast_budget_ms=1, query_budget_ms=60_000)
    app = create_app(settings)
    with TestClient(app) as client:
        first = client.get(HEAVY)
        assert first.status_code == 200, first.text
        lanes = app.state.nodes.primary.lanes
        shape = ("/metrics", ("qualifier__ne", "value__ne"), "-period_end,value", 500, False)
        assert lanes.first_lane(shape) is lanes.slow
        again = client.get(HEAVY)
        assert again.json()["data"] == first.json()["data"]
        assert lanes.first_lane(("/metrics", (), "id", 50, False)) is lanes.fast


def test_a_shape_that_held_the_fast_lane_long_goes_to_the_slow_lane(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads inside the fast budget but past a tenth of it (their thread's CPU), twice in
    a row, make a shape heavy too: the fast lane's thread is for reads that finish quickly.
    The shape names the page size and count, so a heavy page of 500 leaves the same list's
    small pages alone."""
    weighed: list[tuple[Any, float]] = []
    app = create_app(Settings(database_url=scale_url, inline_budget_ms=0))
    with TestClient(app) as client:
        lanes = app.state.nodes.primary.lanes
        weigh = lanes.weigh

        def recorded(shape: Any, seconds: float) -> None:
            weighed.append((shape, seconds))
            weigh(shape, seconds)

        monkeypatch.setattr(lanes, "weigh", recorded)
        assert client.get(f"{API}/metrics?limit=3&sort=id").status_code == 200
        small = ("/metrics", (), "id", 3, False)
        assert [s for s, _ in weighed] == [small]
        assert weighed[0][1] > 0
        assert lanes.first_lane(small) is lanes.fast  # a few rows: quick
        lanes.weigh(small, lanes.fast.budget / 10 * 0.9)
        assert lanes.first_lane(small) is lanes.fast
        large = ("/metrics", (), "id", 500, False)
        heavy = lanes.fast.budget / 10
        lanes.weigh(large, heavy)
        assert lanes.first_lane(large) is lanes.fast  # once may be a compile or a collection
        lanes.weigh(large, 0.0)
        lanes.weigh(large, heavy)
        assert lanes.first_lane(large) is lanes.fast  # a quick read in between clears it
        lanes.weigh(large, heavy)
        assert lanes.first_lane(large) is lanes.slow  # twice in a row
        assert lanes.first_lane(small) is lanes.fast  # the small pages stay
        assert lanes.first_lane(("/metrics", (), "id", 500, True)) is lanes.fast
        again = client.get(f"{API}/metrics?limit=500&sort=id")
        assert again.status_code == 200
        assert len(again.json()["data"]) == 500


def test_an_overrun_leaves_nothing_holding_the_database(loaded_url: str) -> None:
    """A statement stopped mid-read lives on in its traceback's frames until the cyclic
    collector runs; on SQLite it held the file's read lock, and a load failed ("database is
    locked") behind an idle server. With the collector off, a writer commits at once."""
    settings = Settings(database_url=loaded_url, fast_budget_ms=1, query_budget_ms=60_000)
    writer = build_engine(loaded_url)
    gc.disable()
    try:
        with TestClient(create_app(settings)) as client:
            for slug in ("gansu", "fujian", "anhui", "hubei"):  # many children: overruns
                assert client.get(f"{API}/places/{slug}").status_code == 200
            with writer.begin() as connection:
                connection.execute(text("CREATE TABLE overrun_probe (x INTEGER)"))
                connection.execute(text("DROP TABLE overrun_probe"))
    finally:
        gc.enable()
        writer.dispose()


def test_plans_agree_with_a_plain_filter_on_scale_data(scale_url: str) -> None:
    """Every access path (ordered, driven, walk) returns the rows a plain filter of the
    whole table gives, in the same order, across pages; each case takes the path it names."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}  # in id order
        first, second = (c["slug"] for c in walk(client, f"{API}/cities?limit=2&sort=slug")[:2])
        cases: dict[str, tuple[PlanKind, Any, Any]] = {
            "indicator=synthetic_003&year=2005&sort=-value": (
                PlanKind.ORDERED,
                lambda m: m["indicator"]["code"] == "synthetic_003" and m["period"]["year"] == 2005,
                lambda m: (-m["value"], -position[m["key"]]),
            ),
            f"place__in={first},{second}&sort=-period_end": (
                PlanKind.DRIVEN,
                lambda m: m["place"]["slug"] in (first, second),
                lambda m: (m["period"]["end"] is None, descending_day(m["period"]["end"]),
                           -position[m["key"]]),
            ),
            "value__gt=0&year__gte=2005&sort=key": (
                PlanKind.WALK,
                lambda m: m["value"] > 0 and m["period"]["year"] >= 2005,
                lambda m: m["key"],
            ),
        }  # fmt: skip
        for query, (kind, kept, order) in cases.items():
            with recording() as ran:
                got = [m["key"] for m in walk(client, f"{API}/metrics?limit=37&{query}")]
            expected = [m["key"] for m in sorted(filter(kept, everything), key=order)]
            assert expected, query
            assert got == expected, query
            kinds = {
                r.shape[3][0]
                for r in ran
                if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)
            }
            assert kind in kinds, (query, kinds)


def test_a_sort_of_two_keys_walks_the_index_its_equalities_narrow(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`latest=true&sort=-period_end,year` with every probe past its cap (as at 3M rows):
    the latest rows' period_end index is read, not every row's testing `latest` one by one
    (1 s, refused, at 3M rows), one run of equal period ends at a time, in which the year
    is one (app.query.runs). The rows are those the filter gives, in order, across pages."""
    query = "latest=true&sort=-period_end,year"
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        position = {m["key"]: i for i, m in enumerate(walk(client, f"{API}/metrics?limit=500"
                                                                   "&sort=id"))}  # fmt: skip
        latest = walk(client, f"{API}/metrics?limit=500&latest=true&sort=id")
        monkeypatch.setattr(plan, "PROBE_CAP", 50)
        monkeypatch.setattr(counts, "PROBE_CAP", 50)
        with recording() as ran:
            got = [m["key"] for m in walk(client, f"{API}/metrics?limit=37&{query}")]
    expected = sorted(
        latest,
        key=lambda m: (descending_day(m["period"]["end"]), m["period"]["year"], position[m["key"]]),
    )
    assert len(expected) > 50
    assert got == [m["key"] for m in expected]
    walks = {r.shape[3][:2] for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)}
    assert (PlanKind.ORDERED, "ix_observation_latest_period_end_id") in walks, walks
    assert (PlanKind.WALK, "ix_observation_period_end_id") not in walks, walks  # the last
    # pages may be driven instead: the cursor's bound leaves a range small enough to probe


def test_a_year_filter_bounds_a_walk_of_period_end(scale_url: str) -> None:
    """`year` implies a range of period ends (a fact's year is the year its period ends): a
    page sorted by period end walks that range of its index only, and the rows are those
    the year alone gives."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        kinds: dict[str, set[PlanKind]] = {}
        first = {  # the first period end each case's year filter allows
            "year__gte=2002&sort=-period_end": date(2002, 1, 1),
            "year__in=2003,2009&sort=period_end": date(2003, 1, 1),
            "year=2004&sort=period_end": date(2004, 1, 1),
        }
        cases: dict[str, Callable[[dict[str, Any]], bool]] = {
            "year__gte=2002&sort=-period_end": lambda m: m["period"]["year"] >= 2002,
            "year__in=2003,2009&sort=period_end": lambda m: m["period"]["year"] in (2003, 2009),
            "year=2004&sort=period_end": lambda m: m["period"]["year"] == 2004,
        }
        for query, kept in cases.items():
            descending = "-period_end" in query
            with recording() as ran:
                got = [m["key"] for m in walk(client, f"{API}/metrics?limit=497&{query}")]
            expected = sorted(
                (m for m in everything if kept(m)),
                key=lambda m: (m["period"]["end"], position[m["key"]]), reverse=descending,
            )  # fmt: skip
            assert got == [m["key"] for m in expected], query
            ids = [r.shape for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)]
            assert ids, query
            bound = [r.parameters for r in ran if r.shape in ids]
            assert all(first[query] in _values(p) for p in bound), query
            kinds[query] = {shape[3][0] for shape in ids if isinstance(shape, tuple)}
    # more rows than a probe reads: the period_end index is walked, within the range
    assert PlanKind.WALK in kinds["year__gte=2002&sort=-period_end"]


def test_a_driven_page_reads_the_index_its_plan_names(scale_url: str, backend: Backend) -> None:
    """A few cities of every indicator but one: two indexes serve both sets, (place,
    indicator, year) and (indicator, year, place). The plan drives the first (the cities'
    rows); SQLite's own estimates took the second at 3M rows, reading every row of 39
    indicators (491 ms, against 3 ms). Its statements are held to the plan's index there;
    on both engines the rows are those the filters give, in order."""
    cities = ",".join(f"synth-city-{n:05d}" for n in (3, 61, 94, 129, 192))
    query = f"city__in={cities}&indicator__ne=synthetic_007&category=synthetic"
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        with recording() as ran:
            got = [m["key"] for m in walk(client, f"{API}/metrics?limit=97&sort=period_end,-id"
                                                  f"&{query}")]  # fmt: skip
    kept = [m for m in everything if m["place"]["slug"] in cities.split(",")
            and m["indicator"]["code"] != "synthetic_007"]  # fmt: skip
    expected = sorted(kept, key=lambda m: (m["period"]["end"] is None, m["period"]["end"] or "",
                                           -position[m["key"]]))  # fmt: skip
    assert len(expected) > 97
    assert got == [m["key"] for m in expected]
    path = (PlanKind.DRIVEN, "ix_observation_place_indicator_year")
    driven = [r for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)
              and r.shape[3][:2] == path]  # fmt: skip
    assert driven
    if backend.name != "sqlite":
        return
    for statement in driven:
        assert "INDEXED BY ix_observation_place_indicator_year" in statement.sql
    for used in sqlite_plans(scale_url, driven):
        assert "USING INDEX ix_observation_place_indicator_year" in used or (
            "USING COVERING INDEX ix_observation_place_indicator_year" in used
        ), used


@pytest.mark.parametrize(
    ("query", "index"),
    [("sort=-value&value__ne=", "ix_observation_value_id"),
     ("sort=period_end&year__gte=2006&within__in=synth-province-02,synth-province-05",
      "ix_observation_period_end_id")],
    ids=["ne-on-the-sort-key", "a-range-on-the-sort-key"],
)  # fmt: skip
def test_a_walk_reads_its_own_index_in_order(
    scale_url: str, backend: Backend, monkeypatch: pytest.MonkeyPatch, query: str, index: str
) -> None:
    """A walk (every probe past its cap, as at 3M rows) is held to its index on SQLite, and
    only the terms that narrow it are marked selective. At 3M rows SQLite otherwise read
    another index holding the sort key and sorted: told that `value != ?` was selective, it
    sorted nearly the whole table (337 ms; refused at the 1 s budget beside three indicators
    and a province); with `period_end >= ?` it read (period_end, value, id) and sorted each
    period end's rows by id (303 ms against 2.6 ms). The rows are those the filters give."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        excluded = everything[0]["value"]
        provinces = {"synth-province-02", "synth-province-05"}
        cities = {c["slug"] for p in provinces
                  for c in walk(client, f"{API}/cities?limit=500&province={p}")}  # fmt: skip
        monkeypatch.setattr(plan, "PROBE_CAP", 50)
        monkeypatch.setattr(counts, "PROBE_CAP", 50)
        ANSWERS.clear()
        url = f"{API}/metrics?limit=211&{query}" + (str(excluded) if query.endswith("=") else "")
        with recording() as ran:
            got = [m["key"] for m in walk(client, url)]
        ANSWERS.clear()
    if "value__ne" in query:
        kept = [m for m in everything if m["value"] != excluded]
        expected = sorted(kept, key=lambda m: (-m["value"], -position[m["key"]]))
    else:
        kept = [m for m in everything if m["period"]["year"] >= 2006 and m["place"]
                and m["place"]["slug"] in cities]  # fmt: skip
        expected = sorted(kept, key=lambda m: (m["period"]["end"], position[m["key"]]))
    assert 211 < len(expected) < len(everything)
    assert got == [m["key"] for m in expected]
    walks = [r for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)
             and r.shape[3][:2] == (PlanKind.WALK, index)]  # fmt: skip
    assert walks
    if backend.name != "sqlite":
        return
    for statement in walks:
        assert f"INDEXED BY {index}" in statement.sql, statement.sql
        assert "likelihood(observation.value !=" not in statement.sql, statement.sql
    for used in sqlite_plans(scale_url, walks):
        assert f"INDEX {index}" in used, used
        assert "B-TREE FOR" not in used.split("SCAN page")[0], used


def _values(parameters: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
    return list(parameters.values() if isinstance(parameters, dict) else parameters)


def test_a_cursor_signed_with_the_key_but_not_issued_is_refused(client: TestClient) -> None:
    """Even with the signing key (leaked, say), a cursor whose values do not fit the sort is
    a 400, not a 500 or a query with wrong types."""
    from starlette.datastructures import QueryParams

    from app.api.metrics import METRIC_SPEC
    from app.query import parse_query
    from app.query.cursors import encode_cursor

    secret: str = client.app.state.cursor_secret  # type: ignore[attr-defined]
    for sort, values in (("year", [2020]), ("period_end", [5, 1]), ("value", [{"a": 1}, 1]),
                         ("year", ["x", 1]), ("id", [None, None])):  # fmt: skip
        query = parse_query(
            METRIC_SPEC, QueryParams(f"sort={sort}"), secret=secret, path=f"{API}/metrics"
        )
        cursor = encode_cursor(METRIC_SPEC, query, values, secret, "unversioned")
        response = client.get(f"{API}/metrics", params={"sort": sort, "cursor": cursor})
        assert response.status_code == 400, (sort, values, response.text)
        assert response.json()["type"] == "/problems/invalid-cursor"


def test_a_nullable_column_sorts_nulls_last_across_pages_on_every_list(client: TestClient) -> None:
    for url in (f"{API}/sources?sort=-title", f"{API}/sources?sort=title"):
        whole = walk(client, f"{url}&limit=500")
        assert [s["id"] for s in walk(client, f"{url}&limit=2")] == [s["id"] for s in whole]
        titles = [s["title"] for s in whole]
        assert None in titles
        assert titles.index(None) == len([t for t in titles if t is not None])


# The benchmark's six queries (bench/queries.py) on the scale data, and the statements
# each runs once the worker has seen its shape: the dataset version, then the page, its ids
# and rows in one statement from the shape's second request on (two phases for a sort key
# that can be null). What cannot
# change within a version (a relation filter's ids, a probe's count, a total) is read once
# (app.query.memo); more statements here is a regression of every list request. The same
# on both engines (on PostgreSQL the page's ids first in the join: app.query.execute).
STATEMENTS_PER_REQUEST = {
    "metrics?indicator=synthetic_003&year=2005&sort=-value&limit=50": 2,  # q1
    "metrics?city=synth-city-00008&indicator=synthetic_003&sort=year&limit=50": 4,  # q2
    "cities?province=synth-province-02&limit=50": 2,  # q4
    "metrics?indicator=synthetic_003&year=2005&sort=-value&limit=50&count=true": 2,  # q6
}


def _ran(client: TestClient, url: str) -> list[Any]:
    with recording() as ran:
        response = client.get(url)
    assert response.status_code == 200, response.text
    return ran


def test_a_repeated_shape_reads_only_its_version_and_its_page(scale_url: str) -> None:
    ANSWERS.clear()  # other tests here read the same database and version
    # An inline read past its budget is read again in the fast lane (its statements twice);
    # the budget is made wide so that a loaded machine cannot make the count vary.
    settings = Settings(database_url=scale_url, inline_budget_ms=60_000)
    with TestClient(create_app(settings)) as client:
        for query, expected in STATEMENTS_PER_REQUEST.items():
            first = _ran(client, f"{API}/{query}")
            again = _ran(client, f"{API}/{query}")
            assert len(again) == expected, (query, [r.shape for r in again])
            assert len(first) > expected, query  # the memo, not the query, saves them
        key = client.get(f"{API}/metrics?limit=1").json()["data"][0]["key"]
        assert len(_ran(client, f"{API}/metrics/{key}")) == 2  # q3: version, row by key
        page = client.get(f"{API}/metrics?limit=50").json()
        _ran(client, page["links"]["next"])
        assert len(_ran(client, page["links"]["next"])) == 2  # q5: version, page


def test_a_read_ends_in_a_commit_that_keeps_its_prepared_statements(
    loaded_url: str, backend: Backend
) -> None:
    """A read's transaction ends with COMMIT (app.query.snapshot.close_snapshot), a 404's
    as much as a page's: psycopg forgets what it prepared on a connection that rolls back,
    so PostgreSQL parsed and analysed each statement again. Read often enough (psycopg
    prepares on the sixth execution on a connection), the row by key is a statement the
    server holds prepared, and keys that name nothing do not make it forget."""
    if backend.name == "sqlite":
        pytest.skip("prepared statements are psycopg's and PostgreSQL's")
    with TestClient(create_app(Settings(database_url=loaded_url))) as client:
        key = client.get(f"{API}/metrics?limit=1").json()["data"][0]["key"]
        for _ in range(40):  # six or more on each connection the lane may have lent
            assert client.get(f"{API}/metrics/{key}").status_code == 200
        for n in range(5):
            assert client.get(f"{API}/metrics/no-such-key-{n}").status_code == 404
        engine = client.app.state.nodes.primary.lanes.fast.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            held = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
            statements = [str(row[0]) for row in held]
    assert any("WHERE observation.key = $" in s for s in statements), statements


def test_remembered_answers_follow_the_version(scale_url: str) -> None:
    """A new version reads again: the memo is keyed by the snapshot's version."""
    url = f"{API}/metrics?indicator=synthetic_003&year=2005&sort=-value&limit=5&count=true"
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        before = client.get(url).json()["meta"]["total"]
        assert len(_ran(client, url)) == 2  # version, page
        engine = build_engine(scale_url)
        try:
            with engine.begin() as connection:
                old = connection.execute(text("SELECT version FROM dataset_version")).scalar()
                connection.execute(text("UPDATE dataset_version SET version = 'f00d' || version"))
            ran = _ran(client, url)
            assert len(ran) > 2
            assert client.get(url).json()["meta"]["total"] == before
        finally:
            with engine.begin() as connection:
                connection.execute(text("UPDATE dataset_version SET version = :v"), {"v": old})
            engine.dispose()
