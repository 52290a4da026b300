"""`/relations`: organizations' links (partners, leading enterprises, branches, issuers,
platforms...) to places, clusters, programs and each other, filterable by either end."""

from typing import Any

from sqlalchemy import Select, or_, select

from app.api.organizations import ORGANIZATIONS_TAG
from app.api.relationships import RelationView, relation, relations_select, serialize_relation
from app.api.resource import Resource
from app.api.shapes import page_of
from app.models import tables as t
from app.models.vocabulary import RelationRole
from app.query import SET_OPERATORS, Filter, ListSpec, Sort
from app.query.facets import Facet
from app.query.lookups import by_key, within
from app.query.spec import Keys, Lookup


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
               lookup=Lookup(_involving), example="iflytek"),
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
