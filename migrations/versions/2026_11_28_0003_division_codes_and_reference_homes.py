"""division codes and coordinates on places; reference homes of organizations; untitled sources

Places gain their GB/T 2260 code (unique), coordinates, an index for their default
order (name), and the levels of China's
non-city divisions (prefecture, county). An organization's home place can name the
reference source it comes from. A source may have no title (a capture without a headline).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_LEVELS = (
    "level IN ('country', 'province', 'municipality', 'sar', 'prefecture_city',"
    " 'county_city', 'district')"
)
NEW_LEVELS = (
    "level IN ('country', 'province', 'municipality', 'sar', 'prefecture_city', 'prefecture',"
    " 'county_city', 'county', 'district')"
)


def upgrade() -> None:
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True)
        )
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_place_code"), ["code"])
        batch_op.create_index("ix_place_name_id", ["name", "id"], unique=False)
        batch_op.drop_constraint(batch_op.f("ck_place_level"), type_="check")
        batch_op.create_check_constraint("level", NEW_LEVELS)

    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("place_source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_organization_place_source_id_source"),
            "source",
            ["place_source_id"],
            ["id"],
        )

    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.alter_column(
            "title", existing_type=sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True
        )


def downgrade() -> None:
    op.execute("UPDATE source SET title = id WHERE title IS NULL")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.alter_column(
            "title", existing_type=sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False
        )

    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_organization_place_source_id_source"), type_="foreignkey"
        )
        batch_op.drop_column("place_source_id")

    # The levels go, and with them every place at or under a place of those levels (a
    # county-level city of a prefecture, say), so that no parent link is left dangling.
    op.execute(
        "DELETE FROM place_ancestor WHERE place_id IN"
        " (SELECT inside.place_id FROM place_ancestor AS inside"
        "  JOIN place AS above ON above.id = inside.ancestor_id"
        "  WHERE above.level IN ('prefecture', 'county'))"
    )
    op.execute("DELETE FROM place WHERE id NOT IN (SELECT place_id FROM place_ancestor)")
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_place_level"), type_="check")
        batch_op.create_check_constraint("level", OLD_LEVELS)
        batch_op.drop_index("ix_place_name_id")
        batch_op.drop_constraint(batch_op.f("uq_place_code"), type_="unique")
        batch_op.drop_column("latitude")
        batch_op.drop_column("longitude")
        batch_op.drop_column("code")
