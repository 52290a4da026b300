"""`/indicators`: what is measured, with its unit and category."""

from typing import Any

from sqlalchemy import Select, select

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import Unit
from ..paths import API_PREFIX
from ..query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from ..query.facets import Facet
from ..query.search import search_filter
from .resource import Detail, PathKey, Resource, Tag
from .shapes import MetricsLink, Row, Schema, page_of

INDICATORS_TAG = Tag("indicators", "What is measured.")


class Indicator(Schema):
    code: str
    name: str
    unit: Unit
    category: str
    description: str
    url: str


IndicatorPage = page_of(Indicator, "IndicatorPage")


class IndicatorCounts(Schema):
    metrics: int


class IndicatorDetail(Indicator):
    counts: IndicatorCounts
    links: MetricsLink


indicator = t.indicator


def indicators_select() -> Select[Any]:
    return select(
        indicator.c.code,
        indicator.c.name,
        indicator.c.unit,
        indicator.c.category,
        indicator.c.description,
    )


def serialize_indicator(row: Row) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "unit": row["unit"],
        "category": row["category"],
        "description": row["description"],
        "url": f"{API_PREFIX}/indicators/{row['code']}",
    }


INDICATOR_SPEC = ListSpec(
    name="indicators",
    base=indicators_select,
    id_column=indicator.c.id,
    filters=(
        search_filter(BY_KIND["indicator"], indicator.c.id),
        Filter("code", "Indicator code.", column=indicator.c.code, example="cluster_revenue"),
        Filter(
            "name",
            "Name.",
            operators=TEXT_OPERATORS,
            column=indicator.c.name,
            example="enterprises",
        ),
        Filter(
            "unit",
            "CNY, count, percent, percentage_point or rank.",
            operators=SET_OPERATORS,
            column=indicator.c.unit,
            choices=tuple(Unit),
            example="CNY",
        ),
        Filter(
            "category",
            "Category.",
            operators=SET_OPERATORS,
            column=indicator.c.category,
            example="innovation",
        ),
    ),
    sorts=(
        Sort("code", indicator.c.code, str),
        Sort("name", indicator.c.name, str),
        Sort("category", indicator.c.category, str),
    ),
    default_sort=("code",),
    fields=tuple(Indicator.model_fields),
    serialize=serialize_indicator,
    facets=(
        Facet("category", "the indicator's category", indicator.c.category),
        Facet("unit", "the indicator's unit", indicator.c.unit),
    ),
)


INDICATORS = Resource(
    name="indicators",
    noun="indicator",
    tag=INDICATORS_TAG,
    search=BY_KIND["indicator"],
    table=t.indicator,
    key=PathKey("code", "code", "indicator_code", "cluster_revenue"),
    spec=INDICATOR_SPEC,
    page=IndicatorPage,
    summary="List indicators",
    description="What is measured, with units and categories.",
    detail=Detail(
        IndicatorDetail,
        summary="Get an indicator",
        description="What an indicator measures, in which unit, and how many metrics state it.",
        counts=True,
    ),
)
