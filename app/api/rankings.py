"""`/rankings` (a place among its peers) and `/comparisons` (change and growth between two
facts), both computed on request from stated facts and served apart from them."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy import Connection, select
from starlette.datastructures import QueryParams

from app.api import tables as t
from app.api.keys import SLUG_PATTERN_RE
from app.api.metrics import metrics_select, serialize_metric
from app.api.reads import in_database
from app.api.resource import Tag
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.shapes import IndicatorRef, Links, Period, PlaceRef, Schema
from app.errors import parameter_problem, shown
from app.models.vocabulary import PROVINCE_LEVELS, PlaceLevel, Qualifier
from app.query.conflicts import CONFLICT_RULE
from app.query.execute import id_set_value
from app.query.expressions import IdSet
from app.query.lookups import names
from app.query.names import no_such
from app.query.parsing import DEFAULT_LIMIT, MAX_LIMIT, check_names, parse_limit
from app.query.rankings import (
    MAX_PEERS,
    PERCENTILE,
    PICK,
    TIES,
    Comparability,
    Peer,
    Peers,
    Standing,
    comparability,
    peer_values,
    rank,
    same_period,
)
from app.query.statements import fetch_all, fetch_one, slot


class RankingEntry(Schema):
    rank: int = Field(examples=[1], description="Competition rank: ties share the best rank.")
    percentile: float | None = Field(
        examples=[100.0], description="Share of the other peers ranked below (null: no peer)."
    )
    place: PlaceRef
    key: str = Field(description="The fact ranked.", examples=["daye-high-tech-enterprises-2023"])
    value: float | int = Field(examples=[333])
    unit: str
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
    order: Literal["desc", "asc"]
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
router = APIRouter(tags=[RANKINGS_TAG.name])
SLUG = r"[a-z0-9][a-z0-9_-]{0,63}"
AREA = rf"(province|within):{SLUG}"
LEVEL = rf"level:({'|'.join(PlaceLevel)})"


def _peers_pattern(area: str, level: str) -> str:
    """Nationwide, or one area and/or one level, in either order; then `same_period`, or
    `same_period` alone."""
    group = rf"(nationwide|{area}|{level}|{area},{level}|{level},{area})"
    return rf"^({group}(,same_period)?|same_period)$"


PEERS_PATTERN = _peers_pattern(AREA, LEVEL)
# A place's own standings may also name its province or level.
PLACE_PEERS_PATTERN = _peers_pattern(f"({AREA}|same_province)", f"({LEVEL}|same_level)")
YEAR = {"type": "integer", "minimum": 1900, "maximum": 2100}
RANKING_PARAMETERS = ("indicator", "year", "peers", "place", "order", "limit", "offset")


SLUG_SCHEMA = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 64}


def query_doc(
    name: str, description: str, schema: dict[str, Any], example: Any, required: bool = False
) -> dict[str, Any]:
    """A query parameter's OpenAPI entry (the routers read their parameters themselves,
    so that each refusal names the parameter)."""
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, "example": example}  # fmt: skip


INDICATOR = query_doc("indicator", "The indicator's code.", SLUG_SCHEMA,
                      "high_tech_enterprises", required=True)  # fmt: skip
PEERS_DESCRIPTION = (
    "The peer group: `nationwide` (the default), or an area (`province:<slug>`, places in"
    " that province; `within:<slug>`, in any place) and/or a level (`level:<level>`),"
    " joined by a comma; `,same_period` after it (or `same_period` alone) keeps only the"
    " peers whose value covers the same period as `place`'s (without `place`, the latest"
    " dated period among the peers)."
)
YEAR_DOC = query_doc("year", "The year the period ends in; without it, each place's latest"
                     " value (undated facts included).", YEAR, 2023)  # fmt: skip
RANKINGS_DOC = [
    INDICATOR,
    YEAR_DOC,
    query_doc("peers", PEERS_DESCRIPTION,
              {"type": "string", "pattern": PEERS_PATTERN, "maxLength": 140}, "province:hubei"),
    query_doc("place", "The place whose standing is wanted (in `meta.place`).", SLUG_SCHEMA,
              "daye"),
    query_doc("order", "desc: the highest value ranks 1 (the default), or asc (the default"
              " for an indicator that is itself a rank).",
              {"type": "string", "enum": ["desc", "asc"]}, "desc"),
    query_doc("limit", f"Entries per page (1-{MAX_LIMIT}).",
              {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
              10),
    query_doc("offset", "Entries to skip.",
              {"type": "integer", "minimum": 0, "maximum": MAX_PEERS, "default": 0}, 0),
]  # fmt: skip


# Reading the parameters ------------------------------------------------------------------


def allowed(params: QueryParams, names: tuple[str, ...]) -> None:
    """Refuse a parameter these endpoints do not take (400) or one given twice (422)."""
    check_names(params, names, "given more than once")


def read_slug(params: QueryParams, name: str, length: int = 64) -> str | None:
    value = params.get(name)
    if value is not None and (len(value) > length or not SLUG_PATTERN_RE.match(value)):
        lowered = value.strip().lower()
        hint = f"; did you mean {lowered}?" if SLUG_PATTERN_RE.match(lowered) else ""
        raise parameter_problem(
            name, f"{shown(value)} is not a key (lower-case letters, digits, - and _){hint}"
        )
    return value


def read_year(params: QueryParams, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{4}", raw) or not 1900 <= int(raw) <= 2100:
        raise parameter_problem(name, f"expected a year from 1900 to 2100, got {shown(raw)}")
    return int(raw)


def _int(params: QueryParams, name: str, maximum: int) -> int:
    raw = params.get(name, "0")
    if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) > maximum:
        raise parameter_problem(name, f"expected an integer from 0 to {maximum}, got {shown(raw)}")
    return int(raw)


def peer_terms(raw: str | None, pattern: str = PEERS_PATTERN) -> list[tuple[str, str | None]]:
    """The peer group's terms, (kind, value), nationwide dropped."""
    if raw is None:
        return []
    if len(raw) > 140 or not re.fullmatch(pattern.strip("^$"), raw):
        raise parameter_problem(
            "peers",
            f"{shown(raw)} is not a peer group: nationwide, or an area (province:<slug>,"
            " within:<slug>) and/or a level (level:<level>) joined by a comma, then"
            " optionally same_period",
        )
    terms = [term.partition(":") for term in raw.split(",")]
    return [(kind, value or None) for kind, _, value in terms if kind != "nationwide"]


def find_indicator(connection: Connection, code: str) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-indicator",
        lambda: select(t.indicator.c.id, t.indicator.c.code, t.indicator.c.name,
                       t.indicator.c.unit).where(t.indicator.c.code == slot("code")),
        {"code": code},
    )  # fmt: skip
    if row is None:
        raise no_such(connection, names(t.indicator, "code"), "indicator", code)
    return dict(row)


def find_place(
    connection: Connection, slug: str, parameter: str, location: str = "query"
) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-place",
        lambda: select(t.place.c.id, t.place.c.slug, t.place.c.level).where(
            t.place.c.slug == slot("slug")),
        {"slug": slug},
    )  # fmt: skip
    if row is None:  # a path's key names a resource, a query's value is the request's
        status = 404 if location == "path" else 422
        raise no_such(connection, names(t.place), parameter, slug, location=location,
                      status=status)  # fmt: skip
    return dict(row)


def _province_of(connection: Connection, place_id: int) -> Mapping[str, Any] | None:
    ancestor = t.place.alias("ancestor")
    closure = t.place_ancestor
    return fetch_one(
        connection, "ranking-province",
        lambda: select(ancestor.c.id, ancestor.c.slug)
        .select_from(closure.join(ancestor, ancestor.c.id == closure.c.ancestor_id))
        .where(closure.c.place_id == slot("place_id"),
               ancestor.c.level.in_([level.value for level in PROVINCE_LEVELS])),
        {"place_id": place_id},
    )  # fmt: skip


@dataclass(frozen=True)
class PeerGroup:
    peers: Peers
    words: str  # "places in hubei and at level county_city"
    terms: str  # the group as /rankings names it: same_level becomes level:<its level>
    same_period: bool = False  # only the peers whose value covers the reference period


def peers(
    connection: Connection, terms: list[tuple[str, str | None]], focus: dict[str, Any] | None
) -> PeerGroup:
    within_id, level, words, explicit = None, None, [], []
    period = any(kind == "same_period" for kind, _ in terms)
    for kind, value in terms:
        if kind == "same_period":
            continue
        if kind in ("province", "within"):
            assert value is not None
            area = find_place(connection, value, "peers")
            if kind == "province" and area["level"] not in PROVINCE_LEVELS:
                raise parameter_problem("peers", f"{value!r} is a {area['level']}, not a province")
            within_id = area["id"]
            words.append(f"in {value}")
            explicit.append(f"{kind}:{value}")
        elif kind == "same_province":
            assert focus is not None
            province = _province_of(connection, focus["id"])
            if province is None:
                raise parameter_problem("peers", f"{focus['slug']!r} lies in no province")
            within_id = province["id"]
            words.append(f"in {focus['slug']}'s province")
            explicit.append(f"province:{province['slug']}")
        elif kind == "level":
            level = value
            words.append(f"at level {value}")
            explicit.append(f"level:{value}")
        else:
            assert focus is not None
            level = focus["level"]
            words.append(f"at {focus['slug']}'s level ({level})")
            explicit.append(f"level:{level}")
    if period:
        whose = f"{focus['slug']}'s" if focus is not None else "the latest dated"
        words.append(f"with a value for {whose} period")
        explicit.append("same_period")
    return PeerGroup(
        Peers(within_id, level),
        "places " + " and ".join(words) if words else "every place",
        ",".join(explicit) or "nationwide",
        period,
    )


def peers_of(
    connection: Connection,
    indicator_id: int,
    year: int | None,
    group: PeerGroup,
    focus: Mapping[str, Any] | None,
) -> list[Peer]:
    """The group's peers with their values (only those of the reference period when the
    group asks for the same period)."""
    values = peer_values(connection, indicator_id, year, group.peers)
    if values is None:
        raise parameter_problem("peers", f"more than {MAX_PEERS} peers; narrow the group")
    return same_period(values, focus["id"] if focus else None) if group.same_period else values


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
    offset = _int(params, "offset", MAX_PEERS)
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
    " are the stated (or derived) facts, named by key.",
    response_class=RawJSON,
    responses={
        200: {"model": RankingPage, "description": "Peers best first, a page at a time."},
        **problem_responses(400, 404, 422, 503),
    },
    openapi_extra={"parameters": RANKINGS_DOC},
)
async def get_rankings(request: Request) -> RawJSON:
    params, url = request.query_params, str(request.url)
    ask = read_ranking(params)
    shape = ("rankings", "year" in params, params.get("peers", "").split(":")[0])
    body = await in_database(
        request,
        lambda c: to_json(build_ranking(c, ask, params, url)),
        shape=shape,
        cost=f"ranking of {params.get('indicator', '')[:64]}",
    )
    return RawJSON(body)
