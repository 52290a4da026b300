"""units vocabulary: an indicator's unit is one of the closed set, checked by the database

The seed schema and the API already allowed only CNY, count, percent, percentage_point
and rank; the table now refuses anything else, like every other vocabulary column.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 00:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: a migration keeps the vocabulary of its day.
UNITS = "unit IN ('CNY', 'count', 'percent', 'percentage_point', 'rank')"


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_check_constraint("unit", UNITS)


def downgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_indicator_unit"), type_="check")
