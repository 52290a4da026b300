"""`/comparisons`: change and growth between two facts of one subject and indicator,
computed on request with the formula over the keys of its inputs (app.facts.comparisons)."""

import re
from typing import Any, Literal

from fastapi import Request
from pydantic import Field
from sqlalchemy import Connection, Select, select
from starlette.datastructures import QueryParams

from ..errors import InvalidParameter, ProblemError, parameter_problem, shown
from ..facts.comparisons import bound_problem, compare
from ..facts.conflicts import CONFLICT_RULE
from ..facts.latest import recency_order
from ..models import tables as t
from ..models.vocabulary import Qualifier, Unit
from ..query.expressions import IdSet
from ..query.lookups import names
from ..query.names import no_such
from ..query.statements import fetch_all, fetch_one, slot
from ..query.terms import id_set_value
from .dispatch import api_router
from .metrics import metrics_select, serialize_metric
from .peers import (
    INDICATOR,
    YEAR,
    allowed,
    find_indicator,
    query_doc,
    read_slug,
    read_year,
)
from .rankings import (
    RANKINGS_TAG,
)
from .reads import in_database
from .resource import Found, View
from .responses import RawJSON, problem_responses, to_json
from .shapes import IndicatorRef, Period, Schema, SelfLink, Subject


class ComparisonInput(Schema):
    key: str = Field(examples=["hunan-private-trade-share-2018"])
    period: Period
    value: float
    unit: Unit
    stated: str | None
    qualifier: Qualifier
    derived: bool
    formula: str | None
    source: str
    conflicts_with: list[str]
    url: str


class ComputedValue(Schema):
    value: float = Field(examples=[1.1])
    unit: Unit = Field(examples=["percentage_point"])
    formula: str = Field(
        examples=["{hunan-private-trade-share-2018} - {hunan-private-trade-share-2017}"]
    )
    qualifier: Qualifier


class Comparison(Schema):
    computed: Literal[True]
    inputs: list[str] = Field(description="The keys of the two facts, earlier first.")
    change: ComputedValue
    growth: ComputedValue | None
    no_growth: str | None = Field(description="Why there is no growth rate, when there is none.")
    circular: bool = Field(
        description="True when one input was derived from the other (directly or through its"
        " formula's inputs): the figure then restates the source, it does not confirm it."
    )
    chain: list[str] = Field(
        description="When circular, the keys from the derived input down its formulas to the"
        " other input; empty otherwise.",
        examples=[["changzhi-enterprise-rd-investment-previous",
                   "changzhi-enterprise-rd-investment"]],
    )  # fmt: skip
    explanation: str | None = Field(
        description="When circular, what the figure restates and why it is no confirmation."
    )
    subject: Subject
    indicator: IndicatorRef
    from_: ComparisonInput = Field(alias="from")
    to: ComparisonInput


class ComparisonMeta(Schema):
    computed: Literal[True]
    rule: str


class ComparisonPage(Schema):
    data: Comparison
    meta: ComparisonMeta
    links: SelfLink


o = t.observation
router = api_router(RANKINGS_TAG.name)
SUBJECTS = {"place": (t.place, o.c.place_id), "cluster": (t.cluster, o.c.cluster_id),
            "program": (t.program, o.c.program_id)}  # fmt: skip
SUBJECT_PATTERN = r"^(place|cluster|program):[a-z0-9][a-z0-9_-]{0,63}$"
Pair = tuple[dict[str, Any], dict[str, Any]]  # the earlier fact and the later one
YEARS_PARAMETERS = ("indicator", "subject", "from", "to")
KEY = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_-]*$", "maxLength": 120}
COMPARISONS_DOC = [
    INDICATOR,
    query_doc("subject", "The subject compared: `place:<slug>`, `cluster:<slug>` or"
              " `program:<slug>`.", {"type": "string", "pattern": SUBJECT_PATTERN,
                                      "maxLength": 72}, "place:hunan", required=True),
    query_doc("from", "The earlier year (the period ends in it).", YEAR, 2017, required=True),
    query_doc("to", "The later year.", YEAR, 2018, required=True),
]  # fmt: skip
FROM_KEY_DOC = [
    query_doc("from", "The key of the earlier fact (same subject and indicator).", KEY,
              "changzhi-enterprise-rd-investment-previous", required=True),
]  # fmt: skip
RULE = (
    "change = to - from, in the indicator's unit (percentage points for a percent); growth ="
    " (to - from) / from * 100 percent, null when from is not positive. Rounded as a derived"
    " value of the seeds is; exact only when both inputs are. A year picks the subject's fact"
    " whose period ends in it, by the rule of latest values. Bounds are refused. " + CONFLICT_RULE
)


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


def _years_asked(params: QueryParams) -> tuple[str, str, str, int, int]:
    """indicator, subject kind and slug, from and to years: checked before any database
    read (a bad parameter is a 4xx whatever version the request pins)."""
    allowed(params, YEARS_PARAMETERS)
    code, subject = read_slug(params, "indicator"), params.get("subject")
    start, end = read_year(params, "from"), read_year(params, "to")
    for name, value in (("indicator", code), ("subject", subject), ("from", start),
                        ("to", end)):  # fmt: skip
        if value is None:
            raise parameter_problem(name, "required")
    assert code is not None
    assert subject is not None
    assert start is not None
    assert end is not None
    if len(subject) > 72 or not re.fullmatch(SUBJECT_PATTERN.strip("^$"), subject):
        raise parameter_problem("subject", f"{shown(subject)} is not place:, cluster: or"
                                " program: and a slug")  # fmt: skip
    if start > end:
        why = f"from ({start}) is later than to ({end}); swap them to compare {end} with {start}"
        raise ProblemError(
            422, "invalid-parameter", f"from, to: {why}",
            [InvalidParameter("from", why), InvalidParameter("to", why)],
        )  # fmt: skip
    kind, _, slug = subject.partition(":")
    return code, kind, slug, start, end


def _by_years(connection: Connection, params: QueryParams) -> Pair:
    code, kind, slug, start, end = _years_asked(params)
    indicator = find_indicator(connection, code)
    table, column = SUBJECTS[kind]
    row = fetch_one(connection, ("comparison-subject", kind),
                    lambda: select(table.c.id).where(table.c.slug == slot("slug")),
                    {"slug": slug})  # fmt: skip
    if row is None:
        raise no_such(connection, names(table), "subject", slug)
    facts = []
    for name, year in (("from", start), ("to", end)):
        found = fetch_one(connection, ("comparison-year", kind), lambda: _fact_in_year(column),
                          {"indicator_id": indicator["id"], "kind": kind,
                           "subject_id": row["id"], "year": year})  # fmt: skip
        if found is None:
            raise ProblemError(
                422, "invalid-parameter",
                f"{name}: no dated value of {code} for {kind} {slug!r} in {year}; facts whose"
                " period is unknown are compared by key: /metrics/{key}/comparison?from={key}",
                [InvalidParameter(name, f"no value in {year}")],
            )  # fmt: skip
        facts.append(serialize_metric(found))
    return facts[0], facts[1]


def _key_asked(params: QueryParams) -> str:
    """The earlier fact's key, checked before any database read."""
    allowed(params, ("from",))
    earlier = read_slug(params, "from", 120)
    if earlier is None:
        raise parameter_problem("from", "required: the key of the earlier fact")
    return earlier


def _by_keys(connection: Connection, key: str, params: QueryParams) -> Pair:
    earlier = _key_asked(params)
    found = _facts_by_key(connection, [key, earlier])
    if earlier not in found:
        raise parameter_problem("from", f"no metric {shown(earlier)}")
    start, end = found[earlier], found[key]
    for part, name in (("indicator", "code"), ("subject", "url")):
        if start[part][name] != end[part][name]:
            why = f"{earlier!r} is a fact of another {part} than {key!r}"
            raise parameter_problem("from", why)
    first, last = start["period"]["end"], end["period"]["end"]
    if first is not None and last is not None and first > last:  # as /comparisons refuses
        raise parameter_problem(
            "from",
            f"{earlier!r} ends on {first}, after {key!r} ({last}): name the earlier fact in"
            " `from` and compare from it to the later one",
        )
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


def _comparison(pair: Pair, connection: Connection, url: str, later: str = "to") -> dict[str, Any]:
    """`later` names the parameter of the later fact (`to`, or the path's `key`)."""
    start, end = pair
    for name, fact in (("from", start), (later, end)):
        problem = bound_problem(fact)
        if problem:
            raise parameter_problem(name, problem)
    result = compare(start, end, lambda keys: _facts_by_key(connection, keys))
    return {
        "data": {
            **result,
            "subject": start["subject"],
            "indicator": start["indicator"],
            "from": _input(start),
            "to": _input(end),
        },
        "meta": {"computed": True, "rule": RULE},
        "links": {"self": url},
    }


@router.get(
    "/comparisons",
    operation_id="get_comparison",
    summary="Change and growth from one year to another, computed with its formula",
    description="The change and growth rate of one indicator for one subject from one year to"
    " another, computed on request and returned with the formula over the keys of its"
    " inputs: never stored, never mixed with stated values. Facts whose period is unknown"
    " are compared by key, at /metrics/{key}/comparison.",
    response_class=RawJSON,
    responses={
        200: {"model": ComparisonPage, "description": "The computed change and its inputs."},
        **problem_responses(400, 404, 422, 503),
    },
    openapi_extra={"parameters": COMPARISONS_DOC},
)
async def get_comparison(request: Request) -> RawJSON:
    params, url = request.query_params, str(request.url)
    _years_asked(params)

    def work(connection: Connection) -> bytes:
        return to_json(_comparison(_by_years(connection, params), connection, url))

    body = await in_database(request, work, shape=("comparisons",), cost="comparison")
    return RawJSON(body)


def _metric_comparison(
    connection: Connection, found: Found, params: QueryParams, url: str
) -> dict[str, Any]:
    return _comparison(_by_keys(connection, found.key, params), connection, url, "key")


COMPARISON = View(
    "comparison",
    ComparisonPage,
    returns="The computed change and its inputs.",
    summary="Change and growth from an earlier fact to this one, computed with its formula",
    description="The change and growth rate from the fact `from` to this one (same subject and"
    " indicator, either may be undated), computed on request and returned with the formula"
    " over the keys of both: never stored, never mixed with stated values. A `from` about"
    " another subject or indicator is a 422.",
    parameters=FROM_KEY_DOC,
    check=_key_asked,
    answer=_metric_comparison,
    shape=lambda _params: ("metric-comparison",),
    cost="comparison",
)
