"""Pages sorted by a few-valued key (a year, a period end) and then another, read one run of
equal values at a time (app.query.runs), on both engines: the rows are those a plain
filter and sort of the whole list give, across pages, whichever way each run is read."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.query import counts, plan, runs
from app.query.memo import ANSWERS
from app.query.plan import PlanKind
from app.query.statements import recording
from tests.api.answers import API, descending_day, sqlite_plans, walk
from tests.conftest import Backend

Item = dict[str, Any]


@pytest.fixture
def every_probe_past_its_cap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plans as at 3M rows: no probe finds few rows, so pages walk an index."""
    ANSWERS.clear()  # probes remembered under the real cap would decide otherwise
    monkeypatch.setattr(plan, "PROBE_CAP", 50)
    monkeypatch.setattr(counts, "PROBE_CAP", 50)
    yield
    ANSWERS.clear()


def _shapes(ran: list[Any], kind: str) -> list[Any]:
    return [r.shape for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == (kind,)]


def _by_runs(ran: list[Any]) -> bool:
    """Whether a statement read one run (its equality's bind names are the runs' own; the
    seek for the next run may be remembered from an earlier page)."""
    return any("'trun_year_0'" in str(r.shape) or "'run_period_end'" in str(r.shape) for r in ran)


def _check(
    client: TestClient,
    query: str,
    kept: Callable[[Item], bool],
    order: Callable[[Item], Any],
    everything: list[Item],
    limit: int = 173,
) -> list[Any]:
    """The list read `limit` at a time equals the plain filter and sort (a year's run is
    2,400 rows: most pages lie inside one run, some span two); the statements it ran."""
    with recording() as ran:
        got = [m["key"] for m in walk(client, f"{API}/metrics?limit={limit}&{query}")]
    expected = [m["key"] for m in sorted(filter(kept, everything), key=order)]
    assert len(expected) > limit, query
    assert got == expected, query
    assert _by_runs(ran), query
    return ran


def test_runs_read_the_rows_a_plain_sort_gives(
    scale_url: str, every_probe_past_its_cap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each way a run is read: a bounded walk of the next key's index (`-year,key`), the
    run's own index range (`-year,id`, whose mixed directions no walk gives), runs nested
    in runs (`year,-period_end`), a key the run fixes (`-period_end,year`), and filters that
    keep too few of a run's rows for a bounded walk, read sorted from that run on. Only
    the years from 2009, in pages of 37 that walk 152 rows of a run: a year's run (2,400
    rows of 28,800) is worth walking then."""
    monkeypatch.setattr(runs, "SCAN_AT_LEAST", 8)
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        province = client.get(f"{API}/places?level=province&limit=1&sort=slug").json()["data"][0][
            "slug"
        ]
        in_province = {
            c["slug"] for c in walk(client, f"{API}/cities?limit=500&province={province}")
        }

        def year(m: Item) -> int:
            return int(m["period"]["year"])

        cases: dict[str, tuple[Callable[[Item], bool], Callable[[Item], Any]]] = {
            "Q&sort=-year,key": (lambda m: True, lambda m: (-year(m), m["key"])),
            "sort=-year,id": (lambda m: True, lambda m: (-year(m), position[m["key"]])),
            "sort=year,-period_end": (
                lambda m: True,
                lambda m: (year(m), descending_day(m["period"]["end"]), -position[m["key"]]),
            ),
            "sort=-period_end,year": (
                lambda m: True,
                lambda m: (descending_day(m["period"]["end"]), year(m), position[m["key"]]),
            ),
            f"province={province}&sort=-period_end,key": (
                lambda m: m["place"]["slug"] in in_province,
                lambda m: (descending_day(m["period"]["end"]), m["key"]),
            ),
        }
        walked, sorted_from_a_run = {}, {}
        for query, (kept, order) in cases.items():
            recent = [m for m in everything if year(m) >= 2009]
            url = query.replace("Q&", "qualifier__ne=up_to&")
            ran = _check(client, f"year__gte=2009&{url}", kept, order, recent, limit=37)
            walked[query] = bool(_shapes(ran, "run-walk"))
            sorted_from_a_run[query] = any(s[3][0] is PlanKind.WALK for s in _shapes(ran, "ids"))
    assert walked["Q&sort=-year,key"]  # every row kept
    assert not sorted_from_a_run["Q&sort=-year,key"]
    assert not walked["sort=-year,id"]  # the run's own index serves it
    assert sorted_from_a_run[f"province={province}&sort=-period_end,key"]  # a sixth of a run


def test_a_run_too_small_to_walk_is_sorted(scale_url: str, every_probe_past_its_cap: None) -> None:
    """A page of 173 would walk 696 rows of a run, past sqrt(696 x 28,800) = 4,477 index
    entries: more than the 2,400 rows of a year a sort reads, so the run is sorted."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client, recording() as ran:
        response = client.get(f"{API}/metrics?limit=173&qualifier__ne=up_to&sort=-year,key")
    assert response.status_code == 200
    assert not _shapes(ran, "run-walk")
    assert any(s[3][0] is PlanKind.WALK for s in _shapes(ran, "ids"))


def test_a_runs_size_is_counted_on_its_own_equality(
    scale_url: str, every_probe_past_its_cap: None, backend: Backend
) -> None:
    """Whether a run is worth walking counts its rows up to sqrt(scan x table): on the run's
    year alone, which the year's index answers without the table. Counted with the range
    of period ends the year implies as well, SQLite read each of those rows from the table
    to test it (70-270 ms a run at 3M rows, against 7 ms). Here a year is 2,400 rows, too
    few to walk, so the count decides that the run is sorted."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client, recording() as ran:
        response = client.get(f"{API}/metrics?limit=7&qualifier__ne=up_to&sort=-year,key")
    assert response.status_code == 200
    assert not _shapes(ran, "run-walk")  # too few rows to walk: the count said so
    sized = [r for r in ran if isinstance(r.shape, tuple) and r.shape[:1] == ("count",)
             and "'trun_year_0'" in str(r.shape)]  # fmt: skip
    assert sized
    for statement in sized:
        assert "'implied'" not in str(statement.shape), statement.shape
    if backend.name != "sqlite":
        return
    for used in sqlite_plans(scale_url, sized):
        assert "USING COVERING INDEX" in used, used


def test_a_year_or_period_end_then_the_value_is_one_index_range(
    scale_url: str, every_probe_past_its_cap: None
) -> None:
    """`sort=year,-value` and `sort=-period_end,value` (migration 0019): the value follows
    the first key in one index, so a page is that index read in order, in either direction
    of each key, testing the filters row by row: no run is walked or sorted (at 3M rows, a
    run's sort or walk took 0.24-0.36 s a page; these 15-73 ms)."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        city = everything[0]["place"]["slug"]
        cases: dict[str, tuple[Callable[[Item], bool], Callable[[Item], Any], str]] = {
            "sort=year,-value": (
                lambda m: True,
                lambda m: (_year(m), -m["value"], -position[m["key"]]),
                "ix_observation_year_value_id",
            ),
            f"city__ne={city}&sort=-period_end,value": (
                lambda m: m["place"]["slug"] != city,
                lambda m: (descending_day(m["period"]["end"]), m["value"], position[m["key"]]),
                "ix_observation_period_end_value_id",
            ),
        }
        for query, (kept, order, index) in cases.items():
            with recording() as ran:
                got = [m["key"] for m in walk(client, f"{API}/metrics?limit=211&{query}")]
            expected = [m["key"] for m in sorted(filter(kept, everything), key=order)]
            assert got == expected, query
            paths = {s[3][:2] for s in _shapes(ran, "ids")}
            assert (PlanKind.ORDERED, index) in paths, (query, paths)
            assert not _shapes(ran, "run-walk"), query


def test_a_period_ends_run_is_driven_by_the_year_it_holds(
    scale_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of one period end holds one year (`determines`), so the run also fixes the
    year, and a small province's rows of that run are found on an index the year leads
    into (`(place_id, indicator_id, year)`): a few hundred rows read and sorted. Without
    the year no index narrows them, and the run's `(period_end, value)` range was walked
    past every other province's rows (64-87 ms a page for a small province at 3M rows). A
    large province's run is still walked (plan.DRIVEN_ROW), without the year. Here a run
    holds 2,400 rows, a probe stops at 1,000, and a province keeps 200-840 of a run."""
    ANSWERS.clear()
    monkeypatch.setattr(plan, "PROBE_CAP", 1_000)
    monkeypatch.setattr(counts, "PROBE_CAP", 1_000)
    try:
        with TestClient(create_app(Settings(database_url=scale_url))) as client:
            everything = walk(client, f"{API}/metrics?limit=500&sort=id")
            position = {m["key"]: i for i, m in enumerate(everything)}
            provinces = walk(client, f"{API}/places?level=province&limit=100&sort=slug")
            read = {}
            for province in (provinces[-1]["slug"], provinces[0]["slug"]):  # fewest, most
                cities = walk(client, f"{API}/cities?limit=500&province={province}")
                query = f"province={province}&category=synthetic&sort=-period_end,value"
                with recording() as ran:
                    got = [m["key"] for m in walk(client, f"{API}/metrics?limit=97&{query}")]
                kept = [m for m in everything if m["place"]["slug"] in {c["slug"] for c in cities}]
                expected = sorted(kept, key=lambda m: (descending_day(m["period"]["end"]),
                                                       m["value"], position[m["key"]]))  # fmt: skip
                assert len(expected) > 97
                assert got == [m["key"] for m in expected]
                read[province] = [s for s in _shapes(ran, "ids") if "'run_period_end'" in str(s)]
    finally:
        ANSWERS.clear()
    small, large = read[provinces[-1]["slug"]], read[provinces[0]["slug"]]
    # a page's first run wants a whole page: driven; a run that ends a page wants few
    # rows, which a short walk finds (and a cursor may narrow another index)
    driven = [s for s in small if s[3][0] is PlanKind.DRIVEN]
    assert driven, small
    for shape in driven:
        assert "year" in shape[3][2], shape
        assert "'run_period_end_year'" in str(shape), shape
    first = large[0]  # the first page's: a later page's cursor may narrow another index
    assert first[3][:2] == (PlanKind.ORDERED, "ix_observation_period_end_value_id"), first
    assert "'run_period_end_year'" not in str(first), first  # dropped: nothing reads by it


def test_a_runs_equality_is_the_index_s_not_a_range_on_the_same_column(
    scale_url: str, every_probe_past_its_cap: None, backend: Backend
) -> None:
    """`year__lte=…&sort=-period_end,-value`: each run fixes the period end, and the year
    filter implies a range of period ends. Both on one index column, SQLite took the range
    and sorted all of it (0.85 s at 3M rows, against 10 ms); the range is tested row by row
    instead, and the rows are those a plain filter and sort give."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        with recording() as ran:
            got = [m["key"] for m in walk(client, f"{API}/metrics?limit=53&year__lte=2006"
                                                  "&sort=-period_end,-value")]  # fmt: skip
    kept = [m for m in everything if _year(m) <= 2006]
    expected = sorted(
        kept, key=lambda m: (descending_day(m["period"]["end"]), -m["value"], -position[m["key"]])
    )
    assert got == [m["key"] for m in expected]
    runs_read = [r for r in ran if isinstance(r.shape, tuple) and r.shape[1:2] == ("ids",)
                 and "'run_period_end'" in str(r.shape)]  # fmt: skip
    assert runs_read
    if backend.name == "sqlite":
        for statement in runs_read:
            assert "likelihood(observation.period_end = ?" in statement.sql, statement.sql
            assert "likelihood(observation.period_end <=" not in statement.sql, statement.sql


def test_a_page_past_its_runs_reads_the_rest_in_one_statement(
    scale_url: str, every_probe_past_its_cap: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city keeps a dozen rows of a year's run: a page of 37 spans several runs, and past
    MAX_RUNS (one, here) the rest of it is read sorted in one statement; nothing is lost
    or repeated across pages."""
    monkeypatch.setattr(runs, "MAX_RUNS", 1)
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        city = everything[0]["place"]["slug"]
        _check(
            client,
            f"city={city}&sort=-year,id",
            lambda m: m["place"]["slug"] == city,
            lambda m: (-int(m["period"]["year"]), position[m["key"]]),
            everything,
            limit=37,
        )


def _year(m: Item) -> int:
    return m["period"]["year"] or 0


SEED_ORDERS: dict[str, Callable[[Item, int], Any]] = {  # the item and its place in id order
    "-year,key": lambda m, at: (m["period"]["year"] is None, -_year(m), m["key"]),
    "year,-id": lambda m, at: (m["period"]["year"] is None, _year(m), -at),
    "-period_end,year": lambda m, at: (
        m["period"]["end"] is None,
        descending_day(m["period"]["end"]),
        _year(m),
        at,
    ),
    "year,-value": lambda m, at: (m["period"]["year"] is None, _year(m), -m["value"], -at),
    "period_end,year,key": lambda m, at: (
        m["period"]["end"] is None,
        m["period"]["end"] or "",
        _year(m),
        m["key"],
    ),
}


@pytest.mark.parametrize("sort", sorted(SEED_ORDERS))
def test_runs_put_rows_without_a_value_last(
    client: TestClient, every_probe_past_its_cap: None, monkeypatch: pytest.MonkeyPatch, sort: str
) -> None:
    """On the seed data, where some facts have no period, with every plan a walk (no probe
    below one row), three at a time: the runs come first, then the rows without a year or
    period end, and the cursors cross from one to the other."""
    monkeypatch.setattr(plan, "PROBE_CAP", 1)
    monkeypatch.setattr(counts, "PROBE_CAP", 1)
    everything = walk(client, f"{API}/metrics?limit=500&sort=id")
    order = SEED_ORDERS[sort]
    expected = [
        m["key"] for at, m in sorted(enumerate(everything), key=lambda p: order(p[1], p[0]))
    ]
    assert any(m["period"]["year"] is None for m in everything)
    with recording() as ran:
        got = [m["key"] for m in walk(client, f"{API}/metrics?limit=3&sort={sort}")]
    assert got == expected
    assert _by_runs(ran)


def test_a_facts_year_is_the_year_its_period_ends(client: TestClient) -> None:
    """What runs rely on (`ListSpec.determines`, `Filter.implies`): in the seed data, a
    period end fixes the year, and a fact without one has no year."""
    for m in walk(client, f"{API}/metrics?limit=500&sort=id"):
        end, year = m["period"]["end"], m["period"]["year"]
        assert year == (None if end is None else int(end[:4])), m["key"]


def test_a_run_tests_only_what_its_year_does_not_already_hold(
    scale_url: str, every_probe_past_its_cap: None
) -> None:
    """`year__in=…&sort=-year,id`, read a year at a time: within a year's run, the year set
    and the period ends it implies hold for every row, and are not in the run's statement
    (PostgreSQL multiplied them with the run's year as if independent, and sorted a run of
    120,000 rows for 200 of them at 3M rows: 100-171 ms, against 19-42). The source filter
    is still tested. The rows are those the filters give, in order."""
    with TestClient(create_app(Settings(database_url=scale_url))) as client:
        everything = walk(client, f"{API}/metrics?limit=500&sort=id")
        position = {m["key"]: i for i, m in enumerate(everything)}
        source = everything[0]["provenance"]["source"]["id"]
        ran = _check(
            client,
            f"source={source}&year__in=2004,2007,2010&sort=-year,id",
            lambda m: m["period"]["year"] in (2004, 2007, 2010),
            lambda m: (-_year(m), position[m["key"]]),
            everything,
        )
    in_runs = [str(s) for s in _shapes(ran, "ids") if "'trun_year_0'" in str(s)]
    assert in_runs
    for shape in in_runs:
        assert "('year', 'in'" not in shape, shape
        assert shape.count("'implied'") == 1, shape  # the run's own year's period ends
        assert "source_id" in shape, shape
