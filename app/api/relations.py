"""A relation (a partnership, a branch, a leading enterprise, an issuer...) as `/relations`
lists it and as the details of clusters, programs and organizations embed it."""

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from ..models import tables as t
from ..models.vocabulary import RelationRole
from ..query.statements import fetch_all
from .shapes import (
    Provenance,
    Ref,
    Row,
    Schema,
    labelled,
    provenance,
    provenance_columns,
    ref,
)


class RelationTarget(StrEnum):
    """What a relation links an organization to."""

    cluster = "cluster"
    program = "program"
    organization = "organization"
    place = "place"


class RelationView(Schema):
    key: str
    role: RelationRole
    organization: Ref
    target_kind: RelationTarget
    target: Ref
    note: str | None
    provenance: Provenance


relation = t.relation
stated_by = t.organization.alias("stated_by")
partner = t.organization.alias("partner")
linked_place = t.place.alias("linked_place")
linked_cluster = t.cluster.alias("linked_cluster")
linked_program = t.program.alias("linked_program")
# What a relation links its organization to: (target kind, collection, the joined table).
TARGETS = (
    ("place", "places", linked_place),
    ("cluster", "clusters", linked_cluster),
    ("program", "programs", linked_program),
    ("organization", "organizations", partner),
)


def relations_select() -> Select[Any]:
    return select(
        relation.c.key,
        relation.c.role,
        relation.c.note,
        *labelled("org", stated_by, "slug", "name"),
        *(column for kind, _, table in TARGETS for column in labelled(kind, table, "slug", "name")),
        *provenance_columns(relation, t.source),
    ).select_from(
        relation.join(stated_by, stated_by.c.id == relation.c.organization_id)
        .outerjoin(linked_place, linked_place.c.id == relation.c.place_id)
        .outerjoin(linked_cluster, linked_cluster.c.id == relation.c.cluster_id)
        .outerjoin(linked_program, linked_program.c.id == relation.c.program_id)
        .outerjoin(partner, partner.c.id == relation.c.partner_id)
        .join(t.source, t.source.c.id == relation.c.source_id)
    )


def serialize_relation(row: Row) -> dict[str, Any]:
    kind, collection = next((k, c) for k, c, _ in TARGETS if row[f"{k}_slug"] is not None)
    return {
        "key": row["key"],
        "role": row["role"],
        "organization": ref(row, "org", "organizations"),
        "target_kind": kind,
        "target": ref(row, kind, collection),
        "note": row["note"],
        "provenance": provenance(row),
    }


def relation_views(
    connection: Connection, name: str, where: ColumnElement[bool], row_id: Any
) -> list[dict[str, Any]]:
    """The relations `where` selects for the row `row_id` (bound to `slot("id")`), by key;
    `name` tells the shapes of `where` apart in the statement cache."""
    rows = fetch_all(
        connection,
        ("relations", name),
        lambda: relations_select().where(where).order_by(relation.c.key).limit(500),
        {"id": row_id},
    )
    return [serialize_relation(row) for row in rows]
