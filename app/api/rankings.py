"""`/rankings` (a place among its peers) and `/comparisons` (change and growth between two
facts), both computed on request from stated facts and served apart from them."""

import re
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection, Select, select
from starlette.datastructures import QueryParams

from app.api import tables as t
from app.api.deps import in_database
from app.api.metrics import metrics_select, serialize_metric
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN_RE
from app.api.schemas import ComparisonPage, RankingPage
from app.errors import ParameterError, ProblemError, parameter_problem
from app.models.vocabulary import PROVINCE_LEVELS, PlaceLevel
from app.query.comparisons import bound_problem, compare
from app.query.conflicts import CONFLICT_RULE
from app.query.execute import id_set_value
from app.query.expressions import IdSet
from app.query.latest import recency_order
from app.query.parsing import DEFAULT_LIMIT, MAX_LIMIT, parse_limit
from app.query.rankings import (
    MAX_PEERS,
    PERCENTILE,
    PICK,
    TIES,
    Peers,
    Standing,
    peer_values,
    rank,
)
from app.query.statements import fetch_all, fetch_one, slot

o = t.observation
router = APIRouter(tags=["rankings"])
SLUG = r"[a-z0-9][a-z0-9_-]{0,63}"
LEVELS = "|".join(PlaceLevel)
PEER_TERM = rf"(nationwide|same_province|same_level|(province|within):{SLUG}|level:({LEVELS}))"
PEERS_PATTERN = rf"^{PEER_TERM}(,{PEER_TERM})?$"
YEAR = {"type": "integer", "minimum": 1900, "maximum": 2100}
RANKING_PARAMETERS = ("indicator", "year", "peers", "place", "order", "limit", "offset")
SUBJECTS = {"place": ("place", t.place, o.c.place_id), "cluster": ("cluster", t.cluster,
            o.c.cluster_id), "program": ("program", t.program, o.c.program_id)}  # fmt: skip
COMPARISON_PARAMETERS = ("indicator", *SUBJECTS, "from", "to", "from_key", "to_key")


def _query(name: str, description: str, schema: dict[str, Any], example: Any,
           required: bool = False) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, "example": example}  # fmt: skip


INDICATOR = _query("indicator", "The indicator's code.",
                   {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 64},
                   "high_tech_enterprises", required=True)  # fmt: skip
RANKINGS_DOC = [
    INDICATOR,
    _query("year", "The year the period ends in; without it, each place's latest value"
           " (undated facts included).", YEAR, 2023),
    _query("peers", "The peer group, one or two terms joined by a comma: `nationwide` (the"
           " default), `province:<slug>` (places in that province), `within:<slug>` (in any"
           " place), `level:<level>`, `same_province` or `same_level` (as `place`'s).",
           {"type": "string", "pattern": PEERS_PATTERN, "maxLength": 140},
           "province:hubei"),
    _query("place", "The place whose standing is wanted (in `meta.place`); needed by"
           " `same_province` and `same_level`.",
           {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 64}, "daye"),
    _query("order", "desc (the default: the highest value ranks 1) or asc.",
           {"type": "string", "enum": ["desc", "asc"], "default": "desc"}, "desc"),
    _query("limit", f"Entries per page (1-{MAX_LIMIT}).",
           {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, 10),
    _query("offset", "Entries to skip.",
           {"type": "integer", "minimum": 0, "maximum": MAX_PEERS, "default": 0}, 0),
]  # fmt: skip
COMPARISONS_DOC = [
    {**INDICATOR, "required": False, "description": "The indicator's code (with a subject and"
     " `from`/`to`)."},
    *(_query(name, f"The {name}'s slug: the subject compared (one of place, cluster, program).",
             {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 64},
             {"place": "hunan", "cluster": "hefei-intelligent-voice",
              "program": "manufacturing-city-tech-transformation-pilot"}[name])
      for name in SUBJECTS),
    _query("from", "The earlier year (the period ends in it).", YEAR, 2017),
    _query("to", "The later year.", YEAR, 2018),
    _query("from_key", "Instead of a subject and years: the key of the earlier fact.",
           {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 120},
           "changzhi-enterprise-rd-investment-previous"),
    _query("to_key", "The key of the later fact (same subject and indicator).",
           {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 120},
           "changzhi-enterprise-rd-investment"),
]  # fmt: skip


# Reading the parameters ------------------------------------------------------------------


def _allowed(params: QueryParams, names: tuple[str, ...]) -> None:
    unknown = sorted({k for k, _ in params.multi_items()} - set(names))
    if unknown:
        raise ProblemError(
            400, "unknown-parameter",
            f"unknown query parameter(s) {', '.join(map(repr, unknown))};"
            f" parameters: {', '.join(names)}",
            [ParameterError(name, "not a parameter of this endpoint") for name in unknown],
        )  # fmt: skip
    for name in names:
        if len(params.getlist(name)) > 1:
            raise parameter_problem(name, "given more than once")


def _slug(params: QueryParams, name: str, length: int = 64) -> str | None:
    value = params.get(name)
    if value is not None and (len(value) > length or not SLUG_PATTERN_RE.match(value)):
        raise parameter_problem(name, f"{value[:80]!r} is not a slug")
    return value


def _year(params: QueryParams, name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{4}", raw) or not 1900 <= int(raw) <= 2100:
        raise parameter_problem(name, f"expected a year from 1900 to 2100, got {raw[:40]!r}")
    return int(raw)


def _int(params: QueryParams, name: str, maximum: int) -> int:
    raw = params.get(name, "0")
    if not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) > maximum:
        raise parameter_problem(name, f"expected an integer from 0 to {maximum}, got {raw[:40]!r}")
    return int(raw)


def _peer_terms(raw: str | None) -> list[tuple[str, str | None]]:
    if raw is None:
        return []
    if len(raw) > 140 or not re.fullmatch(PEERS_PATTERN.strip("^$"), raw):
        raise parameter_problem(
            "peers",
            f"{raw[:80]!r} is not a peer group: nationwide, province:<slug>, within:<slug>,"
            " level:<level>, same_province or same_level, at most two joined by a comma",
        )
    terms = [(kind, value or None) for kind, _, value in (t.partition(":") for t in raw.split(","))]
    kinds = [kind for kind, _ in terms]
    area = [k for k in kinds if k in ("province", "within", "same_province")]
    level = [k for k in kinds if k in ("level", "same_level")]
    if len(area) > 1 or len(level) > 1 or ("nationwide" in kinds and len(kinds) > 1):
        raise parameter_problem("peers", "at most one area and one level, or nationwide alone")
    return [(k, v) for k, v in terms if k != "nationwide"]


# Rankings --------------------------------------------------------------------------------


def _indicator(connection: Connection, code: str) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-indicator",
        lambda: select(t.indicator.c.id, t.indicator.c.code, t.indicator.c.name,
                       t.indicator.c.unit).where(t.indicator.c.code == slot("code")),
        {"code": code},
    )  # fmt: skip
    if row is None:
        raise ProblemError(404, "not-found", f"no indicator {code!r}", [ParameterError(
            "indicator", f"no indicator {code!r}")])  # fmt: skip
    return dict(row)


def _place(connection: Connection, slug: str, parameter: str) -> dict[str, Any]:
    row = fetch_one(
        connection, "ranking-place",
        lambda: select(t.place.c.id, t.place.c.slug, t.place.c.level).where(
            t.place.c.slug == slot("slug")),
        {"slug": slug},
    )  # fmt: skip
    if row is None:
        raise ProblemError(404, "not-found", f"no place {slug!r}",
                           [ParameterError(parameter, f"no place {slug!r}")])  # fmt: skip
    return dict(row)


def _province_of(connection: Connection, place_id: int) -> int | None:
    ancestor = t.place.alias("ancestor")
    closure = t.place_ancestor
    row = fetch_one(
        connection, "ranking-province",
        lambda: select(ancestor.c.id)
        .select_from(closure.join(ancestor, ancestor.c.id == closure.c.ancestor_id))
        .where(closure.c.place_id == slot("place_id"),
               ancestor.c.level.in_([level.value for level in PROVINCE_LEVELS])),
        {"place_id": place_id},
    )  # fmt: skip
    return None if row is None else int(row["id"])


def _peers(
    connection: Connection, terms: list[tuple[str, str | None]], focus: dict[str, Any] | None
) -> tuple[Peers, str]:
    within_id, level, words = None, None, []
    for kind, value in terms:
        if kind in ("same_province", "same_level") and focus is None:
            raise parameter_problem("place", f"required by peers={kind}")
        if kind in ("province", "within"):
            assert value is not None
            area = _place(connection, value, "peers")
            if kind == "province" and area["level"] not in PROVINCE_LEVELS:
                raise parameter_problem("peers", f"{value!r} is a {area['level']}, not a province")
            within_id = area["id"]
            words.append(f"in {value}")
        elif kind == "same_province":
            assert focus is not None
            within_id = _province_of(connection, focus["id"])
            if within_id is None:
                raise parameter_problem("peers", f"{focus['slug']!r} lies in no province")
            words.append(f"in {focus['slug']}'s province")
        elif kind == "level":
            level = value
            words.append(f"at level {value}")
        else:
            assert focus is not None
            level = focus["level"]
            words.append(f"at {focus['slug']}'s level ({level})")
    return Peers(within_id, level), "places " + " and ".join(words) if words else "every place"


def _metrics_by_id(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = fetch_all(
        connection, "ranking-metrics",
        lambda: metrics_select().add_columns(o.c.id.label("observation_id"))
        .where(IdSet(o.c.id, slot("ids"))),
        {"ids": id_set_value(connection, ids)},
    )  # fmt: skip
    return {row["observation_id"]: serialize_metric(row) for row in rows}


def _entry(standing: Standing, metric: dict[str, Any]) -> dict[str, Any]:
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
    }


def build_ranking(connection: Connection, params: QueryParams, url: str) -> dict[str, Any]:
    _allowed(params, RANKING_PARAMETERS)
    code = _slug(params, "indicator")
    if code is None:
        raise parameter_problem("indicator", "required: the indicator code")
    year = _year(params, "year")
    terms = _peer_terms(params.get("peers"))
    order = params.get("order", "desc")
    if order not in ("desc", "asc"):
        raise parameter_problem("order", f"expected desc or asc, got {order[:40]!r}")
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    offset = _int(params, "offset", MAX_PEERS)
    focus_slug = _slug(params, "place")
    indicator = _indicator(connection, code)
    focus = None if focus_slug is None else _place(connection, focus_slug, "place")
    peers, group = _peers(connection, terms, focus)
    values = peer_values(connection, indicator["id"], year, peers)
    if values is None:
        raise parameter_problem("peers", f"more than {MAX_PEERS} peers; narrow the group")
    standings = rank(values, descending=order == "desc")
    page = standings[offset : offset + limit]
    mine = [s for s in standings if focus is not None and s.peer.place_id == focus["id"]]
    metrics = _metrics_by_id(connection, sorted({s.peer.observation_id for s in page + mine}))
    data = [_entry(s, metrics[s.peer.observation_id]) for s in page]
    place_note = None
    if focus is not None and not mine:
        when = f"for {year}" if year is not None else "at all"
        place_note = f"{focus['slug']} has no value of {code} {when} among {group}"
    more = offset + limit < len(standings)
    return {
        "data": data,
        "meta": {
            "indicator": {k: indicator[k] for k in ("code", "name", "unit")},
            "year": year,
            "peers": {"group": group, "size": len(standings)},
            "order": order,
            "ties": TIES,
            "percentile": PERCENTILE,
            "pick": PICK,
            "conflicts": CONFLICT_RULE,
            "computed": True,
            "place": _entry(mine[0], metrics[mine[0].peer.observation_id]) if mine else None,
            "place_note": place_note,
            "returned": len(data),
            "limit": limit,
            "offset": offset,
        },
        "links": {"self": url, "next": _next(url, params, offset + limit) if more else None},
    }


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
    _allowed(params, RANKING_PARAMETERS)
    shape = ("rankings", "year" in params, params.get("peers", "").split(":")[0])
    body = await in_database(
        request,
        lambda c: to_json(build_ranking(c, params, url)),
        shape=shape,
        cost=f"ranking of {params.get('indicator', '')[:64]}",
    )
    return RawJSON(body)


# Comparisons -----------------------------------------------------------------------------


def _facts_by_key(connection: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = fetch_all(
        connection, "comparison-keys",
        lambda: metrics_select().where(IdSet(o.c.key, slot("keys"))),
        {"keys": id_set_value(connection, keys)},
    )  # fmt: skip
    return {row["key"]: serialize_metric(row) for row in rows}


def _fact_in_year(subject_column: Any) -> Select[Any]:
    return (
        metrics_select()
        .where(o.c.indicator_id == slot("indicator_id"), o.c.subject_kind == slot("kind"),
               subject_column == slot("subject_id"), o.c.year == slot("year"))
        .order_by(*recency_order())
        .limit(1)
    )  # fmt: skip


def _by_years(connection: Connection, params: QueryParams) -> tuple[dict[str, Any], ...]:
    code = _slug(params, "indicator")
    if code is None:
        raise parameter_problem("indicator", "required with from and to (or give two keys)")
    named = [name for name in SUBJECTS if name in params]
    if len(named) != 1:
        raise parameter_problem("place", "name one subject: place, cluster or program")
    name = named[0]
    slug = _slug(params, name)
    start, end = _year(params, "from"), _year(params, "to")
    for parameter, value in (("from", start), ("to", end)):
        if value is None:
            raise parameter_problem(parameter, "required: a year (or give from_key and to_key)")
    indicator = _indicator(connection, code)
    kind, table, column = SUBJECTS[name]
    row = fetch_one(connection, ("comparison-subject", name),
                    lambda: select(table.c.id).where(table.c.slug == slot("slug")),
                    {"slug": slug})  # fmt: skip
    if row is None:
        raise ProblemError(404, "not-found", f"no {kind} {slug!r}",
                           [ParameterError(name, f"no {kind} {slug!r}")])  # fmt: skip
    facts = []
    for parameter, year in (("from", start), ("to", end)):
        found = fetch_one(connection, ("comparison-year", name), lambda: _fact_in_year(column),
                          {"indicator_id": indicator["id"], "kind": kind,
                           "subject_id": row["id"], "year": year})  # fmt: skip
        if found is None:
            raise ProblemError(
                404, "not-found",
                f"no dated value of {code} for {kind} {slug!r} in {year}; facts whose period"
                " is unknown are compared by key (from_key, to_key)",
                [ParameterError(parameter, f"no value in {year}")],
            )  # fmt: skip
        facts.append(serialize_metric(found))
    return facts[0], facts[1]


def _by_keys(connection: Connection, params: QueryParams) -> tuple[dict[str, Any], ...]:
    for name in ("indicator", *SUBJECTS, "from", "to"):
        if name in params:
            raise parameter_problem(name, "not with from_key and to_key (a key names the fact)")
    keys = {}
    for name in ("from_key", "to_key"):
        key = _slug(params, name, 120)
        if key is None:
            raise parameter_problem(name, "required with the other key")
        keys[name] = key
    found = _facts_by_key(connection, list(keys.values()))
    for name, key in keys.items():
        if key not in found:
            raise ProblemError(404, "not-found", f"no metric {key!r}",
                               [ParameterError(name, f"no metric {key!r}")])  # fmt: skip
    start, end = found[keys["from_key"]], found[keys["to_key"]]
    if start["indicator"]["code"] != end["indicator"]["code"]:
        raise parameter_problem("to_key", "another indicator than from_key's")
    if start["subject"]["url"] != end["subject"]["url"]:
        raise parameter_problem("to_key", "another subject than from_key's")
    return start, end


def _input(fact: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": fact["key"],
        "period": fact["period"],
        "value": fact["value"],
        "unit": fact["unit"],
        "stated": fact["stated"],
        "qualifier": fact["qualifier"],
        "derived": fact["derived"],
        "formula": fact["formula"],
        "source": fact["provenance"]["source"]["id"],
        "conflicts_with": fact["conflicts_with"],
        "url": fact["url"],
    }


def build_comparison(connection: Connection, params: QueryParams, url: str) -> dict[str, Any]:
    _allowed(params, COMPARISON_PARAMETERS)
    keyed = "from_key" in params or "to_key" in params
    start, end = (_by_keys if keyed else _by_years)(connection, params)
    for parameter, fact in (("from_key" if keyed else "from", start),
                            ("to_key" if keyed else "to", end)):  # fmt: skip
        problem = bound_problem(fact)
        if problem:
            raise parameter_problem(parameter, problem)
    if start["key"] == end["key"]:
        to = "to_key" if keyed else "to"
        raise parameter_problem(to, f"the same fact as the other end ({start['key']!r})")
    result = compare(start, end, lambda keys: _facts_by_key(connection, keys))
    return {
        "data": {
            **result,
            "subject": start["subject"],
            "indicator": start["indicator"],
            "from": _input(start),
            "to": _input(end),
        },
        "meta": {
            "computed": True,
            "rule": "change = to - from, in the indicator's unit (percentage points for a"
            " percent); growth = (to - from) / from * 100 percent, null when from is not"
            " positive. Rounded as a derived value of the seeds is; exact only when both"
            " inputs are. A year picks the subject's fact whose period ends in it, by the"
            " rule of latest values. Bounds are refused. " + CONFLICT_RULE,
        },
        "links": {"self": url},
    }


@router.get(
    "/comparisons",
    operation_id="get_comparison",
    summary="Change and growth between two facts, computed with its formula",
    description="The change and growth rate of one indicator for one subject from one year to"
    " another (or between two facts named by key), computed on request and returned with"
    " the formula over the keys of its inputs: never stored, never mixed with stated values.",
    response_class=RawJSON,
    responses={
        200: {"model": ComparisonPage, "description": "The computed change and its inputs."},
        **problem_responses(400, 404, 422, 503),
    },
    openapi_extra={"parameters": COMPARISONS_DOC},
)
async def get_comparison(request: Request) -> RawJSON:
    params, url = request.query_params, str(request.url)
    _allowed(params, COMPARISON_PARAMETERS)
    body = await in_database(
        request,
        lambda c: to_json(build_comparison(c, params, url)),
        shape=("comparisons", "from_key" in params),
        cost="comparison",
    )
    return RawJSON(body)
