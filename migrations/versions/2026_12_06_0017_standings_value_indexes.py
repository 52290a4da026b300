"""standings value indexes: each indicator's candidate facts in the order of their value

A place's standing counts, for each indicator, the peers above it and level with it
(app.query.standings). The 0016 indexes hold every column the counts read, but in the order
of the place, so each count read the indicator's whole range of candidates and looked up
each one's place: 120,000 rows for 40 indicators at 3M rows, some 150 ms on SQLite. In the
order of the value, the peers above a place are one range and those level with it another,
and where every candidate is of the group's level (known per dataset version, app.query.memo)
no place is read.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_observation_indicator_latest_value",
        "observation",
        ["indicator_id", "latest", "subject_kind", "value", "place_id", "period_start",
         "period_end"],
        unique=False,
        sqlite_where=sa.text("latest = 1"),
        postgresql_where=sa.text("latest"),
    )  # fmt: skip
    op.create_index(
        "ix_observation_indicator_year_kind_value",
        "observation",
        ["indicator_id", "year", "subject_kind", "value", "place_id", "period_start",
         "period_end"],
        unique=False,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_observation_indicator_year_kind_value", table_name="observation")
    op.drop_index("ix_observation_indicator_latest_value", table_name="observation")
