"""`/organizations`: enterprises, universities, institutes, agencies and platforms, each
with its relations; and `/relations`, those links listed and filtered by either end (a
relation's shape, shared with the details that embed it, is in app.api.relations)."""

from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, or_, select

from ..facts.search import BY_KIND
from ..models import tables as t
from ..models.vocabulary import OrganizationKind, RelationRole
from ..query import SET_OPERATORS, Filter, ListSpec, Sort, choice_filter
from ..query.facets import Facet
from ..query.lookups import by_key, names, within
from ..query.spec import Keys, Lookup
from ..query.statements import slot
from .located import HomePlace, Located, located_item, located_select, located_spec
from .relations import (
    RelationView,
    relation,
    relation_views,
    relations_select,
    serialize_relation,
)
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .shapes import PlaceRef, Provenance, Row, Schema, page_of, place_ref

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
    own = (organization.c.kind, organization.c.place_source_id, organization.c.description)
    return located_select(organization, organization_place, *own, optional=True)


def serialize_organization(row: Row) -> dict[str, Any]:
    return located_item(
        row,
        "organizations",
        kind=row["kind"],
        place=place_ref(row, "place"),
        place_source=row["place_source_id"],
        description=row["description"],
    )


ORGANIZATION_SPEC = located_spec(
    Located(
        name="organizations",
        noun="organization",
        table=organization,
        base=organizations_select,
        schema=Organization,
        serialize=serialize_organization,
        examples=("iflytek", "iFlytek"),
        home=HomePlace(
            place="Slug of the organization's home place.",
            city="City slug: organizations in the city or inside it.",
            anywhere="Slug of any place the organization lies in.",
            examples=("hefei", "hefei", "anhui", "china"),
            facet="the organization's home place",
        ),
        own=(choice_filter("kind", organization.c.kind, OrganizationKind, "enterprise"),),
        sort=Sort("kind", organization.c.kind, str),
        facets=(Facet("kind", "the organization's kind", organization.c.kind),),
    )
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
