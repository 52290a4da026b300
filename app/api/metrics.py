"""`/metrics`: observations with their indicator, subject, period and provenance inline."""

from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import Select, select

from ..facts.conflicts import CONFLICT_RULE, conflict_keys, conflicts_column
from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import Qualifier, SubjectKind, Unit
from ..paths import API_PREFIX
from ..query import (
    RANGE_OPERATORS,
    Filter,
    ListSpec,
    Sort,
    TableIndex,
    choice_filter,
)
from ..query.facets import Facet, province_facet
from ..query.lookups import by_key, place_filters
from ..query.search import relevance_sort, search_filter
from ..query.spec import Augment, Implied
from .per import PER_PARAMETER, Metrics, PerValue, augment
from .resource import Detail, PathKey, Resource, Tag
from .shapes import (
    IndicatorRef,
    Period,
    PlaceRef,
    Provenance,
    Row,
    Schema,
    Subject,
    labelled,
    page_of,
    place_ref,
    provenance,
    provenance_columns,
)


def period_end_bounds(operator: str, years: list[Any]) -> tuple[date | None, date | None] | None:
    """The period ends a `year` filter allows: a fact's year is the year its period ends
    (app.seeding.periods), so `year=2020` is a period end within 2020."""
    if not years or not 1 < int(min(years)) <= int(max(years)) < 9999:
        return None  # no year a date can hold: the filter alone answers
    first, last = int(min(years)), int(max(years))
    spans: dict[str, tuple[date | None, date | None]] = {
        "exact": (date(first, 1, 1), date(first, 12, 31)),
        "in": (date(first, 1, 1), date(last, 12, 31)),
        "gt": (date(first + 1, 1, 1), None),
        "gte": (date(first, 1, 1), None),
        "lt": (None, date(first - 1, 12, 31)),
        "lte": (None, date(first, 12, 31)),
    }
    return spans.get(operator)


METRICS_TAG = Tag("metrics", "Observations with full provenance.")


class Metric(Schema):
    key: str = Field(examples=["daye-high-tech-enterprises-2023"])
    indicator: IndicatorRef
    subject: Subject
    place: PlaceRef | None = Field(description="The place the subject lies in.")
    period: Period
    value: float = Field(examples=[333], description="Normalized value, in `unit`.")
    unit: Unit = Field(examples=["count"])
    stated: str | None = Field(description="The value as the document states it.")
    qualifier: Qualifier
    derived: bool
    formula: str | None
    ambiguity: str | None
    note: str | None
    provenance: Provenance
    conflicts_with: list[str] = Field(
        examples=[[]],
        description="Keys of facts about the same subject, indicator and known period that"
        " give another value (empty: none). Both are served; latest values, rankings and a"
        " series' preferred point pick one: stated over derived, then a table's cell over a"
        " document, then the newer source.",
    )
    url: str
    per: PerValue | None = Field(default=None, description="With `per=` only.")


MetricPage = page_of(Metric, "MetricPage")


observation = t.observation
subject_place = t.place.alias("subject_place")


def metrics_select() -> Select[Any]:
    return select(
        observation.c.key,
        observation.c.subject_kind,
        *labelled("indicator", t.indicator, "code", "name", "unit"),
        *labelled("place", subject_place, "slug", "name", "level"),
        *labelled("cluster", t.cluster, "slug", "name"),
        *labelled("program", t.program, "slug", "name"),
        observation.c.period_label,
        observation.c.period_start,
        observation.c.period_end,
        observation.c.period_precision,
        observation.c.year,
        observation.c.value,
        observation.c.stated,
        observation.c.qualifier,
        observation.c.derived,
        observation.c.formula,
        observation.c.ambiguity,
        observation.c.note,
        conflicts_column(),
        *provenance_columns(observation, t.source),
    ).select_from(
        # Outer joins on NOT NULL keys return the same rows as inner joins, but keep SQLite
        # from reordering them: the observation stays the driving table, so its indexes
        # (not, say, a scan of the one-row source table) decide the plan.
        observation.outerjoin(t.indicator, t.indicator.c.id == observation.c.indicator_id)
        .outerjoin(subject_place, subject_place.c.id == observation.c.place_id)
        .outerjoin(t.cluster, t.cluster.c.id == observation.c.cluster_id)
        .outerjoin(t.program, t.program.c.id == observation.c.program_id)
        .outerjoin(t.source, t.source.c.id == observation.c.source_id)
    )


# Per subject kind: the row's columns that name the subject, and the start of its URL.
_SUBJECT_COLUMNS = {
    kind: (f"{kind}_slug", f"{kind}_name", f"{API_PREFIX}/{collection}/")
    for kind, collection in (("place", "places"), ("cluster", "clusters"), ("program", "programs"))
}
_METRIC_URL = f"{API_PREFIX}/metrics/"


def serialize_metric(row: Row) -> dict[str, Any]:
    """One metric as the API shows it. Every page item passes here, so the column names
    and URL prefixes are built once, above, not once per row."""
    kind = row["subject_kind"]
    slug_column, name_column, subject_url = _SUBJECT_COLUMNS[kind]
    slug = row[slug_column]
    unit = row["indicator_unit"]
    value = row["value"]
    if float(value).is_integer() and abs(value) < 2**63:
        value = int(value)  # 137800000000, not 137800000000.0
    key = row["key"]
    return {
        "key": key,
        "indicator": {
            "code": row["indicator_code"],
            "name": row["indicator_name"],
            "unit": unit,
        },
        "subject": {
            "kind": kind,
            "slug": slug,
            "name": row[name_column],
            "url": f"{subject_url}{slug}",
        },
        "place": place_ref(row, "place"),
        "period": {
            "label": row["period_label"],
            "start": row["period_start"],
            "end": row["period_end"],
            "precision": row["period_precision"],
            "year": row["year"],
        },
        "value": value,
        "unit": unit,
        "stated": row["stated"],
        "qualifier": row["qualifier"],
        "derived": bool(row["derived"]),
        "formula": row["formula"],
        "ambiguity": row["ambiguity"],
        "note": row["note"],
        "provenance": provenance(row),
        "conflicts_with": conflict_keys(row["conflicts_with"]),
        "url": f"{_METRIC_URL}{key}",
    }


# The filters on the place of a fact's subject: (relation, description, example).
SUBJECT_PLACE_FILTERS = (
    ("city", "City slug: facts about the city or any place inside it.", "daye"),
    ("province", "Province slug: facts about the province or any place inside it.", "hunan"),
    ("place", "Place slug: facts whose subject is, or lies in, exactly this place.",
     "chaoyang-beijing"),
    ("within", "Place slug of any level: facts about it or anything inside it.", "china"),
)  # fmt: skip


METRIC_SPEC = ListSpec(
    name="metrics",
    base=metrics_select,
    id_column=observation.c.id,
    filters=(
        Filter(
            "indicator",
            "Indicator code.",
            column=observation.c.indicator_id,
            lookup=by_key(t.indicator, "code"),
            example="high_tech_enterprises",
        ),
        Filter(
            "category",
            "Indicator category.",
            column=observation.c.indicator_id,
            lookup=by_key(t.indicator, "category", "indicator category"),
            example="innovation",
        ),
        *place_filters(observation.c.place_id, SUBJECT_PLACE_FILTERS),
        Filter(
            "cluster",
            "Cluster slug.",
            column=observation.c.cluster_id,
            lookup=by_key(t.cluster),
            example="hefei-intelligent-voice",
        ),
        Filter(
            "program",
            "Program slug.",
            column=observation.c.program_id,
            lookup=by_key(t.program),
            example="manufacturing-city-tech-transformation-pilot",
        ),
        choice_filter("subject_kind", observation.c.subject_kind, SubjectKind, "place"),
        Filter(
            "year",
            "Year the period ends in.",
            int,
            RANGE_OPERATORS,
            column=observation.c.year,
            example=2023,
            implies=Implied(observation.c.period_end, period_end_bounds),
        ),
        Filter("value", "Normalized value.", float, RANGE_OPERATORS, column=observation.c.value),
        choice_filter("qualifier", observation.c.qualifier, Qualifier, "more_than"),
        Filter(
            "derived",
            "Derived (true) or stated (false).",
            bool,
            ("exact",),
            column=observation.c.derived,
        ),
        Filter(
            "source",
            "Source id.",
            column=observation.c.source_id,
            lookup=by_key(t.source, "id"),
            example="std-2024-03-25-daye",
        ),
        Filter(
            "latest",
            "true: only the most recent fact of each subject and indicator (false: the"
            " facts a later one supersedes). Dated before undated, later period end first,"
            " then stated before derived, then a table's cell before a document, then the"
            " newer source.",
            bool,
            ("exact",),
            column=observation.c.latest,
            example=True,
        ),
        Filter(
            "conflict",
            "true: facts another fact contradicts (same subject, indicator and known period,"
            " another value); false: the others. " + CONFLICT_RULE,
            bool,
            ("exact",),
            column=observation.c.conflict,
            example=True,
        ),
        search_filter(BY_KIND["metric"], observation.c.id, ranked=True),
    ),
    sorts=(
        Sort("id", observation.c.id, int),
        Sort("value", observation.c.value, float),
        Sort("year", observation.c.year, int, nullable=True),
        Sort("period_end", observation.c.period_end, date, nullable=True),
        Sort("key", observation.c.key, str),
        relevance_sort(BY_KIND["metric"], observation.c.key),
    ),
    default_sort=("id",),
    few_valued=("year", "period_end"),
    determines=(("period_end", "year"),),
    fields=tuple(name for name in Metric.model_fields if name != "per"),
    serialize=serialize_metric,
    augment=Augment(PER_PARAMETER, augment(Metrics(metrics_select, serialize_metric))),
    indexes=(
        TableIndex("pk_observation", ("id",)),
        TableIndex("uq_observation_key", ("key",)),
        TableIndex("ix_observation_indicator_year_value", ("indicator_id", "year", "value", "id")),
        TableIndex(
            "ix_observation_place_indicator_year", ("place_id", "indicator_id", "year", "id")
        ),
        TableIndex("ix_observation_indicator_value", ("indicator_id", "value", "id")),
        TableIndex("ix_observation_year_id", ("year", "id")),
        TableIndex("ix_observation_year_value_id", ("year", "value", "id")),
        TableIndex("ix_observation_value_id", ("value", "id")),
        TableIndex("ix_observation_period_end_id", ("period_end", "id")),
        TableIndex("ix_observation_period_end_value_id", ("period_end", "value", "id")),
        TableIndex("ix_observation_qualifier_id", ("qualifier", "id")),
        TableIndex("ix_observation_subject_kind_id", ("subject_kind", "id")),
        TableIndex("ix_observation_derived_id", ("derived", "id")),
        TableIndex("ix_observation_latest_period_end_id", ("latest", "period_end", "id")),
        TableIndex("ix_observation_latest_year_id", ("latest", "year", "id")),
        TableIndex("ix_observation_latest_value_id", ("latest", "value", "id")),
        TableIndex("ix_observation_conflict_id", ("conflict", "id")),
        TableIndex("ix_observation_latest_id", ("latest", "id")),
        TableIndex("ix_observation_cluster_id", ("cluster_id",)),
        TableIndex("ix_observation_program_id", ("program_id",)),
        TableIndex("ix_observation_source_id", ("source_id",)),
    ),
    facets=(
        Facet(
            "indicator", "the indicator", observation.c.indicator_id, labels=t.indicator, key="code"
        ),
        Facet(
            "category",
            "the indicator's category",
            t.indicator.c.category,
            joins=lambda table: table.join(
                t.indicator, t.indicator.c.id == observation.c.indicator_id
            ),
        ),
        Facet("year", "the period's year (null when unknown)", observation.c.year),
        Facet("qualifier", "exact, about, more_than, ...", observation.c.qualifier),
        Facet("subject_kind", "place, cluster or program", observation.c.subject_kind),
        Facet("derived", "computed by the atlas from stated values", observation.c.derived),
        Facet(
            "conflict", "contradicted by another fact of the same period", observation.c.conflict
        ),
        Facet("source", "the source document", observation.c.source_id, labels=t.source, key="id"),
        Facet("place", "the place of the subject", observation.c.place_id, labels=t.place),
        province_facet(observation.c.place_id, t.place),
    ),
)


METRICS = Resource(
    name="metrics",
    noun="metric",
    tag=METRICS_TAG,
    search=BY_KIND["metric"],
    table=t.observation,
    key=PathKey("key", "key", "metric_key", "daye-high-tech-enterprises-2023", max_length=120),
    spec=METRIC_SPEC,
    page=MetricPage,
    summary="List metrics",
    description=(
        "Observations of indicators, each with its indicator, subject, period, normalized and"
        " stated value, qualifier, derivation and provenance (source and character span)."
    ),
    detail=Detail(
        Metric,
        summary="Get one metric by key",
        description="One observation with its indicator, subject, period, qualifier and the"
        " quoted sentence of its source.",
    ),
)
