"""former division codes: the codes official tables give places that they no longer have

A county made a district, or a prefecture made a city, takes a new GB/T 2260 code; the
census tables of 2010 and 2020 give many places under the code they had then. Each such
code is kept with the place, the table's year and the cell it was read from, so a query by
an old code finds the place it names today.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-06 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "former_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("name_local", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("locator_row", sa.Integer(), nullable=False),
        sa.Column("locator_column", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["place.id"], name=op.f("fk_former_code_place_id_place")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_former_code_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_former_code")),
        sa.UniqueConstraint(
            "source_id", "locator_row", name=op.f("uq_former_code_source_id_locator_row")
        ),
    )
    with op.batch_alter_table("former_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_former_code_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_former_code_place_id"), ["place_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("former_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_former_code_place_id"))
        batch_op.drop_index(batch_op.f("ix_former_code_code"))

    op.drop_table("former_code")
