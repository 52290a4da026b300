"""period year check: an observation's year is the year its period ends in

The list planner reads a run of one period end as that year's rows, so an index led by
the year can drive it (app.query.runs). The loaders have always written the year that
way; from here the database holds every row to it, and a row that breaks it is refused
instead of silently leaving pages out.

A database holding such rows is not changed: the upgrade stops and names how many. The
table is locked while the rows are checked: 5 s at 2.78M rows on PostgreSQL; SQLite
copies the table (2 min 18 s at 3M rows) and analyses it again (12 s).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ck_observation_period_year"


def _period_year() -> sa.ColumnElement[bool]:
    end, year = sa.column("period_end", sa.Date), sa.column("year", sa.Integer)
    return sa.or_(
        sa.and_(end.is_(None), year.is_(None)),
        sa.and_(
            end.is_not(None),
            year.is_not(None),
            sa.func.coalesce(year == sa.extract("year", end), sa.false()),
        ),
    )


def _refuse_rows_that_break_it() -> None:
    observation = sa.table("observation", sa.column("id"))
    broken = sa.select(sa.func.count()).select_from(observation).where(sa.not_(_period_year()))
    found = op.get_bind().execute(broken).scalar_one()
    if found:
        raise RuntimeError(
            f"{found} observation(s) have a year that is not the year of their period_end"
            " (or only one of the two): correct them, then upgrade again"
        )


def upgrade() -> None:
    _refuse_rows_that_break_it()
    analysed = _analysed()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_check_constraint("period_year", _period_year())
    _analyse_again(analysed)


def downgrade() -> None:
    analysed = _analysed()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(NAME), type_="check")
    _analyse_again(analysed)


def _analysed() -> bool:
    """Whether SQLite holds statistics of the observation table (every load and `atlas
    synth` runs ANALYZE). SQLite's batch mode copies the table to a new one and drops the
    old, and its statistics go with it: at 3M rows the planner then read a place's
    standings by the wrong index, refused at the 1 s budget where they took 11-32 ms."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    found = bind.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first()
    if found is None:
        return False
    rows = bind.exec_driver_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'observation' LIMIT 1")
    return rows.first() is not None


def _analyse_again(analysed: bool) -> None:
    if analysed:
        op.get_bind().exec_driver_sql("ANALYZE observation")
