"""`/rankings`: the places among a peer group ranked by one indicator's value, computed on
request from stated facts and served apart from them (the parameters and peer groups it
shares with a place's standings and comparisons are in app.api.peers)."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from fastapi import Request
from pydantic import Field
from sqlalchemy import Connection
from starlette.datastructures import QueryParams
from starlette.responses import Response

from ..errors import parameter_problem, shown
from ..facts.conflicts import CONFLICT_RULE
from ..models import tables as t
from ..models.vocabulary import Qualifier, Unit
from ..query.expressions import IdSet
from ..query.openapi import vocabulary_ref
from ..query.parsing import DEFAULT_LIMIT, MAX_LIMIT, parse_limit
from ..query.rankings import (
    MAX_PEERS,
    PERCENTILE,
    PICK,
    TIES,
    Comparability,
    Standing,
    comparability,
    rank,
)
from ..query.statements import fetch_all, slot
from ..query.terms import id_set_value
from . import answer_exports
from .dispatch import api_router
from .export_rows import columns
from .metrics import metrics_select, serialize_metric
from .peers import (
    INDICATOR,
    PEERS_DESCRIPTION,
    PEERS_PATTERN,
    SLUG_SCHEMA,
    YEAR_DOC,
    allowed,
    find_indicator,
    find_place,
    peer_terms,
    peers,
    peers_of,
    query_doc,
    read_int,
    read_slug,
    read_year,
)
from .reads import in_database
from .resource import Tag
from .responses import RawJSON, problem_responses, to_json
from .shapes import IndicatorRef, Links, Period, PlaceRef, Schema


class RankingOrder(StrEnum):
    """desc: the highest value ranks 1; asc: the lowest does."""

    desc = "desc"
    asc = "asc"


class RankingEntry(Schema):
    rank: int = Field(examples=[1], description="Competition rank: ties share the best rank.")
    percentile: float | None = Field(
        examples=[100.0], description="Share of the other peers ranked below (null: no peer)."
    )
    place: PlaceRef
    key: str = Field(description="The fact ranked.", examples=["daye-high-tech-enterprises-2023"])
    value: float = Field(examples=[333])
    unit: Unit
    stated: str | None
    qualifier: Qualifier
    derived: bool
    period: Period
    conflicts_with: list[str]
    url: str
    comparable: bool = Field(
        description="False when this value's period or place level differs from most peers',"
        " or when the group is this place alone."
    )
    differs: list[str] = Field(
        description="What sets this entry apart from the group, in words; empty when nothing.",
        examples=[["its period is unknown, most peers' is 2023-01-01 to 2023-12-31"]],
    )


class RankingPeers(Schema):
    group: str = Field(examples=["places in hubei"])
    size: int = Field(description="Peers with a value for the period.", examples=[1])


class RankingMeta(Schema):
    indicator: IndicatorRef
    year: int | None
    comparable: bool = Field(
        description="True when every peer's value covers the same period and every peer is of"
        " the same level (and there is more than one peer)."
    )
    comparability: str = Field(
        description="Why the ranks compare like with like, or why not.",
        examples=["the peers' values mix 2 different periods; entries unlike most are flagged"],
    )
    peers: RankingPeers
    order: RankingOrder
    ties: str
    percentile: str
    pick: str
    conflicts: str
    computed: Literal[True]
    place: RankingEntry | None = Field(description="The standing of `place`, when named.")
    place_note: str | None = Field(description="Why `place` is not ranked, when it is not.")
    returned: int
    limit: int
    offset: int


class RankingPage(Schema):
    data: list[RankingEntry]
    meta: RankingMeta
    links: Links


o = t.observation
RANKINGS_TAG = Tag("rankings", "Ranks among peers and changes, computed on request.")
router = api_router(RANKINGS_TAG.name)
RANKING_PARAMETERS = (
    "indicator", "year", "peers", "place", "order", "limit", "offset", *answer_exports.CONTROLS,
)  # fmt: skip
ENTRY_COLUMNS = columns(RankingEntry)


RANKINGS_DOC = [
    INDICATOR,
    YEAR_DOC,
    query_doc("peers", PEERS_DESCRIPTION,
              {"type": "string", "pattern": PEERS_PATTERN, "maxLength": 140}, "province:hubei"),
    query_doc("place", "The place whose standing is wanted (in `meta.place`).", SLUG_SCHEMA,
              "daye"),
    query_doc("order", "desc: the highest value ranks 1 (the default), or asc (the default"
              " for an indicator that is itself a rank).",
              vocabulary_ref(RankingOrder), "desc"),
    query_doc("limit", f"Entries per page (1-{MAX_LIMIT}).",
              {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
              10),
    query_doc("offset", "Entries to skip.",
              {"type": "integer", "minimum": 0, "maximum": MAX_PEERS, "default": 0}, 0),
    *answer_exports.PARAMETERS,
]  # fmt: skip


def metrics_by_id(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = fetch_all(
        connection, "ranking-metrics",
        lambda: metrics_select().add_columns(o.c.id.label("observation_id"))
        .where(IdSet(o.c.id, slot("ids"))),
        {"ids": id_set_value(connection, ids)},
    )  # fmt: skip
    return {row["observation_id"]: serialize_metric(row) for row in rows}


def entry(standing: Standing, metric: dict[str, Any], group: Comparability) -> dict[str, Any]:
    differs = group.differs(standing.peer)
    return {
        "rank": standing.rank,
        "percentile": standing.percentile,
        "place": metric["place"],
        "key": metric["key"],
        "value": metric["value"],
        "unit": metric["unit"],
        "stated": metric["stated"],
        "qualifier": metric["qualifier"],
        "derived": metric["derived"],
        "period": metric["period"],
        "conflicts_with": metric["conflicts_with"],
        "url": metric["url"],
        "comparable": not differs,
        "differs": differs,
    }


@dataclass(frozen=True)
class RankingAsk:
    """A ranking request's parameters, read and checked before any database is chosen (a
    bad parameter is a 4xx whatever version the request pins)."""

    code: str
    year: int | None
    terms: list[tuple[str, str | None]]
    order: str | None
    limit: int
    offset: int
    focus_slug: str | None


def read_ranking(params: QueryParams) -> RankingAsk:
    allowed(params, RANKING_PARAMETERS)
    code = read_slug(params, "indicator")
    if code is None:
        raise parameter_problem("indicator", "required: the indicator code")
    year = read_year(params, "year")
    terms = peer_terms(params.get("peers"))
    order = params.get("order")
    if order not in (None, "desc", "asc"):
        raise parameter_problem("order", f"expected desc or asc, got {shown(order)}")
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    offset = read_int(params, "offset", MAX_PEERS)
    return RankingAsk(code, year, terms, order, limit, offset, read_slug(params, "place"))


def build_ranking(
    connection: Connection, ask: RankingAsk, params: QueryParams, url: str
) -> dict[str, Any]:
    code, year, terms, order = ask.code, ask.year, ask.terms, ask.order
    limit, offset, focus_slug = ask.limit, ask.offset, ask.focus_slug
    indicator = find_indicator(connection, code)
    order = order or best_first(indicator)
    focus = None if focus_slug is None else find_place(connection, focus_slug, "place")
    group = peers(connection, terms, focus)
    values = peers_of(connection, indicator["id"], year, group, focus)
    standings = rank(values, descending=order == "desc")
    alike = comparability(standings)
    page = standings[offset : offset + limit]
    mine = [s for s in standings if focus is not None and s.peer.place_id == focus["id"]]
    metrics = metrics_by_id(connection, sorted({s.peer.observation_id for s in page + mine}))
    data = [entry(s, metrics[s.peer.observation_id], alike) for s in page]
    place_note = None
    if focus is not None and not mine:
        when = f"for {year}" if year is not None else "at all"
        place_note = f"{focus['slug']} has no value of {code} {when} among {group.words}"
    more = offset + limit < len(standings)
    return {
        "data": data,
        "meta": {
            "indicator": {k: indicator[k] for k in ("code", "name", "unit")},
            "year": year,
            "comparable": alike.comparable,
            "comparability": alike.reason,
            "peers": {"group": group.words, "size": len(standings)},
            "order": order,
            "ties": TIES,
            "percentile": PERCENTILE,
            "pick": PICK,
            "conflicts": CONFLICT_RULE,
            "computed": True,
            "place": entry(mine[0], metrics[mine[0].peer.observation_id], alike) if mine else None,
            "place_note": place_note,
            "returned": len(data),
            "limit": limit,
            "offset": offset,
        },
        "links": {"self": url, "next": _next(url, params, offset + limit) if more else None},
    }


def best_first(indicator: Mapping[str, Any]) -> str:
    """Most first, except for an indicator that is itself a rank (1 is the best)."""
    return "asc" if indicator["unit"] == "rank" else "desc"


def _next(url: str, params: QueryParams, offset: int) -> str:
    base = url.split("?", 1)[0]
    pairs = [(k, v) for k, v in params.multi_items() if k != "offset"] + [("offset", str(offset))]
    return str(base + "?" + str(QueryParams(pairs)))


@router.get(
    "/rankings",
    operation_id="get_rankings",
    summary="Rank places among their peers on one indicator",
    description="Rank and percentile of each place of a peer group on one indicator for one"
    f" year (or each place's latest value), with the group's size. Ties: {TIES}. Percentile:"
    f" {PERCENTILE}. Each place counts once: {PICK}. Computed on request; the values ranked"
    " are the stated (or derived) facts, named by key. With `format=csv` (or ndjson), a row"
    " per entry, every entry of the ranking unless `limit` is given.",
    response_class=RawJSON,
    responses={
        200: answer_exports.ok_response(
            RankingPage, "Peers best first, a page at a time.", ENTRY_COLUMNS, "entry"
        ),
        **problem_responses(400, 404, 422, 503),
    },
    openapi_extra={"parameters": RANKINGS_DOC},
)
async def get_rankings(request: Request) -> Response:
    wanted = answer_exports.asked(request)
    params, url = answer_exports.answer_parameters(request.query_params), str(request.url)
    ask = read_ranking(params)
    if wanted.rows and "limit" not in params:  # a file holds the whole ranking
        ask = replace(ask, limit=MAX_PEERS)
    shape = ("rankings", "year" in params, params.get("peers", "").split(":")[0])

    def work(connection: Connection) -> Any:
        built = build_ranking(connection, ask, params, url)
        return built["data"] if wanted.rows else to_json(built)

    cost = f"ranking of {params.get('indicator', '')[:64]}"
    answer = await in_database(request, work, shape=shape, cost=cost)
    if not wanted.rows:
        return RawJSON(answer)
    query = [(k, v) for k, v in params.multi_items() if k not in ("limit", "offset")]
    return answer_exports.rows_response(
        request, wanted, name="rankings", columns=ENTRY_COLUMNS, rows=answer, query=query
    )
