"""`/sources`: the documents facts come from, with their checksums and treatment notes."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, Select, func, select

from app.api import tables as t
from app.api.citations import bibtex, csl_json
from app.api.deps import in_database, no_query_parameters
from app.api.metrics import METRIC_SPEC
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route, add_nested_list_route, exists_in
from app.api.schemas import MetricPage, Source, SourceDetail, SourcePage
from app.api.shapes import API_PREFIX, Row
from app.errors import ProblemError
from app.models.vocabulary import SourceKind
from app.query import RANGE_OPERATORS, SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet
from app.query.search import search_filter
from app.query.snapshot import snapshot_version

s = t.source
_COLUMNS = (
    "id",
    "kind",
    "title",
    "publisher",
    "author",
    "published_on",
    "date_note",
    "file_name",
    "sha256",
    "treatment",
)
_FACT_TABLES = {
    "observations": t.observation,
    "organizations": t.organization,
    "clusters": t.cluster,
    "programs": t.program,
    "relations": t.relation,
    "program_places": t.program_place,
    "places": t.place,
}


def sources_select() -> Select[Any]:
    return select(*(s.c[name] for name in _COLUMNS))


def serialize_source(row: Row) -> dict[str, Any]:
    return {**{name: row[name] for name in _COLUMNS}, "url": f"{API_PREFIX}/sources/{row['id']}"}


SOURCE_SPEC = ListSpec(
    name="sources",
    base=sources_select,
    id_column=s.c.id,
    filters=(
        search_filter("source", s.c.id),
        Filter("id", "Source id.", column=s.c.id, example="std-2024-03-25-daye"),
        Filter(
            "kind",
            "document, reference or synthetic.",
            operators=SET_OPERATORS,
            column=s.c.kind,
            choices=tuple(SourceKind),
            example="document",
        ),
        Filter(
            "publisher",
            "Publisher.",
            operators=TEXT_OPERATORS,
            column=s.c.publisher,
            example="China Daily",
        ),
        Filter("title", "Title.", operators=("contains",), column=s.c.title, example="pilot"),
        Filter(
            "published",
            "Publication date.",
            date,
            RANGE_OPERATORS,
            column=s.c.published_on,
            example="2024-03-25",
        ),
    ),
    sorts=(
        Sort("id", s.c.id, str),
        Sort("title", s.c.title, str),
        Sort("published", s.c.published_on, date, nullable=True),
    ),
    default_sort=("id",),
    fields=tuple(Source.model_fields),
    serialize=serialize_source,
    facets=(
        Facet("kind", "the source's kind", s.c.kind),
        Facet("publisher", "the source's publisher", s.c.publisher),
    ),
)

router = APIRouter(tags=["sources"])

add_list_route(
    router,
    "/sources",
    SOURCE_SPEC,
    operation_id="list_sources",
    summary="List sources",
    description="Documents and references, with checksums and how each capture was treated.",
    page_model=SourcePage,
)
add_nested_list_route(
    router,
    "/sources/{source_id}/metrics",
    METRIC_SPEC,
    fixed_filter="source",
    parent="source",
    path_parameter="source_id",
    exists=exists_in(t.source, key="id"),
    operation_id="list_source_metrics",
    summary="List the metrics a source states",
    page_model=MetricPage,
)


@router.get(
    "/sources/{id}",
    operation_id="get_source",
    summary="Get a source",
    description="A source with the number of facts of each kind taken from it.",
    response_class=RawJSON,
    responses={200: {"model": SourceDetail}, **problem_responses(400, 404, 422, 503)},
    dependencies=[Depends(no_query_parameters)],
)
async def get_source(
    request: Request,
    id: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64, examples=["std-2024-03-25-daye"])],
) -> RawJSON:
    return RawJSON(
        await in_database(request, lambda c: to_json(_source_detail(c, id, snapshot_version(c))))
    )


def _source_detail(connection: Connection, id: str, version: str) -> dict[str, Any]:
    statement = sources_select().add_columns(s.c.url.label("original_url")).where(s.c.id == id)
    row = connection.execute(statement).mappings().first()
    if row is None:
        raise ProblemError(404, "not-found", f"no source {id!r}")
    facts = {
        name: int(
            connection.execute(select(func.count()).where(table.c.source_id == id)).scalar_one()
        )
        for name, table in _FACT_TABLES.items()
    }
    return {
        **serialize_source(row),
        "facts": facts,
        "citation": {"csl": csl_json(dict(row), version), "bibtex": bibtex(dict(row), version)},
        "links": {"metrics": f"{API_PREFIX}/sources/{id}/metrics"},
    }
