from sqlalchemy import CheckConstraint, Text
from sqlmodel import Column, Field

from .evidence import Evidence, counted_as
from .vocabulary import OrganizationKind, RelationRole, check_in


class Organization(Evidence, table=True):
    __table_args__ = (
        CheckConstraint(check_in("kind", OrganizationKind), name="kind"),
        counted_as("organizations"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    # The source of the home place when the document does not state it (a reference).
    place_source_id: str | None = Field(default=None, foreign_key="source.id", max_length=64)
    description: str | None = Field(default=None, sa_column=Column(Text))


class Relation(Evidence, table=True):
    """An organization's link to a place, a cluster, a program or another organization."""

    __table_args__ = (
        CheckConstraint(check_in("role", RelationRole), name="role"),
        CheckConstraint(
            "(CASE WHEN place_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN cluster_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN program_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN partner_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        counted_as("relations"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    role: str = Field(max_length=24)
    place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", index=True)
    program_id: int | None = Field(default=None, foreign_key="program.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    note: str | None = Field(default=None, sa_column=Column(Text))
