"""former code history: the years a former code was in use, and what became of its area

The history of the division codes (seeds/divisions/code-history.csv) gives every code no
longer in use with the years it was, and the codes its area went to. A code can now be a
former code of several places (a district split among two), so a source row is unique per
place; `change` says whether the division under the code is the place itself under another
code (recoded), part of it (merged) or shared among several (split). The census tables'
former codes are recoded ones.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGES = "change IN ('recoded', 'merged', 'split')"
YEARS = "valid_to IS NULL OR valid_from <= valid_to"


def upgrade() -> None:
    with op.batch_alter_table("former_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "change",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="recoded",  # what the census tables' former codes are
            )
        )
        batch_op.drop_constraint(batch_op.f("uq_former_code_source_id_locator_row"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_former_code_source_id_locator_row_place_id"),
            ["source_id", "locator_row", "place_id"],
        )
        batch_op.create_check_constraint("change", CHANGES)
        batch_op.create_check_constraint("valid_years", YEARS)
    with op.batch_alter_table("former_code", schema=None) as batch_op:
        batch_op.alter_column("change", server_default=None)


def downgrade() -> None:
    op.execute("DELETE FROM former_code WHERE valid_from IS NOT NULL")
    with op.batch_alter_table("former_code", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_former_code_valid_years"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_former_code_change"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("uq_former_code_source_id_locator_row_place_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_former_code_source_id_locator_row"), ["source_id", "locator_row"]
        )
        batch_op.drop_column("change")
        batch_op.drop_column("valid_to")
        batch_op.drop_column("valid_from")
