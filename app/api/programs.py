"""`/programs`: policies, pilots, plans and strategies, with issuers, places and terms."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection, Select, select

from app.api import tables as t
from app.api.deps import in_database, no_query_parameters
from app.api.metrics import METRIC_SPEC, metrics_select, serialize_metric
from app.api.organizations import relation_views
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route, add_nested_list_route, exists_in
from app.api.schemas import MetricPage, Program, ProgramDetail, ProgramPage
from app.api.shapes import API_PREFIX, Row, labelled, place_ref, provenance, provenance_columns
from app.errors import ProblemError
from app.models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, ProgramKind
from app.query import RANGE_OPERATORS, SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_facet
from app.query.relations import by_key, covering, through, within
from app.query.search import search_filter

g = t.program
program_place = t.place.alias("program_place_ref")


def programs_select() -> Select[Any]:
    return select(
        g.c.slug,
        g.c.name,
        g.c.kind,
        g.c.announced_on,
        g.c.announced_precision,
        g.c.eligibility,
        g.c.funding,
        g.c.description,
        g.c.ambiguity,
        *labelled("place", program_place, "slug", "name", "level"),
        *provenance_columns(g, t.source),
    ).select_from(
        g.join(program_place, program_place.c.id == g.c.place_id).join(
            t.source, t.source.c.id == g.c.source_id
        )
    )


def serialize_program(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["name"],
        "kind": row["kind"],
        "place": place_ref(row, "place"),
        "announced_on": row["announced_on"],
        "announced_precision": row["announced_precision"],
        "eligibility": row["eligibility"],
        "funding": row["funding"],
        "description": row["description"],
        "ambiguity": row["ambiguity"],
        "provenance": provenance(row),
        "url": f"{API_PREFIX}/programs/{row['slug']}",
    }


PROGRAM_SPEC = ListSpec(
    name="programs",
    base=programs_select,
    id_column=g.c.id,
    filters=(
        search_filter("program", g.c.id),
        Filter(
            "slug",
            "Program slug.",
            column=g.c.slug,
            example="manufacturing-city-tech-transformation-pilot",
        ),
        Filter("name", "Name.", operators=TEXT_OPERATORS, column=g.c.name, example="pilot"),
        Filter(
            "kind",
            "pilot, plan, strategy, designation or project.",
            operators=SET_OPERATORS,
            column=g.c.kind,
            choices=tuple(ProgramKind),
            example="pilot",
        ),
        Filter(
            "place",
            "Slug of the place whose authorities run the program.",
            column=g.c.place_id,
            relation=by_key(t.place),
            example="china",
        ),
        Filter(
            "city",
            "City slug: programs of the city or of places inside it.",
            column=g.c.place_id,
            relation=within(CITY_LEVELS),
            example="daye",
        ),
        Filter(
            "province",
            "Province slug.",
            column=g.c.place_id,
            relation=within(PROVINCE_LEVELS),
            example="hunan",
        ),
        Filter(
            "within",
            "Slug of any place the program's place lies in.",
            column=g.c.place_id,
            relation=within(),
            example="china",
        ),
        Filter(
            "covers",
            "Slug of a place the program covers: programs at the place, at a place containing"
            " it (national programs cover every province), inside it, or linked to any of"
            " those places (candidates, participants, scope).",
            column=g.c.id,
            relation=covering(),
            example="hubei",
        ),
        Filter(
            "issuer",
            "Slug of an issuing organization.",
            column=g.c.id,
            relation=through(
                t.relation.c.program_id,
                t.relation.c.organization_id,
                t.organization,
                "slug",
                t.relation.c.role == "issuer",
            ),
            example="ministry-of-finance",
        ),
        Filter(
            "announced",
            "First day of the announcement's period.",
            date,
            RANGE_OPERATORS,
            column=g.c.announced_on,
            example="2024-04-01",
        ),
    ),
    sorts=(
        Sort("name", g.c.name, str),
        Sort("slug", g.c.slug, str),
        Sort("announced", g.c.announced_on, date, nullable=True),
    ),
    default_sort=("name",),
    fields=tuple(Program.model_fields),
    serialize=serialize_program,
    facets=(
        Facet("kind", "the program's kind", g.c.kind),
        Facet("place", "the program's place", g.c.place_id, labels=t.place),
        province_facet(g.c.place_id, t.place),
    ),
)

router = APIRouter(tags=["programs"])

add_list_route(
    router,
    "/programs",
    PROGRAM_SPEC,
    operation_id="list_programs",
    summary="List programs",
    description="Policies, pilots, plans, strategies, designations and projects.",
    page_model=ProgramPage,
)
add_nested_list_route(
    router,
    "/programs/{program_slug}/metrics",
    METRIC_SPEC,
    fixed_filter="program",
    parent="program",
    path_parameter="program_slug",
    exists=exists_in(t.program),
    operation_id="list_program_metrics",
    summary="List a program's metrics (its terms)",
    page_model=MetricPage,
)


@router.get(
    "/programs/{slug}",
    operation_id="get_program",
    summary="Get a program",
    description="A program with its issuers, the places it concerns and its terms.",
    response_class=RawJSON,
    responses={200: {"model": ProgramDetail}, **problem_responses(400, 404, 422, 503)},
    dependencies=[Depends(no_query_parameters)],
)
async def get_program(
    request: Request,
    slug: Annotated[
        str,
        Path(
            pattern=SLUG_PATTERN,
            max_length=64,
            examples=["manufacturing-city-tech-transformation-pilot"],
        ),
    ],
) -> RawJSON:
    return RawJSON(await in_database(request, lambda c: to_json(_program_detail(c, slug))))


def _program_detail(connection: Connection, slug: str) -> dict[str, Any]:
    row = (
        connection.execute(programs_select().add_columns(g.c.id).where(g.c.slug == slug))
        .mappings()
        .first()
    )
    if row is None:
        raise ProblemError(404, "not-found", f"no program {slug!r}")
    pp = t.program_place
    linked_place = t.place.alias("linked_place")
    places = connection.execute(
        select(
            pp.c.role,
            pp.c.note,
            *labelled("place", linked_place, "slug", "name", "level"),
            *provenance_columns(pp, t.source),
        )
        .select_from(
            pp.join(linked_place, linked_place.c.id == pp.c.place_id).join(
                t.source, t.source.c.id == pp.c.source_id
            )
        )
        .where(pp.c.program_id == row["id"])
        .order_by(linked_place.c.name)
        .limit(500)
    ).mappings()
    terms = connection.execute(
        metrics_select()
        .where(t.observation.c.program_id == row["id"])
        .order_by(t.observation.c.id)
        .limit(100)
    ).mappings()
    return {
        **serialize_program(row),
        "issuers": relation_views(
            connection, (t.relation.c.program_id == row["id"]) & (t.relation.c.role == "issuer")
        ),
        "places": [
            {
                "place": place_ref(p, "place"),
                "role": p["role"],
                "note": p["note"],
                "provenance": provenance(p),
            }
            for p in places
        ],
        "terms": [serialize_metric(m) for m in terms],
        "links": {"metrics": f"{API_PREFIX}/programs/{slug}/metrics"},
    }
