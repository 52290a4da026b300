"""standings indexes: each indicator's picked facts with the columns a standing counts

A place's standings count, for each indicator it has a value of, the peers above, level
with and below it, and those sharing its period and level (app.query.standings). Every
existing index of the indicator left each peer's place, period and subject to be read from
the table, a row at a time, scattered over it: at 3M rows the latest facts of 40
indicators took seconds. These hold every column the counts read, for the latest facts
(only those: about one fact in 25 at scale) and for a year's, where its place's other facts
of the year are found next to each one.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_observation_indicator_latest_place",
        "observation",
        ["indicator_id", "latest", "subject_kind", "place_id", "value", "period_start",
         "period_end", "id"],
        unique=False,
        sqlite_where=sa.text("latest = 1"),
        postgresql_where=sa.text("latest"),
    )  # fmt: skip
    op.create_index(
        "ix_observation_indicator_year_place",
        "observation",
        ["indicator_id", "year", "subject_kind", "place_id", "value", "period_start",
         "period_end", "id"],
        unique=False,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_observation_indicator_year_place", table_name="observation")
    op.drop_index("ix_observation_indicator_latest_place", table_name="observation")
