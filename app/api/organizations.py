"""`/organizations`: enterprises, universities, institutes, agencies and platforms, each
with its relations; and `/relations`, those links listed and filtered by either end (a
relation's shape, shared with the details that embed it, is in app.api.relations)."""

from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, or_, select

from app.api.places import located_filters
from app.api.relations import (
    RelationView,
    relation,
    relation_views,
    relations_select,
    serialize_relation,
)
from app.api.resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from app.api.shapes import (
    PlaceRef,
    Provenance,
    Row,
    Schema,
    labelled,
    page_of,
    place_ref,
    provenance,
    provenance_columns,
)
from app.facts.search import BY_KIND
from app.models import tables as t
from app.models.vocabulary import OrganizationKind, RelationRole
from app.paths import API_PREFIX
from app.query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet, province_facet
from app.query.lookups import by_key, names, within
from app.query.search import search_filter
from app.query.spec import Keys, Lookup
from app.query.statements import slot

ORGANIZATIONS_TAG = Tag("organizations", "Enterprises, universities, institutes, agencies.")


class Organization(Schema):
    slug: str
    name: str
    kind: OrganizationKind
    place: PlaceRef | None
    place_source: str | None = Field(
        description="Id of the reference source of the home place when the document omits it.",
    )
    description: str | None
    provenance: Provenance
    url: str


OrganizationPage = page_of(Organization, "OrganizationPage")


class OrganizationDetail(Organization):
    relations: list[RelationView]


organization = t.organization
organization_place = t.place.alias("organization_place")


def organizations_select() -> Select[Any]:
    return select(
        organization.c.slug,
        organization.c.name,
        organization.c.kind,
        organization.c.place_source_id,
        organization.c.description,
        *labelled("place", organization_place, "slug", "name", "level"),
        *provenance_columns(organization, t.source),
    ).select_from(
        organization.outerjoin(
            organization_place, organization_place.c.id == organization.c.place_id
        ).join(t.source, t.source.c.id == organization.c.source_id)
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
    id_column=organization.c.id,
    filters=(
        search_filter(BY_KIND["organization"], organization.c.id),
        Filter("slug", "Organization slug.", column=organization.c.slug, example="iflytek"),
        Filter(
            "name", "Name.", operators=TEXT_OPERATORS, column=organization.c.name, example="iFlytek"
        ),
        Filter(
            "kind",
            "enterprise, university, institute, agency or platform.",
            operators=SET_OPERATORS,
            column=organization.c.kind,
            choices=tuple(OrganizationKind),
            example="enterprise",
        ),
        *located_filters(
            organization.c.place_id,
            place="Slug of the organization's home place.",
            city="City slug: organizations in the city or inside it.",
            anywhere="Slug of any place the organization lies in.",
            examples=("hefei", "hefei", "anhui", "china"),
        ),
    ),
    sorts=(
        Sort("name", organization.c.name, str),
        Sort("slug", organization.c.slug, str),
        Sort("kind", organization.c.kind, str),
    ),
    default_sort=("name",),
    fields=tuple(Organization.model_fields),
    serialize=serialize_organization,
    facets=(
        Facet("kind", "the organization's kind", organization.c.kind),
        Facet("place", "the organization's home place", organization.c.place_id, labels=t.place),
        province_facet(organization.c.place_id, t.place),
    ),
)


def _relations(
    connection: Connection, found: Found, _item: dict[str, Any], _context: DetailContext
) -> dict[str, Any]:
    either_end = or_(relation.c.organization_id == slot("id"), relation.c.partner_id == slot("id"))
    return {"relations": relation_views(connection, "organization", either_end, found.id)}


ORGANIZATIONS = Resource(
    name="organizations",
    noun="organization",
    tag=ORGANIZATIONS_TAG,
    search=BY_KIND["organization"],
    table=t.organization,
    key=PathKey("slug", "slug", "organization_slug", "iflytek"),
    spec=ORGANIZATION_SPEC,
    page=OrganizationPage,
    summary="List organizations",
    description="Enterprises, universities, institutes, agencies and platforms.",
    detail=Detail(
        OrganizationDetail,
        summary="Get an organization",
        description="An organization with its relations to places, clusters, programs and"
        " partners.",
        more=_relations,
    ),
)


class Relation(RelationView):
    """A relation in the relations list (`fields=` gives a `RelationFieldsPage`)."""


RelationPage = page_of(Relation, "RelationPage")


def _involving(keys: Keys) -> Select[Any]:
    """Relations with one of the named organizations at either end."""
    named = select(t.organization.c.id).where(t.organization.c.slug.in_(keys))
    return select(relation.c.id.label("id")).where(
        or_(relation.c.organization_id.in_(named), relation.c.partner_id.in_(named))
    )


RELATION_SPEC = ListSpec(
    name="relations",
    base=relations_select,
    id_column=relation.c.id,
    filters=(
        Filter("role", "The kind of link.", operators=SET_OPERATORS, column=relation.c.role,
               choices=tuple(RelationRole), example="leading_enterprise"),
        Filter("organization", "Slug of the organization the link is stated for.",
               column=relation.c.organization_id, lookup=by_key(t.organization),
               example="iflytek"),
        Filter("partner", "Slug of the partner organization (the other end).",
               column=relation.c.partner_id, lookup=by_key(t.organization), example="iflytek"),
        Filter("involving", "Slug of an organization at either end.", column=relation.c.id,
               lookup=Lookup(_involving, names(t.organization)), example="iflytek"),
        Filter("place", "Slug of a place the organization is linked to, or a place inside it.",
               column=relation.c.place_id, lookup=within(), example="hefei"),
        Filter("cluster", "Slug of the cluster linked to.", column=relation.c.cluster_id,
               lookup=by_key(t.cluster), example="hefei-intelligent-voice"),
        Filter("program", "Slug of the program linked to (issuers, say).",
               column=relation.c.program_id, lookup=by_key(t.program),
               example="manufacturing-city-tech-transformation-pilot"),
        Filter("source", "Source id.", column=relation.c.source_id, lookup=by_key(t.source, "id"),
               example="std-2022-12-29-digital-clusters"),
    ),
    sorts=(
        Sort("key", relation.c.key, str),
        Sort("role", relation.c.role, str),
        Sort("id", relation.c.id, int),
    ),
    default_sort=("key",),
    fields=tuple(Relation.model_fields),
    serialize=serialize_relation,
    facets=(Facet("role", "the kind of link", relation.c.role),),
)  # fmt: skip

RELATIONS = Resource(
    name="relations",
    noun="relation",
    tag=ORGANIZATIONS_TAG,
    search=None,
    table=relation,
    spec=RELATION_SPEC,
    page=RelationPage,
    summary="List relations",
    description="Organizations' links to places, clusters, programs and partner"
    " organizations, with the quote each is read from.",
)
