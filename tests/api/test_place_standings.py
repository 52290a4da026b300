"""A place's standings counted in SQL answer exactly what ranking every peer of every
indicator answers: the same bytes for each place with facts, under every kind of peer
group, on both engines; and the group's period and level, counted by period and level,
are the ones the whole ranking finds."""

import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, create_engine, text

from app.api import standings as view
from app.api.peers import PeerGroup, peers_of
from app.api.rankings import best_first
from app.config import Settings
from app.db import build_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models.vocabulary import PlaceLevel
from app.query import standings
from app.query.memo import ANSWERS
from app.query.rankings import LEVEL_TIERS, Peer, comparability, grouped, rank
from app.query.standings import Candidates, Part, ordered_counts
from app.query.statements import recording
from app.synthetic import FIRST_YEAR, Shape, generate
from tests.conftest import Backend

API = "/api/v1"
QUERIES = [
    "",
    "?peers=nationwide",
    "?peers=same_province",
    "?peers=same_period",
    "?peers=nationwide,same_period",
    "?peers=same_province,same_period",
    "?peers=province:hubei",
    "?peers=within:shanxi,level:prefecture_city",
    "?peers=level:county_city,same_period",
    "?year=2023",
    "?year=2023&peers=nationwide",
    "?year=2022&peers=nationwide,same_period",
    "?year=2023&peers=same_province",
    "?year=2021&peers=nationwide",
]


def every_peer_ranked(
    connection: Connection,
    place: dict[str, Any],
    year: int | None,
    group: PeerGroup,
    indicators: list[Any],
) -> view.Standings:
    """The standings as they were found before they were counted: each indicator's peers
    read and ranked, the place's entry picked out."""
    standings: view.Standings = []
    for indicator in indicators:
        values = peers_of(connection, indicator["id"], year, group, place)
        ranked = rank(values, descending=best_first(indicator) == "desc")
        mine = [s for s in ranked if s.peer.place_id == place["id"]]
        if mine:
            standings.append((indicator, mine[0], len(ranked), comparability(ranked)))
    return standings


def places_with_facts(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT DISTINCT p.slug FROM place p JOIN observation o ON o.place_id = p.id"
                    " WHERE o.subject_kind = 'place' ORDER BY p.slug"
                )
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def both_ways(client: TestClient, monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[bytes, bytes]:
    """The body counted, and the body of every peer ranked."""
    counted = client.get(url)
    with monkeypatch.context() as patched:
        patched.setattr(view, "standings_of", every_peer_ranked)
        ranked = client.get(url)
    assert counted.status_code == ranked.status_code, (url, counted.text, ranked.text)
    return counted.content, ranked.content


def test_counted_standings_are_the_ranked_ones(
    client: TestClient, loaded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slugs = places_with_facts(loaded_url)
    assert len(slugs) >= 3, slugs
    answered = 0
    for slug in slugs:
        for query in QUERIES:
            url = f"{API}/places/{slug}/rankings{query}"
            counted, ranked = both_ways(client, monkeypatch, url)
            assert counted == ranked, url
            answered += b'"rank"' in counted
    assert answered >= 20  # standings were compared, not only empty answers


def test_mixed_periods_and_levels_are_flagged_alike(
    client: TestClient, loaded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mixed periods and levels: changzhi (undated, a prefecture) and daye (2023, a
    county-level city) nationwide, where each stands alone in its period and level."""
    url = f"{API}/places/changzhi/rankings?peers=nationwide"
    counted, ranked = both_ways(client, monkeypatch, url)
    assert counted == ranked
    assert b"its period is unknown" in counted


def test_the_group_counted_by_period_and_level_is_the_ranked_one() -> None:
    """Many small groups of peers with tied values, periods and levels: the period and
    level counted from each part's size and best value (and, on a tie of both, the first
    slug of that value) are those the whole ranking finds."""
    generator = random.Random(20261206)
    periods = [(None, None), (date(2022, 1, 1), date(2022, 12, 31)),
               (date(2023, 1, 1), date(2023, 12, 31))]  # fmt: skip
    levels = [level.value for level in LEVEL_TIERS]
    for round_ in range(2000):
        size = generator.randint(2, 9)
        peers = [
            Peer(i, i, f"p{generator.randint(0, 99):02d}-{i}", float(generator.randint(1, 4)),
                 generator.choice(periods), generator.choice(levels))
            for i in range(size)
        ]  # fmt: skip
        descending = generator.random() < 0.5
        expected = comparability(rank(peers, descending=descending))
        sign = -1.0 if descending else 1.0
        parts: dict[tuple[Any, str], list[Peer]] = {}
        for peer in peers:
            parts.setdefault((peer.period, peer.level), []).append(peer)
        counted: list[Part] = [
            (period, level, len(group), (max if descending else min)(p.value for p in group))
            for (period, level), group in parts.items()
        ]

        def first(value: float, peers: list[Peer] = peers) -> list[tuple[Any, str, str]]:
            return [(p.period, p.level, p.slug) for p in peers if p.value == value]

        found = grouped(
            ordered_counts(counted, lambda period, _: period, sign, first),
            ordered_counts(counted, lambda _, level: LEVEL_TIERS[PlaceLevel(level)], sign, first),
        )
        assert (found.period, found.tier, found.comparable) == (
            expected.period, expected.tier, expected.comparable
        ), round_  # fmt: skip
        assert found.reason == expected.reason, round_


SYNTHETIC_QUERIES = [
    "",
    "?peers=nationwide,same_period",
    f"?year={FIRST_YEAR + 2}",
    f"?year={FIRST_YEAR + 3}&peers=nationwide",
    "?peers=same_province",
]


@pytest.fixture(scope="module")
def synthetic(backend: Backend) -> Iterator[TestClient]:
    """Synthetic data: each indicator's candidates of one period and level, in every
    group but a province's counted as ranges of the index by value."""
    url = backend.new_database()
    upgrade_to_head(url)
    engine = build_engine(url)
    generate(engine, Shape(cities=40, indicators=4, years=4, provinces=3))
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url))) as client:
        yield client


@pytest.mark.parametrize("middle", [None, -math.inf, math.inf])
def test_standings_count_either_side_of_the_place_alike(
    synthetic: TestClient, monkeypatch: pytest.MonkeyPatch, middle: float | None
) -> None:
    """A standing counts the peers above the place's value, or those below it, whichever
    side of the candidates' middle it lies on: with the middle where it is, and forced
    below and above every value, the standings are the ranked ones."""
    if middle is not None:
        read = standings._spreads

        def forced(
            connection: Connection, year: int | None, within: int | None, ids: list[int]
        ) -> Any:
            found: dict[int, Candidates] = read(connection, year, within, ids)
            return {i: replace(candidates, middle=middle) for i, candidates in found.items()}

        monkeypatch.setattr(standings, "_spreads", forced)
    for number in (1, 17, 40):
        for query in SYNTHETIC_QUERIES:
            url = f"{API}/places/synth-city-{number:05d}/rankings{query}"
            counted, ranked = both_ways(synthetic, monkeypatch, url)
            assert counted == ranked, url
            assert b'"rank"' in counted, url


def test_the_candidates_are_read_once_per_version(synthetic: TestClient) -> None:
    """Each indicator's candidates counted by period and level, and their middle, are the
    same for every place: read once for the dataset version, a second place's standings
    read only its own facts and their ranges."""
    ANSWERS.clear()
    read_once = {"standings-candidates", "standings-middle"}

    def shapes(slug: str) -> set[str]:
        with recording() as ran:
            assert synthetic.get(f"{API}/places/{slug}/rankings").status_code == 200
        return {r.shape[0] for r in ran if isinstance(r.shape, tuple)}

    assert read_once <= shapes("synth-city-00002")
    assert not read_once & shapes("synth-city-00003")
    assert "standings-ranged" in shapes("synth-city-00004")
