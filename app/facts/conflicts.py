"""Conflicting facts: different values of one indicator for one subject and one period.

Two facts conflict when they share the subject, the indicator and a known period (the same
start and end) and their values differ: two sources disagreeing, or a value the atlas
derived disagreeing with one a source states. Facts whose period is unknown never
conflict: nothing says they are about the same period (Changzhi's 224 high-tech
enterprises is the count at the start of an unnamed year, the 264 at its end).

Both facts are served, each naming the other in `conflicts_with`. Where one value must be
picked (latest values, rankings, the preferred point of a series) the rule of
`app.facts.latest` picks it: a stated value over a derived one, then the newer source,
then the higher key.
"""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    false,
    func,
    null,
    select,
    true,
    update,
)

from ..models import tables as t

o = t.observation
CONFLICT_RULE = (
    "Two facts conflict when they share the subject, the indicator and a known period (same"
    " start and end) but differ in value; both are served, each naming the other in"
    " `conflicts_with`. Where one must be picked (latest=true, rankings, a series point's"
    " `preferred`), a stated value beats a derived one, then a published statistical table's"
    " cell beats a document (the table is the primary source), then the newer source wins,"
    " then the higher key. Facts whose period is unknown never conflict."
)


def _unindexed(column: Any, default: Any = None) -> ColumnElement[Any]:
    return func.coalesce(column, column if default is None else default)


def same_fact(other: Any, outer: Any = o) -> ColumnElement[bool]:
    """`other` is about the subject, indicator and known period of `outer`, with another value."""
    return and_(
        other.c.place_id == outer.c.place_id,
        other.c.indicator_id == outer.c.indicator_id,
        other.c.subject_kind == outer.c.subject_kind,
        # The other's cluster, program and period are wrapped so that no index on them is
        # chosen: without statistics SQLite took the cluster_id index (IS NULL: every
        # place's fact) or the period_end one (every fact of a year) over the place and
        # indicator index, and marking 24k official values took 98 s instead of 0.2 s.
        _unindexed(other.c.cluster_id, 0) == func.coalesce(outer.c.cluster_id, 0),
        _unindexed(other.c.program_id, 0) == func.coalesce(outer.c.program_id, 0),
        # Equality on NULL is never true: undated facts drop out here.
        _unindexed(other.c.period_start) == outer.c.period_start,
        _unindexed(other.c.period_end) == outer.c.period_end,
        other.c.value != outer.c.value,
    )


def conflicts_column() -> ColumnElement[Any]:
    """The keys of the facts that conflict with each row, comma-separated (null: none).
    Looked up only for rows the loader marked, so a list or an export of unmarked rows
    pays nothing for it."""
    other = o.alias("conflicting")
    keys = select(func.aggregate_strings(other.c.key, ",")).where(same_fact(other))
    return case((o.c.conflict, keys.scalar_subquery()), else_=null()).label("conflicts_with")


def conflict_keys(text: str | None) -> list[str]:
    return sorted(text.split(",")) if text else []


def mark_conflicts(connection: Connection) -> None:
    """Set `observation.conflict` on every fact another one contradicts (after a load).
    Two statements that write only the rows whose mark changes: on PostgreSQL an UPDATE of
    an unchanged row still writes a new version of it."""
    other = o.alias("conflicting")
    contradicted = select(other.c.id).where(same_fact(other)).exists()
    connection.execute(
        update(o).where(o.c.conflict.is_(false()), contradicted).values(conflict=true())
    )
    connection.execute(
        update(o).where(o.c.conflict.is_(true()), ~contradicted).values(conflict=false())
    )
