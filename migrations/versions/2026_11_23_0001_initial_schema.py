"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:39:38.384339
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_category"), ["category"], unique=False)

    op.create_table(
        "source",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("publisher", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("date_note", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("treatment", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('document', 'reference', 'synthetic')", name="kind"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_local", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("province_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.CheckConstraint(
            "level IN ('country', 'province', 'municipality', 'sar', 'prefecture_city', 'county_city', 'district')",
            name="level",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index("ix_place_level_name", ["level", "name", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_place_province_level_name", ["province_id", "level", "name", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_place_source_id"), ["source_id"], unique=False)

    op.create_table(
        "cluster",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sector", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('established', 'developing', 'aspired')", name="status"),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("cluster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cluster_sector"), ["sector"], unique=False)
        batch_op.create_index(batch_op.f("ix_cluster_source_id"), ["source_id"], unique=False)

    op.create_table(
        "organization",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('enterprise', 'university', 'institute', 'agency', 'platform')", name="kind"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organization_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_organization_source_id"), ["source_id"], unique=False)

    op.create_table(
        "place_ancestor",
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.PrimaryKeyConstraint("place_id", "ancestor_id"),
    )
    with op.batch_alter_table("place_ancestor", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_place_ancestor_ancestor_id"), ["ancestor_id"], unique=False
        )

    op.create_table(
        "program",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=True),
        sa.Column(
            "announced_precision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False
        ),
        sa.Column("eligibility", sa.Text(), nullable=True),
        sa.Column("funding", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("ambiguity", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "announced_precision IN ('day', 'month', 'year', 'range', 'unknown')", name="precision"
        ),
        sa.CheckConstraint(
            "kind IN ('pilot', 'plan', 'strategy', 'designation', 'project')", name="kind"
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_program_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_program_source_id"), ["source_id"], unique=False)

    op.create_table(
        "observation",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("period_label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("period_precision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("stated", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("derived", sa.Boolean(), nullable=False),
        sa.Column("formula", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("ambiguity", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(subject_kind = 'place' AND cluster_id IS NULL AND program_id IS NULL) OR (subject_kind = 'cluster' AND cluster_id IS NOT NULL AND program_id IS NULL) OR (subject_kind = 'program' AND program_id IS NOT NULL AND cluster_id IS NULL)",
            name="subject",
        ),
        sa.CheckConstraint(
            "period_precision IN ('day', 'month', 'year', 'range', 'unknown')", name="precision"
        ),
        sa.CheckConstraint(
            "qualifier IN ('exact', 'approximate', 'more_than', 'at_least', 'less_than', 'up_to')",
            name="qualifier",
        ),
        sa.CheckConstraint("subject_kind IN ('place', 'cluster', 'program')", name="subject_kind"),
        sa.CheckConstraint("derived = (formula IS NOT NULL)", name="derived_formula"),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster.id"],
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicator.id"],
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observation_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(
            "ix_observation_indicator_value", ["indicator_id", "value", "id"], unique=False
        )
        batch_op.create_index(
            "ix_observation_indicator_year_value",
            ["indicator_id", "year", "value", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_observation_place_indicator_year",
            ["place_id", "indicator_id", "year", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_observation_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_observation_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_observation_year"), ["year"], unique=False)

    op.create_table(
        "program_place",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("role IN ('candidate', 'participant', 'scope')", name="role"),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("program_id", "place_id", "role"),
    )
    with op.batch_alter_table("program_place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_place_place_id"), ["place_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_program_place_program_id"), ["program_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_program_place_source_id"), ["source_id"], unique=False)

    op.create_table(
        "relation",
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_start", sa.Integer(), nullable=True),
        sa.Column("locator_end", sa.Integer(), nullable=True),
        sa.Column("quote", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("program_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "role IN ('partner', 'branch', 'leading_enterprise', 'issuer', 'publisher', 'platform', 'data_source')",
            name="role",
        ),
        sa.CheckConstraint(
            "(CASE WHEN place_id IS NULL THEN 0 ELSE 1 END + CASE WHEN cluster_id IS NULL THEN 0 ELSE 1 END + CASE WHEN program_id IS NULL THEN 0 ELSE 1 END + CASE WHEN partner_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["cluster.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["place.id"],
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["program.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relation_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_relation_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_relation_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relation_source_id"), ["source_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("relation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relation_source_id"))
        batch_op.drop_index(batch_op.f("ix_relation_program_id"))
        batch_op.drop_index(batch_op.f("ix_relation_place_id"))
        batch_op.drop_index(batch_op.f("ix_relation_partner_id"))
        batch_op.drop_index(batch_op.f("ix_relation_organization_id"))
        batch_op.drop_index(batch_op.f("ix_relation_cluster_id"))

    op.drop_table("relation")
    with op.batch_alter_table("program_place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_place_source_id"))
        batch_op.drop_index(batch_op.f("ix_program_place_program_id"))
        batch_op.drop_index(batch_op.f("ix_program_place_place_id"))

    op.drop_table("program_place")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_year"))
        batch_op.drop_index(batch_op.f("ix_observation_source_id"))
        batch_op.drop_index(batch_op.f("ix_observation_program_id"))
        batch_op.drop_index("ix_observation_place_indicator_year")
        batch_op.drop_index("ix_observation_indicator_year_value")
        batch_op.drop_index("ix_observation_indicator_value")
        batch_op.drop_index(batch_op.f("ix_observation_cluster_id"))

    op.drop_table("observation")
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_source_id"))
        batch_op.drop_index(batch_op.f("ix_program_place_id"))
        batch_op.drop_index(batch_op.f("ix_program_kind"))

    op.drop_table("program")
    with op.batch_alter_table("place_ancestor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_ancestor_ancestor_id"))

    op.drop_table("place_ancestor")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_source_id"))
        batch_op.drop_index(batch_op.f("ix_organization_place_id"))

    op.drop_table("organization")
    with op.batch_alter_table("cluster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_source_id"))
        batch_op.drop_index(batch_op.f("ix_cluster_sector"))
        batch_op.drop_index(batch_op.f("ix_cluster_place_id"))

    op.drop_table("cluster")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_source_id"))
        batch_op.drop_index("ix_place_province_level_name")
        batch_op.drop_index(batch_op.f("ix_place_parent_id"))
        batch_op.drop_index("ix_place_level_name")

    op.drop_table("place")
    op.drop_table("source")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_category"))

    op.drop_table("indicator")
