"""`/comparisons`: change and growth between two facts of one subject and indicator,
computed on request with the formula over the keys of its inputs (app.query.comparisons)."""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection, Select, select
from starlette.datastructures import QueryParams

from app.api import tables as t
from app.api.deps import in_database
from app.api.metrics import metrics_select, serialize_metric
from app.api.rankings import (
    INDICATOR,
    YEAR,
    allowed,
    find_indicator,
    query_doc,
    read_slug,
    read_year,
)
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.schemas import ComparisonPage
from app.errors import ParameterError, ProblemError, parameter_problem
from app.query.comparisons import bound_problem, compare
from app.query.conflicts import CONFLICT_RULE
from app.query.execute import id_set_value
from app.query.expressions import IdSet
from app.query.latest import recency_order
from app.query.statements import fetch_all, fetch_one, slot

o = t.observation
router = APIRouter(tags=["rankings"])
SUBJECTS = {"place": ("place", t.place, o.c.place_id), "cluster": ("cluster", t.cluster,
            o.c.cluster_id), "program": ("program", t.program, o.c.program_id)}  # fmt: skip
COMPARISON_PARAMETERS = ("indicator", *SUBJECTS, "from", "to", "from_key", "to_key")
KEY = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 120}
SUBJECT_EXAMPLES = {"place": "hunan", "cluster": "hefei-intelligent-voice",
                    "program": "manufacturing-city-tech-transformation-pilot"}  # fmt: skip
COMPARISONS_DOC = [
    {**INDICATOR, "required": False,
     "description": "The indicator's code (with a subject and `from`/`to`)."},
    *(query_doc(name, f"The {name}'s slug: the subject compared (one of place, cluster,"
                " program).", {**KEY, "maxLength": 64}, SUBJECT_EXAMPLES[name])
      for name in SUBJECTS),
    query_doc("from", "The earlier year (the period ends in it).", YEAR, 2017),
    query_doc("to", "The later year.", YEAR, 2018),
    query_doc("from_key", "Instead of a subject and years: the key of the earlier fact.", KEY,
              "changzhi-enterprise-rd-investment-previous"),
    query_doc("to_key", "The key of the later fact (same subject and indicator).", KEY,
              "changzhi-enterprise-rd-investment"),
]  # fmt: skip


def _facts_by_key(connection: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = fetch_all(
        connection, "comparison-keys",
        lambda: metrics_select().where(IdSet(o.c.key, slot("keys"))),
        {"keys": id_set_value(connection, keys)},
    )  # fmt: skip
    return {row["key"]: serialize_metric(row) for row in rows}


def _fact_inread_year(subject_column: Any) -> Select[Any]:
    return (
        metrics_select()
        .where(o.c.indicator_id == slot("indicator_id"), o.c.subject_kind == slot("kind"),
               subject_column == slot("subject_id"), o.c.year == slot("year"))
        .order_by(*recency_order())
        .limit(1)
    )  # fmt: skip


def _by_years(connection: Connection, params: QueryParams) -> tuple[dict[str, Any], ...]:
    code = read_slug(params, "indicator")
    if code is None:
        raise parameter_problem("indicator", "required with from and to (or give two keys)")
    named = [name for name in SUBJECTS if name in params]
    if len(named) != 1:
        raise parameter_problem("place", "name one subject: place, cluster or program")
    name = named[0]
    slug = read_slug(params, name)
    start, end = read_year(params, "from"), read_year(params, "to")
    for parameter, value in (("from", start), ("to", end)):
        if value is None:
            raise parameter_problem(parameter, "required: a year (or give from_key and to_key)")
    indicator = find_indicator(connection, code)
    kind, table, column = SUBJECTS[name]
    row = fetch_one(connection, ("comparison-subject", name),
                    lambda: select(table.c.id).where(table.c.slug == slot("slug")),
                    {"slug": slug})  # fmt: skip
    if row is None:
        raise ProblemError(404, "not-found", f"no {kind} {slug!r}",
                           [ParameterError(name, f"no {kind} {slug!r}")])  # fmt: skip
    facts = []
    for parameter, year in (("from", start), ("to", end)):
        found = fetch_one(connection, ("comparison-year", name), lambda: _fact_inread_year(column),
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
        key = read_slug(params, name, 120)
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
    allowed(params, COMPARISON_PARAMETERS)
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
    allowed(params, COMPARISON_PARAMETERS)
    body = await in_database(
        request,
        lambda c: to_json(build_comparison(c, params, url)),
        shape=("comparisons", "from_key" in params),
        cost="comparison",
    )
    return RawJSON(body)
