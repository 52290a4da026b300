"""Conflicting facts, over HTTP on both engines: both served, each naming the other, and one
rule picking between them for latest values, rankings and series.

The seeds hold no conflict (every pair of values of one subject, indicator and known
period agrees), so these tests add to a fresh copy of them what a second source would
bring: another count of Daye's high-tech enterprises in 2023 from an undated source, a
derived Hunan share for 2018 beside the stated one, and a tie for Huangshi.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from app.config import Settings
from app.db import build_engine
from app.facts.conflicts import mark_conflicts
from app.facts.latest import mark_latest
from app.main import create_app
from app.models import tables as t
from tests.api.answers import API, false_side, get
from tests.api.test_place_standings import both_ways
from tests.conftest import Backend, load_seeds

DAYE = "daye-high-tech-enterprises-2023"
OTHER = "daye-high-tech-enterprises-2023-other-count"
HUNAN = "hunan-private-trade-share-2018"
HUNAN_DERIVED = "hunan-private-trade-share-2018-recomputed"


def _copy(connection: Any, original: str, **changes: Any) -> None:
    o = t.observation
    row = dict(connection.execute(select(o).where(o.c.key == original)).mappings().one())
    del row["id"]
    connection.execute(insert(o).values({**row, **changes}))


@pytest.fixture(scope="module")
def conflicted(backend: Backend) -> Iterator[TestClient]:
    url = backend.new_database()
    load_seeds(url)
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            _copy(connection, DAYE, key=OTHER, value=330.0, stated="330",
                  source_id="chinadaily-undated-changzhi")  # fmt: skip
            _copy(connection, HUNAN, key=HUNAN_DERIVED, value=68.0, stated=None, derived=True,
                  qualifier="approximate", locator_start=None, locator_end=None, quote=None,
                  formula="{hunan-private-trade-share-2017} + 1")  # fmt: skip
            huangshi = connection.execute(
                select(t.place.c.id).where(t.place.c.slug == "huangshi")
            ).scalar_one()
            _copy(connection, DAYE, key="huangshi-high-tech-enterprises-2023", place_id=huangshi)
            mark_conflicts(connection)  # as the loader does after writing
            mark_latest(connection)
    finally:
        engine.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        yield client


def test_the_seeds_hold_no_conflict(client: TestClient) -> None:
    """Changzhi's 224 and 264 are both undated (start and end of an unnamed year): no
    conflict is claimed between facts whose period is unknown."""
    assert get(client, "/metrics?conflict=true")["data"] == []
    body = get(client, "/metrics?place=changzhi&indicator=high_tech_enterprises")
    assert [m["conflicts_with"] for m in body["data"]] == [[], []]


def test_both_values_are_served_naming_each_other(conflicted: TestClient) -> None:
    body = get(conflicted, "/metrics?conflict=true&sort=key")
    pairs = [(m["key"], m["value"], m["conflicts_with"]) for m in body["data"]]
    assert pairs == [
        (DAYE, 333, [OTHER]),
        (OTHER, 330, [DAYE]),
        (HUNAN, 68.1, [HUNAN_DERIVED]),
        (HUNAN_DERIVED, 68, [HUNAN]),
    ]
    # Agreeing values (Huangshi's 333 is another place) are not conflicts.
    assert get(conflicted, "/metrics/huangshi-high-tech-enterprises-2023")["conflicts_with"] == []
    detail = get(conflicted, f"/metrics/{OTHER}")
    assert detail["conflicts_with"] == [DAYE]


def test_latest_picks_the_newer_source_and_the_stated_value(conflicted: TestClient) -> None:
    daye = get(conflicted, "/metrics?latest=true&place=daye&indicator=high_tech_enterprises")
    assert [m["key"] for m in daye["data"]] == [DAYE]  # dated source beats the undated one
    hunan = get(conflicted, "/metrics?latest=true&place=hunan"
                "&indicator=private_enterprise_trade_share")  # fmt: skip
    assert [m["key"] for m in hunan["data"]] == [HUNAN]  # stated beats derived


def test_rankings_pick_by_the_rule_and_share_ties(conflicted: TestClient) -> None:
    body = get(conflicted, "/rankings?indicator=high_tech_enterprises&year=2023"
               "&peers=province:hubei")  # fmt: skip
    entries = [(e["rank"], e["percentile"], e["place"]["slug"], e["key"]) for e in body["data"]]
    assert entries == [
        (1, 0.0, "daye", DAYE),
        (1, 0.0, "huangshi", "huangshi-high-tech-enterprises-2023"),
    ]
    assert body["data"][0]["conflicts_with"] == [OTHER]
    assert body["meta"]["peers"]["size"] == 2


def test_series_marks_the_point_the_rule_does_not_pick(conflicted: TestClient) -> None:
    body = get(conflicted, "/series?indicator=high_tech_enterprises&places=daye")
    points = {p["key"]: p for p in body["data"][0]["points"]}
    assert points[DAYE]["preferred"] is True
    assert points[OTHER]["preferred"] is False
    assert points[OTHER]["conflicts_with"] == [DAYE]
    derived_only = get(conflicted, "/series?indicator=private_enterprise_trade_share"
                       "&places=hunan&derived=true")  # fmt: skip
    flags = {p["key"]: p["preferred"] for p in derived_only["data"][0]["points"]}
    # The stated 68.1 is filtered out here, but still beats its derived twin.
    assert flags == {"hunan-private-trade-share-2017": True, HUNAN_DERIVED: False}


def test_comparisons_say_when_an_input_is_contested(conflicted: TestClient) -> None:
    body = get(conflicted, "/comparisons?indicator=private_enterprise_trade_share"
               "&subject=place:hunan&from=2017&to=2018")  # fmt: skip
    assert body["data"]["to"]["key"] == HUNAN
    assert body["data"]["to"]["conflicts_with"] == [HUNAN_DERIVED]


def test_conflict_filter_and_facet(conflicted: TestClient) -> None:
    body = get(conflicted, "/metrics?indicator=high_tech_enterprises&facets=conflict&limit=1")
    values = body["meta"]["facets"]["counts"]["conflict"]["values"]
    # Daye's two counts are contested; Changzhi's two (undated) and Huangshi's are not.
    assert {v["value"]: v["count"] for v in values} == {True: 2, False: 3}
    assert false_side(conflicted, "conflict", "indicator=high_tech_enterprises") == [
        "changzhi-high-tech-enterprises",
        "changzhi-high-tech-enterprises-before",
        "huangshi-high-tech-enterprises-2023",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/places/daye/rankings?year=2023&peers=nationwide",
        "/places/huangshi/rankings?year=2023&peers=province:hubei",
        "/places/daye/rankings?year=2023&peers=nationwide,same_period",
        "/places/hunan/rankings?year=2018&peers=nationwide",
        "/places/hunan/rankings?year=2018",
        "/places/daye/rankings?peers=nationwide",
    ],
)
def test_standings_count_each_place_once_where_it_has_two_facts_of_the_year(
    conflicted: TestClient, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """Counting every fact of the year would count Daye twice: its standings are counted
    again with each place's fact picked, and answer what ranking every peer answers. Daye
    and Huangshi, each the only peer of its level, tie on 333: the group's level is the
    one whose place comes first by slug, as in the ranking."""
    counted, ranked = both_ways(conflicted, monkeypatch, API + url)
    assert counted == ranked
    assert b'"rank"' in counted
