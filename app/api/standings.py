"""`/places/{place_slug}/rankings`: a place's standing among its peers on every indicator it
has a value of, a nested view of places in the URL map (app.api)."""

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, Select, select
from starlette.datastructures import QueryParams

from ..errors import parameter_problem
from ..facts.conflicts import CONFLICT_RULE
from ..models import tables as t
from ..paths import API_PREFIX
from ..query.rankings import PERCENTILE, PICK, TIES, Comparability, Standing
from ..query.standings import place_standings
from ..query.statements import fetch_all, slot
from .answer_exports import CONTROLS
from .peers import (
    PLACE_PEERS_PATTERN,
    YEAR_DOC,
    PeerGroup,
    allowed,
    find_place,
    peer_terms,
    peers,
    query_doc,
    read_year,
    too_many_peers,
)
from .rankings import (
    RankingEntry,
    best_first,
    entry,
    metrics_by_id,
)
from .resource import Found, View
from .shapes import IndicatorRef, Schema, SelfLink

o = t.observation


class PlaceStanding(RankingEntry):
    indicator: IndicatorRef
    peers: int = Field(description="Peers with a value of the indicator for the period.")
    ranking: str = Field(
        description="The whole ranking.",
        examples=[
            "/api/v1/rankings?indicator=high_tech_enterprises&place=changzhi&peers=same_level"
        ],
    )


class PlaceRankingMeta(Schema):
    year: int | None
    peers: str = Field(examples=["places at changzhi's level (prefecture_city)"])
    ties: str
    percentile: str
    pick: str
    conflicts: str
    computed: Literal[True]
    returned: int
    comparable: bool = Field(
        description="True when every standing compares like with like: in each, every peer's"
        " value covers the same period, every peer is of the same level, and there are peers."
    )
    comparability: str = Field(
        description="Why, or which standings do not.",
        examples=["not comparable: high_tech_enterprises (a group of one: daye is ranked"
                  " against no other place, so its rank compares nothing)"],
    )  # fmt: skip
    note: str | None = Field(
        description="Why nothing is ranked, when the place lies outside the peer group."
    )


class PlaceRankingPage(Schema):
    data: list[PlaceStanding]
    meta: PlaceRankingMeta
    links: SelfLink


PLACE_PARAMETERS = ("year", "peers", *CONTROLS)
MAX_INDICATORS = 200
PLACE_RANKINGS_DOC = [
    YEAR_DOC,
    query_doc("peers", "The peer group: `same_level` (the default: places of this place's"
              " level), `same_province`, `nationwide`, or an area (`province:<slug>`,"
              " `within:<slug>`) and/or a level (`level:<level>`), joined by a comma;"
              " `,same_period` after it (or `same_period` alone) keeps only the peers whose"
              " value covers the same period as this place's.",
              {"type": "string", "pattern": PLACE_PEERS_PATTERN, "maxLength": 140,
               "default": "same_level"}, "same_province"),
]  # fmt: skip


def _indicators_of(connection: Connection, place_id: int, year: int | None) -> list[Any]:
    i = t.indicator

    def build() -> Select[Any]:
        facts = select(o.c.indicator_id).where(
            o.c.place_id == slot("place_id"), o.c.subject_kind == "place"
        )
        facts = facts.where(o.c.year == slot("year") if year is not None else o.c.latest)
        return (
            select(i.c.id, i.c.code, i.c.name, i.c.unit)
            .where(i.c.id.in_(facts))
            .order_by(i.c.code)
            .limit(slot("most"))
        )

    values = {"place_id": place_id, "year": year, "most": MAX_INDICATORS + 1}
    if year is None:
        del values["year"]
    return fetch_all(connection, ("place-indicators", year is not None), build, values)


def read_place_rankings(params: QueryParams) -> tuple[int | None, list[tuple[str, str | None]]]:
    """The year and peer terms of a place's standings, checked before any database read."""
    allowed(params, PLACE_PARAMETERS)
    year = read_year(params, "year")
    return year, peer_terms(params.get("peers", "same_level"), PLACE_PEERS_PATTERN)


Standings = list[tuple[dict[str, Any], Standing, int, Comparability]]


def standings_of(
    connection: Connection,
    place: dict[str, Any],
    year: int | None,
    group: PeerGroup,
    indicators: list[Any],
) -> Standings:
    """The place's standing, the group's size and its comparability on each indicator on
    which the place is ranked among the group (none where it lies outside it)."""
    if not indicators:
        return []
    descending = {indicator["id"]: best_first(indicator) == "desc" for indicator in indicators}
    counted = place_standings(connection, place, year, group.peers, group.same_period, descending)
    if counted is None:
        raise too_many_peers()
    return [
        (indicator, mine.standing, mine.size, mine.group)
        for indicator in indicators
        if (mine := counted.get(indicator["id"])) is not None
    ]


def build_place_rankings(
    connection: Connection, found: Found, params: QueryParams, url: str
) -> dict[str, Any]:
    year, terms = read_place_rankings(params)
    slug = found.key
    place = find_place(connection, slug, "place_slug", "path")
    group = peers(connection, terms, place)
    indicators = _indicators_of(connection, place["id"], year)
    if len(indicators) > MAX_INDICATORS:
        raise parameter_problem("year", f"more than {MAX_INDICATORS} indicators; name a year")
    standings = standings_of(connection, place, year, group, indicators)
    metrics = metrics_by_id(connection, sorted(s.peer.observation_id for _, s, _, _ in standings))
    data = [
        {
            "indicator": {k: indicator[k] for k in ("code", "name", "unit")},
            **entry(standing, metrics[standing.peer.observation_id], alike),
            "peers": size,
            "ranking": _ranking_url(indicator["code"], slug, year, group.terms),
        }
        for indicator, standing, size, alike in standings
    ]
    unlike = [f"{item['indicator']['code']} ({'; '.join(item['differs'])})"
              for item in data if not item["comparable"]]  # fmt: skip
    if unlike:
        reason = "not comparable: " + ", ".join(unlike)
    else:
        reason = "in every standing, the peers share the period and the level of " + slug
    return {
        "data": data,
        "meta": {
            "year": year,
            "peers": group.words,
            "ties": TIES,
            "percentile": PERCENTILE,
            "pick": PICK,
            "conflicts": CONFLICT_RULE,
            "computed": True,
            "returned": len(data),
            "comparable": not unlike,
            "comparability": reason,
            "note": None if data or not indicators else f"{slug} is not among {group.words}",
        },
        "links": {"self": url},
    }


def _ranking_url(code: str, slug: str, year: int | None, peers: str) -> str:
    pairs = [("indicator", code), ("place", slug), ("peers", peers)]
    if year is not None:
        pairs.append(("year", str(year)))
    return f"{API_PREFIX}/rankings?{QueryParams(pairs)}"


STANDINGS = View(
    "rankings",
    PlaceRankingPage,
    returns="One standing per indicator.",
    summary="A place's rank among its peers on every indicator it has a value of",
    description="For each indicator with a value for the place (in `year`, or its latest),"
    " its rank and percentile among its peers (by default the places of its level), with"
    f" the group's size. Ties: {TIES}. Each place counts once: {PICK}. With `format=csv`"
    " (or ndjson), a row per standing.",
    parameters=PLACE_RANKINGS_DOC,
    check=read_place_rankings,
    answer=build_place_rankings,
    shape=lambda params: (
        "place-rankings", "year" in params, params.get("peers", "").split(":")[0]
    ),
    cost="standings of {key}",
    rows=PlaceStanding,
)  # fmt: skip
