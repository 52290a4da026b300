"""`/indicators`: what is measured, with its unit and category."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, Select, func, select

from app.api import tables as t
from app.api.deps import in_database, no_query_parameters
from app.api.metrics import METRIC_SPEC
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route, add_nested_list_route, exists_in
from app.api.schemas import Indicator, IndicatorDetail, IndicatorPage, MetricPage
from app.api.shapes import API_PREFIX, Row
from app.errors import ProblemError
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet
from app.query.search import search_filter

i = t.indicator


def indicators_select() -> Select[Any]:
    return select(i.c.code, i.c.name, i.c.unit, i.c.category, i.c.description)


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
    id_column=i.c.id,
    filters=(
        search_filter("indicator", i.c.id),
        Filter("code", "Indicator code.", column=i.c.code, example="cluster_revenue"),
        Filter("name", "Name.", operators=TEXT_OPERATORS, column=i.c.name, example="enterprises"),
        Filter(
            "unit",
            "CNY, count, percent, percentage_point or rank.",
            operators=SET_OPERATORS,
            column=i.c.unit,
            choices=("CNY", "count", "percent", "percentage_point", "rank"),
            example="CNY",
        ),
        Filter(
            "category",
            "Category.",
            operators=SET_OPERATORS,
            column=i.c.category,
            example="innovation",
        ),
    ),
    sorts=(
        Sort("code", i.c.code, str),
        Sort("name", i.c.name, str),
        Sort("category", i.c.category, str),
    ),
    default_sort=("code",),
    fields=tuple(Indicator.model_fields),
    serialize=serialize_indicator,
    facets=(
        Facet("category", "the indicator's category", i.c.category),
        Facet("unit", "the indicator's unit", i.c.unit),
    ),
)

router = APIRouter(tags=["indicators"])

add_list_route(
    router,
    "/indicators",
    INDICATOR_SPEC,
    operation_id="list_indicators",
    summary="List indicators",
    description="What is measured, with units and categories.",
    page_model=IndicatorPage,
)
add_nested_list_route(
    router,
    "/indicators/{indicator_code}/metrics",
    METRIC_SPEC,
    fixed_filter="indicator",
    parent="indicator",
    path_parameter="indicator_code",
    exists=exists_in(t.indicator, key="code"),
    operation_id="list_indicator_metrics",
    summary="List an indicator's metrics",
    page_model=MetricPage,
)


@router.get(
    "/indicators/{code}",
    operation_id="get_indicator",
    summary="Get an indicator",
    description="What an indicator measures, in which unit, and how many metrics state it.",
    response_class=RawJSON,
    responses={200: {"model": IndicatorDetail}, **problem_responses(400, 404, 422, 503)},
    dependencies=[Depends(no_query_parameters)],
)
async def get_indicator(
    request: Request,
    code: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64, examples=["cluster_revenue"])],
) -> RawJSON:
    return RawJSON(await in_database(request, lambda c: to_json(_indicator_detail(c, code))))


def _indicator_detail(connection: Connection, code: str) -> dict[str, Any]:
    row = (
        connection.execute(indicators_select().add_columns(i.c.id).where(i.c.code == code))
        .mappings()
        .first()
    )
    if row is None:
        raise ProblemError(404, "not-found", f"no indicator {code!r}")
    metrics = connection.execute(
        select(func.count()).where(t.observation.c.indicator_id == row["id"])
    ).scalar_one()
    return {
        **serialize_indicator(row),
        "counts": {"metrics": metrics},
        "links": {"metrics": f"{API_PREFIX}/indicators/{code}/metrics"},
    }
