"""`/series`: one indicator for several subjects at once, shaped for a chart.

Each subject's dated points are ordered by period; facts whose period is unknown are
listed apart (`undated`) with the date they can be no later than (their source's
publication date, when known), never silently dropped or guessed into a year.
"""

from datetime import date
from typing import Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import Connection, Select, and_, or_, select
from starlette.datastructures import QueryParams
from starlette.responses import Response

from ..errors import parameter_problem
from ..facts.latest import pick
from ..models import tables as t
from ..models.vocabulary import Qualifier, SubjectKind, Unit
from ..paths import API_PREFIX
from ..query.expressions import IdSet
from ..query.lookups import names
from ..query.names import no_such
from ..query.parsing import check_names, parse_bool
from ..query.statements import fetch_all, slot
from ..query.terms import id_set_value
from . import answer_exports
from .dispatch import api_router
from .export_rows import columns
from .keys import SLUG_PATTERN_RE
from .metrics import METRICS_TAG, metrics_select, serialize_metric
from .per import PER_PARAMETER, YEAR_RULE, Metrics, PerMeta, PerValue, apply_per, parse_per
from .reads import in_database
from .resource import SLUG_PATTERN
from .responses import RawJSON, to_json
from .shapes import Period, Schema, SelfLink


class SeriesPoint(Schema):
    key: str
    period: Period
    value: float = Field(examples=[333], description="Normalized value, in the indicator's unit.")
    qualifier: Qualifier
    stated: str | None
    derived: bool
    conflicts_with: list[str] = Field(
        description="Keys of facts of the same period that give another value."
    )
    preferred: bool = Field(
        description="False when a conflicting fact is picked over this"
        " one (stated over derived, then a table's cell over a document, then the newer"
        " source)."
    )
    url: str
    not_after: date | None = Field(
        default=None, description="Undated points: the date the fact is known by."
    )
    per: PerValue | None = Field(default=None, description="With `per=` only.")


class SeriesSubject(Schema):
    kind: SubjectKind
    slug: str
    name: str | None = None
    url: str


class Series(Schema):
    subject: SeriesSubject
    points: list[SeriesPoint] = Field(description="Dated facts, ordered by period.")
    undated: list[SeriesPoint] = Field(description="Facts whose period is unknown.")


class SeriesIndicator(Schema):
    code: str = Field(examples=["high_tech_enterprises"])
    name: str | None = Field(description="Null when no subject has a value of it.")
    unit: Unit | None = Field(description="Null when no subject has a value of it.")


class SeriesMeta(Schema):
    indicator: SeriesIndicator
    subjects: int
    points: int
    undated: int
    rule: str
    per: PerMeta | None = Field(default=None, description="With `per=` only.")


class SeriesPage(Schema):
    data: list[Series]
    meta: SeriesMeta
    links: SelfLink


observation = t.observation
SUBJECTS = {
    "places": ("place", t.place, observation.c.place_id),
    "clusters": ("cluster", t.cluster, observation.c.cluster_id),
    "programs": ("program", t.program, observation.c.program_id),
}
PARAMETERS = ("indicator", *SUBJECTS, "derived", "per", *answer_exports.CONTROLS)
MAX_SUBJECTS = 20
MAX_POINTS = 2000
UNDATED_RULE = (
    "Points are ordered by period start, then end. Facts whose period is unknown are in"
    " `undated`, each with `not_after`, the publication date of its source (null when that"
    " is unknown too); year filters on /metrics match dated facts only (add"
    " `year__isnull=true` for the undated), and sorts by year or period_end put them last."
    " Conflicting points (same period, other value) are both listed, each naming the other;"
    " `preferred` is false on the one the rule of latest values does not pick."
)

router = api_router(METRICS_TAG.name)
SERIES_PARAMETERS: list[dict[str, Any]] = [
    {"name": "indicator", "in": "query", "required": True,
     "description": "The indicator's code.",
     "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 64},
     "example": "high_tech_enterprises"},
    *({"name": name, "in": "query", "required": False,
       "description": f"{kind.capitalize()} slugs, comma-separated (at most"
       f" {MAX_SUBJECTS}). With none of places, clusters and programs, every subject"
       f" with facts of the indicator (at most {MAX_POINTS} points).",
       "schema": {"type": "string", "maxLength": 64 * MAX_SUBJECTS + MAX_SUBJECTS,
                  "pattern": r"^[a-z0-9][a-z0-9_-]{0,63}(,[a-z0-9][a-z0-9_-]{0,63}){0,19}$"},
       "example": {"places": "daye,changzhi", "clusters": "hefei-intelligent-voice",
                   "programs": "manufacturing-city-tech-transformation-pilot"}[name]}
      for name, (kind, _, _) in SUBJECTS.items()),
    {"name": "derived", "in": "query", "required": False,
     "description": "false: stated values only; true: derived ones only.",
     "schema": {"type": "boolean"}},
    PER_PARAMETER,
    *answer_exports.PARAMETERS,
]  # fmt: skip
# A row of the CSV: the subject, then the point (its `per` columns with `per=` only).
ROW_COLUMNS = [*columns(SeriesSubject, "subject."), *columns(SeriesPoint)]


def _slugs(params: QueryParams, name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    slugs = list(dict.fromkeys(raw.split(",")))
    for slug in slugs:
        if len(slug) > 64 or not SLUG_PATTERN_RE.match(slug):
            raise parameter_problem(name, f"{slug!r} is not a slug")
    return slugs


def _read(params: QueryParams) -> tuple[str, dict[str, list[str]], bool | None, str | None]:
    check_names(params, PARAMETERS, "given more than once; separate values with commas")
    indicator = params.get("indicator")
    if indicator is None:
        raise parameter_problem("indicator", "required: the indicator code")
    if len(indicator) > 64 or not SLUG_PATTERN_RE.match(indicator):
        raise parameter_problem("indicator", f"{indicator!r} is not an indicator code")
    subjects = {name: _slugs(params, name) for name in SUBJECTS}
    for name, slugs in subjects.items():
        if len(slugs) > MAX_SUBJECTS:
            raise parameter_problem(name, f"at most {MAX_SUBJECTS} at once")
    derived = None if "derived" not in params else parse_bool("derived", params["derived"])
    per = params.get("per")
    if per is not None and (len(per) > 64 or not SLUG_PATTERN_RE.match(per)):
        raise parameter_problem("per", f"{per!r} is neither person, 10k_people nor a code")
    return indicator, subjects, derived, per


def _ids(connection: Connection, table: Any, key: str, values: list[str]) -> dict[str, int]:
    rows = fetch_all(
        connection,
        ("series-keys", table.name, key),
        lambda: select(table.c.id, table.c[key].label("key")).where(
            IdSet(table.c[key], slot("keys"))
        ),
        {"keys": id_set_value(connection, values)},
    )
    return {row["key"]: row["id"] for row in rows}


def _statement(kinds: tuple[str, ...], derived: bool | None) -> Select[Any]:
    alternatives = [
        and_(
            observation.c.subject_kind == SUBJECTS[name][0],
            IdSet(SUBJECTS[name][2], slot(f"{name}_ids")),
        )
        for name in kinds
    ]
    statement = metrics_select().where(observation.c.indicator_id == slot("indicator_id"))
    if alternatives:  # no subject named: every subject of the indicator
        statement = statement.where(or_(*alternatives))
    if derived is not None:
        statement = statement.where(observation.c.derived == slot("derived"))
    return statement.order_by(
        observation.c.period_start, observation.c.period_end, observation.c.key
    ).limit(slot("points"))


def _point(metric: dict[str, Any], preferred: bool) -> dict[str, Any]:
    per = {"per": metric["per"]} if "per" in metric else {}
    return per | {
        "key": metric["key"],
        "period": metric["period"],
        "value": metric["value"],
        "qualifier": metric["qualifier"],
        "stated": metric["stated"],
        "derived": metric["derived"],
        "conflicts_with": metric["conflicts_with"],
        "preferred": preferred,
        "url": metric["url"],
    }


def _mark_preferred(connection: Connection, metrics: list[dict[str, Any]]) -> set[str]:
    """The keys of the facts a conflicting fact beats by the rule of latest values."""
    known = {m["key"]: m for m in metrics}
    wanted = sorted({k for m in metrics for k in m["conflicts_with"]} - set(known))
    if wanted:
        rows = fetch_all(
            connection, "series-conflicts",
            lambda: metrics_select().where(IdSet(observation.c.key, slot("keys"))),
            {"keys": id_set_value(connection, wanted)},
        )  # fmt: skip
        known.update((row["key"], serialize_metric(row)) for row in rows)
    beaten = set()
    for metric in metrics:
        if metric["conflicts_with"]:
            group = [metric, *(known[k] for k in metric["conflicts_with"] if k in known)]
            if pick(group)["key"] != metric["key"]:
                beaten.add(metric["key"])
    return beaten


def build_series(
    connection: Connection,
    indicator: str,
    subjects: dict[str, list[str]],
    derived: bool | None,
    per: str | None = None,
) -> dict[str, Any]:
    found = _ids(connection, t.indicator, "code", [indicator])
    if indicator not in found:
        raise no_such(connection, names(t.indicator, "code"), "indicator", indicator)
    values: dict[str, Any] = {"indicator_id": found[indicator], "points": MAX_POINTS + 1}
    kinds = tuple(name for name in SUBJECTS if subjects[name])
    order: list[tuple[str, str]] = []
    for name in kinds:
        ids = _ids(connection, SUBJECTS[name][1], "slug", subjects[name])
        missing = [slug for slug in subjects[name] if slug not in ids]
        if missing:
            raise no_such(connection, names(SUBJECTS[name][1]), name, missing[0])
        values[f"{name}_ids"] = id_set_value(connection, sorted(ids.values()))
        order.extend((SUBJECTS[name][0], slug) for slug in subjects[name])
    if derived is not None:
        values["derived"] = derived
    rows = fetch_all(
        connection, ("series", kinds, derived is None), lambda: _statement(kinds, derived), values
    )
    if len(rows) > MAX_POINTS:
        raise parameter_problem("places", f"more than {MAX_POINTS} points; name fewer subjects")
    series: dict[tuple[str, str], dict[str, Any]] = {
        subject: {"subject": None, "points": [], "undated": []} for subject in order
    }
    metrics = [serialize_metric(row) for row in rows]
    if per is not None:
        read = Metrics(metrics_select, serialize_metric)
        apply_per(connection, metrics, parse_per(connection, per, indicator), read)
    beaten = _mark_preferred(connection, metrics)
    for metric in metrics:
        subject = (metric["subject"]["kind"], metric["subject"]["slug"])
        if subject not in series:  # every subject asked for (ordered below)
            series[subject] = {"subject": None, "points": [], "undated": []}
        entry = series[subject]
        entry["subject"] = metric["subject"]
        if metric["period"]["start"] is None:
            not_after = metric["provenance"]["source"]["published_on"]
            entry["undated"].append({**_point(metric, True), "not_after": not_after})
        else:
            entry["points"].append(_point(metric, metric["key"] not in beaten))
    for (kind, slug), entry in series.items():
        if entry["subject"] is None:  # no fact of this indicator for it
            collection = {"place": "places", "cluster": "clusters", "program": "programs"}[kind]
            entry["subject"] = {
                "kind": kind,
                "slug": slug,
                "url": f"{API_PREFIX}/{collection}/{slug}",
            }
    data = list(series.values()) if order else [series[k] for k in sorted(series)]
    return {"data": data, "rows": rows}


@router.get(
    "/series",
    operation_id="get_series",
    summary="One indicator for several subjects, for a chart",
    description="Points ordered by period for each subject, with value, qualifier and metric"
    f" key; undated facts apart. {UNDATED_RULE} With `format=csv` (or ndjson), a row per"
    " point, dated then undated, each with its subject.",
    **answer_exports.row_answers(
        SeriesPage,
        "One series per subject, in the order named.",
        (ROW_COLUMNS, "point"),
        400,
        404,
        422,
        503,
        parameters=SERIES_PARAMETERS,
    ),
)
async def get_series(request: Request) -> Response:
    wanted = answer_exports.asked(request)
    params = answer_exports.answer_parameters(request.query_params)
    indicator, subjects, derived, per = _read(params)

    def work(connection: Connection) -> Any:
        built = build_series(connection, indicator, subjects, derived, per)
        if wanted.rows:
            return built["data"]
        rows = built["rows"]
        meta = {
            "indicator": serialize_metric(rows[0])["indicator"]
            if rows
            else {"code": indicator, "name": None, "unit": None},
            "subjects": len(built["data"]),
            "points": sum(len(s["points"]) for s in built["data"]),
            "undated": sum(len(s["undated"]) for s in built["data"]),
            "rule": UNDATED_RULE,
        }
        if per is not None:
            meta["per"] = {"denominator": per, "year_rule": YEAR_RULE}
        return to_json({"data": built["data"], "meta": meta, "links": {"self": str(request.url)}})

    shape = ("series", tuple(sorted(k for k, v in subjects.items() if v)))
    answer = await in_database(request, work, shape=shape, cost=f"series of {indicator}")
    if not wanted.rows:
        return RawJSON(answer)
    rows = [{"subject": s["subject"], **p} for s in answer for p in s["points"] + s["undated"]]
    names = [n for n in ROW_COLUMNS if per is not None or not n.startswith("per.")]
    return answer_exports.rows_response(
        request, wanted, name="series", columns=names, rows=rows, query=list(params.multi_items())
    )
