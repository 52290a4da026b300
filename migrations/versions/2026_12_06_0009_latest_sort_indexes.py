"""latest with a sort: indexes on (latest, sort key, id)

`latest=true` with `sort=period_end` (or year, or value) had the flag's own index and the
sort key's, and neither served both: the planner walked the sort key's index testing the
flag row by row, and at 3M rows a page of the latest facts sorted by period end was
refused at the time budget. With the flag leading and the sort key next, the page is the
first rows of one index range (app.query.plan, rule 1).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_observation_latest_period_end_id": ["latest", "period_end", "id"],
    "ix_observation_latest_year_id": ["latest", "year", "id"],
    "ix_observation_latest_value_id": ["latest", "value", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "observation", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="observation")
