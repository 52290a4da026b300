"""`/organizations`, and the relations (partnerships, branches, leading enterprises, issuers)
that other resources show."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import ColumnElement, Connection, Select, or_, select

from app.api import tables as t
from app.api.deps import in_database, no_query_parameters
from app.api.responses import RawJSON, problem_responses, to_json
from app.api.routing import SLUG_PATTERN, add_list_route
from app.api.schemas import Organization, OrganizationDetail, OrganizationPage
from app.api.shapes import API_PREFIX, Row, labelled, place_ref, provenance, provenance_columns, ref
from app.errors import ProblemError
from app.models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, OrganizationKind
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_facet
from app.query.relations import by_key, within
from app.query.search import search_filter

org = t.organization
org_place = t.place.alias("org_place")


def organizations_select() -> Select[Any]:
    return select(
        org.c.slug,
        org.c.name,
        org.c.kind,
        org.c.place_source_id,
        org.c.description,
        *labelled("place", org_place, "slug", "name", "level"),
        *provenance_columns(org, t.source),
    ).select_from(
        org.outerjoin(org_place, org_place.c.id == org.c.place_id).join(
            t.source, t.source.c.id == org.c.source_id
        )
    )


def serialize_organization(row: Row) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "name": row["name"],
        "kind": row["kind"],
        "place": place_ref(row, "place"),
        "place_source": row["place_source_id"],
        "description": row["description"],
        "provenance": provenance(row),
        "url": f"{API_PREFIX}/organizations/{row['slug']}",
    }


ORGANIZATION_SPEC = ListSpec(
    name="organizations",
    base=organizations_select,
    id_column=org.c.id,
    filters=(
        search_filter("organization", org.c.id),
        Filter("slug", "Organization slug.", column=org.c.slug, example="iflytek"),
        Filter("name", "Name.", operators=TEXT_OPERATORS, column=org.c.name, example="iFlytek"),
        Filter(
            "kind",
            "enterprise, university, institute, agency or platform.",
            operators=SET_OPERATORS,
            column=org.c.kind,
            choices=tuple(OrganizationKind),
            example="enterprise",
        ),
        Filter(
            "place",
            "Slug of the organization's home place.",
            column=org.c.place_id,
            relation=by_key(t.place),
            example="hefei",
        ),
        Filter(
            "city",
            "City slug: organizations in the city or inside it.",
            column=org.c.place_id,
            relation=within(CITY_LEVELS),
            example="hefei",
        ),
        Filter(
            "province",
            "Province slug.",
            column=org.c.place_id,
            relation=within(PROVINCE_LEVELS),
            example="anhui",
        ),
        Filter(
            "within",
            "Slug of any place the organization lies in.",
            column=org.c.place_id,
            relation=within(),
            example="china",
        ),
    ),
    sorts=(
        Sort("name", org.c.name, str),
        Sort("slug", org.c.slug, str),
        Sort("kind", org.c.kind, str),
    ),
    default_sort=("name",),
    fields=tuple(Organization.model_fields),
    serialize=serialize_organization,
    facets=(
        Facet("kind", "the organization's kind", org.c.kind),
        Facet("place", "the organization's home place", org.c.place_id, labels=t.place),
        province_facet(org.c.place_id, t.place),
    ),
)

# Relations -----------------------------------------------------------------------------

r = t.relation
rel_org = t.organization.alias("rel_org")
rel_partner = t.organization.alias("rel_partner")
rel_place = t.place.alias("rel_place")
rel_cluster = t.cluster.alias("rel_cluster")
rel_program = t.program.alias("rel_program")
_TARGETS = (
    ("place", "places", rel_place),
    ("cluster", "clusters", rel_cluster),
    ("program", "programs", rel_program),
    ("organization", "organizations", rel_partner),
)


def relations_select() -> Select[Any]:
    return select(
        r.c.key,
        r.c.role,
        r.c.note,
        *labelled("org", rel_org, "slug", "name"),
        *(
            column
            for kind, _, table in _TARGETS
            for column in labelled(kind, table, "slug", "name")
        ),
        *provenance_columns(r, t.source),
    ).select_from(
        r.join(rel_org, rel_org.c.id == r.c.organization_id)
        .outerjoin(rel_place, rel_place.c.id == r.c.place_id)
        .outerjoin(rel_cluster, rel_cluster.c.id == r.c.cluster_id)
        .outerjoin(rel_program, rel_program.c.id == r.c.program_id)
        .outerjoin(rel_partner, rel_partner.c.id == r.c.partner_id)
        .join(t.source, t.source.c.id == r.c.source_id)
    )


def serialize_relation(row: Row) -> dict[str, Any]:
    kind, collection = next((k, c) for k, c, _ in _TARGETS if row[f"{k}_slug"] is not None)
    return {
        "key": row["key"],
        "role": row["role"],
        "organization": ref(row, "org", "organizations"),
        "target_kind": kind,
        "target": ref(row, kind, collection),
        "note": row["note"],
        "provenance": provenance(row),
    }


def relation_views(connection: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    statement = relations_select().where(where).order_by(r.c.key).limit(500)
    return [serialize_relation(row) for row in connection.execute(statement).mappings()]


router = APIRouter(tags=["organizations"])

add_list_route(
    router,
    "/organizations",
    ORGANIZATION_SPEC,
    operation_id="list_organizations",
    summary="List organizations",
    description="Enterprises, universities, institutes, agencies and platforms.",
    page_model=OrganizationPage,
)


@router.get(
    "/organizations/{slug}",
    operation_id="get_organization",
    summary="Get an organization",
    description="An organization with its relations to places, clusters, programs and partners.",
    response_class=RawJSON,
    responses={200: {"model": OrganizationDetail}, **problem_responses(400, 404, 422, 503)},
    dependencies=[Depends(no_query_parameters)],
)
async def get_organization(
    request: Request,
    slug: Annotated[str, Path(pattern=SLUG_PATTERN, max_length=64, examples=["iflytek"])],
) -> RawJSON:
    return RawJSON(await in_database(request, lambda c: to_json(_organization_detail(c, slug))))


def _organization_detail(connection: Connection, slug: str) -> dict[str, Any]:
    row = (
        connection.execute(organizations_select().add_columns(org.c.id).where(org.c.slug == slug))
        .mappings()
        .first()
    )
    if row is None:
        raise ProblemError(404, "not-found", f"no organization {slug!r}")
    relations = relation_views(
        connection, or_(r.c.organization_id == row["id"], r.c.partner_id == row["id"])
    )
    return {**serialize_organization(row), "relations": relations}
