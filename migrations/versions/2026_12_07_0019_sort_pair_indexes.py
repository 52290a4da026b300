"""sort pair indexes: a year or a period end, then the value, in one index

A sort by a year or a period end and then the value (`sort=year,-value`,
`sort=-period_end,value`) had no index serving both keys: each run of equal first keys
(120,000 rows at 3M) was walked along the value index or read whole and sorted
(app.query.runs), 0.24-0.36 s a page in process. With the value after the first key in one
index, each run is one index range in value order (in either direction), and the page reads
only the rows it keeps: 16-59 ms.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_observation_year_value_id", "observation", ["year", "value", "id"], unique=False
    )
    op.create_index(
        "ix_observation_period_end_value_id",
        "observation",
        ["period_end", "value", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_observation_period_end_value_id", table_name="observation")
    op.drop_index("ix_observation_year_value_id", table_name="observation")
